//! Any bytes as a newc cpio or tar archive: a tree and regions, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_cpio_tar_read(data);
});
