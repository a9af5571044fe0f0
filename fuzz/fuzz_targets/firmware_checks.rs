//! Any bytes as the files the firmware checks read: crypt and mosquitto hashes, UCI, boot
//! scripts, PEM/DER/OpenSSH/dropbear keys, certificates and ELF headers; never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_checks(data);
});
