//! Any bytes as a JFFS2 image at offset 0, CRC checks off: node parsing, decompression
//! (zlib, rtime, LZO, LZMA), version resolution and the tree, never a panic, within limits.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_jffs2_read(data);
});
