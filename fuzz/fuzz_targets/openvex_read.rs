//! Any bytes as an OpenVEX document, and through the format sniffing of `read_vex`:
//! statements or an error naming the place, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_vulns::vex::fuzz_openvex_read(data);
});
