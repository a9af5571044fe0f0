//! Any bytes as an ar archive (.deb, .ipk): a tree and regions, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_ar_read(data);
});
