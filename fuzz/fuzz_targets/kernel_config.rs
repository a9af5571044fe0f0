//! Any bytes as kernel configuration and module data: `.config` text, an IKCONFIG block,
//! `config.gz`, compressed modules and `vermagic`; never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_kernel_config(data);
});
