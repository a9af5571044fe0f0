//! Any bytes as two versions (split at the first newline) in every version order: never a
//! panic, and the order is antisymmetric and reflexive.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_vulns::version::fuzz_version_compare(data);
});
