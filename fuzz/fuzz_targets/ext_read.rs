//! Any bytes as an ext2/3/4 filesystem starting at byte 0, read by our own reader:
//! a tree or a `failed: …` region, never a panic, within small limits.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_ext_read(data);
});
