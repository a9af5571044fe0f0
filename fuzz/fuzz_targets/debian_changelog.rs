//! Any bytes as a Debian changelog, gzip-compressed or plain: entries with CVE IDs, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_debian_changelog(data);
});
