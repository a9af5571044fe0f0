//! Any bytes as a U-Boot legacy image: the payload walked, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_uimage_read(data);
});
