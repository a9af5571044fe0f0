//! Embeds every file under the workspace's `catalogs/` directory, so adding a catalog or a
//! mapping is a data change only.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    // Read when the script runs, not when it was compiled: a build script binary can outlive
    // the checkout it was compiled in (shared target directories).
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".to_owned());
    let root = Path::new(&manifest_dir).join("../../catalogs");
    let mut out = String::new();
    let dirs = [
        ("CATALOG_FILES", "catalogs", "json"),
        ("MAPPING_FILES", "mappings", "json"),
        ("LANDSCAPE_FILES", "landscape", "json"),
        ("SCHEME_FILES", "schemes", "yaml"),
        ("RULE_FILES", "rules", "yaml"),
    ];
    for (kind, dir, ext) in dirs {
        let dir = root.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        // A missing directory is a broken checkout, never an empty bundle.
        let mut files: Vec<_> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .collect(),
            Err(e) => panic!("cannot read {}: {e}", dir.display()),
        };
        files.sort();
        writeln!(out, "pub const {kind}: &[(&str, &str)] = &[").ok();
        for path in files {
            println!("cargo:rerun-if-changed={}", path.display());
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            let abs = path.canonicalize().unwrap_or(path.clone());
            writeln!(
                out,
                "    ({stem:?}, include_str!({:?})),",
                abs.display().to_string()
            )
            .ok();
        }
        writeln!(out, "];").ok();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("bundled.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}
