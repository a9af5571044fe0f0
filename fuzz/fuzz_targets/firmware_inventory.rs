//! Any bytes as file contents for the component inventory: package database parsing, the
//! anchor/regex version search, classification, kernel banners and the SBOM; never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_inventory(data);
});
