//! Any bytes as a hash tile, an entry bundle, a leaf record and a tile path, as an auditor
//! reads them from someone else's log: a precise error, never a panic; whatever parses
//! re-serialises to the same bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_log::tiles::fuzz_tile_parse(data);
});
