//! Any bytes as CycloneDX VEX, with and without a BOM to resolve BOM-Links against:
//! statements or an error naming the place, never a panic (vers ranges included).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_vulns::vex::fuzz_cyclonedx_vex_read(data);
});
