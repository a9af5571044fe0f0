//! Any bytes through every stream decoder (gzip, xz, LZMA, zstd, LZ4 frame and legacy, lzop, bzip2, bare LZO1X): regions, never a panic, output within the limits.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_streams(data);
});
