//! Any bytes as a TRX or TP-Link firmware header: regions, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_trx_read(data);
});
