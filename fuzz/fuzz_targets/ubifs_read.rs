//! Any bytes as a UBIFS filesystem at offset 0, CRC checks off: superblock, master node,
//! the index walk, inode/dentry/data nodes, LZO/zlib/zstd blocks and the tree, never a
//! panic, within limits. The seeds are mkfs.ubifs images compacted to three 15 KiB LEBs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_ubifs_read(data);
});
