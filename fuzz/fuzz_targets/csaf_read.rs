//! Any bytes as a CSAF 2.0 document: advisories and statements or an error naming the
//! place, never a panic (product trees nest branches and relationships refer to each other).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_vulns::vex::fuzz_csaf_read(data);
});
