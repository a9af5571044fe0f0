//! Any bytes as a fleet inventory (CSV and JSON) and as the fleet check's kept state, as
//! `iotmark fleet check` reads them: an error naming the line or field, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_registry::fleet::inventory::fuzz_parse(data);
    iotmark_registry::fleet::mirror::fuzz_state(data);
});
