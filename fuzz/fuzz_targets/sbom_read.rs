//! Any bytes as an SBOM (CycloneDX or SPDX JSON): components or a precise error naming the
//! place, never a panic; every purl kept is one the matcher can read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(sbom) = iotmark_vulns::sbom::read_sbom("fuzz.json", data) {
        for c in &sbom.components {
            if let Some(purl) = &c.purl {
                assert!(iotmark_vulns::purl::Purl::parse(purl).is_some());
            }
        }
    }
});
