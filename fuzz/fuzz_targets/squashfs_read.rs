//! Any bytes as SquashFS (either byte order, any version): a tree and regions, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_squashfs_read(data);
});
