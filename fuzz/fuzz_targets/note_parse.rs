//! Any bytes as a signed note, a key string and a checkpoint body: a precise error, never a
//! panic; whatever parses re-serialises to the same bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_log::note::fuzz_note_parse(data);
});
