//! Any bytes as a flattened device tree / FIT image: images, hashes and signature nodes, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_fit_read(data);
});
