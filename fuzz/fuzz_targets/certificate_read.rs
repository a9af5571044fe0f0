//! Any bytes as an X.509 certificate (DER) and as PEM text of certificates, as `iotmark mud
//! --sign-cert` reads them: an error naming the offset, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_attest::cms::fuzz_certificate(data);
});
