//! Times each stage of a scan on one image (for profiling; not part of the suite).
#![allow(clippy::unwrap_used)]
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let image = std::fs::read(&path).unwrap();
    let limits = iotmark_firmware::Limits::default();
    // The signature table is compiled once per process, on first use: timed on its own.
    let t = Instant::now();
    let products = iotmark_firmware::inventory::signature_count();
    println!(
        "signatures {:>8.3} s ({products} products compiled)",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let unpacked = iotmark_firmware::unpack::unpack(&image, &limits);
    println!("unpack     {:>8.3} s", t.elapsed().as_secs_f64());
    for (_, tree) in &unpacked.filesystems {
        let t = Instant::now();
        let f = iotmark_firmware::analyze::analyze(tree);
        println!(
            "analyze    {:>8.3} s ({} findings)",
            t.elapsed().as_secs_f64(),
            f.len()
        );
        let t = Instant::now();
        let c = iotmark_firmware::inventory::inventory(tree);
        println!(
            "inventory  {:>8.3} s ({} components)",
            t.elapsed().as_secs_f64(),
            c.len()
        );
    }
}
