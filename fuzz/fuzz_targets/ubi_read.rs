//! Any bytes as a UBI image at offset 0, CRC checks off: PEB-size detection, headers, the
//! volume table, volume assembly and the search of each volume, never a panic, within limits.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_ubi_read(data);
});
