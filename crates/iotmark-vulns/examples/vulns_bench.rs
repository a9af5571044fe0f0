//! The vulnerability store at real scale: import throughput on NVD feeds of a full year's
//! size, and one 10,000-component SBOM matched against a store of 300,000 CVEs.
//!
//! The feeds are made from real NVD records (`tests/data/nvd`, NVD's own JSON): each
//! generated record is one of them with a new ID and its CPE vendors and products renamed
//! into a space of 20,000 products, so every record has a real record's shape (its
//! configurations, bounds, scores, references and text) and the store's keys are as many
//! and as spread as NVD's. A year of NVD is about 30,000 to 40,000 records; a feed here is
//! 37,500, and eight of them make the 300,000.
//!
//! Run: `cargo run --release -p iotmark-vulns --example vulns_bench [DB_URL]` (default: a
//! SQLite file in a temporary directory; give `postgres://…` for PostgreSQL).

use std::path::Path;
use std::time::Instant;

use iotmark_vulns::Component;
use iotmark_vulns::sbom::{Format, Sbom, Subject};
use iotmark_vulns::store::Store;
use serde_json::{Value, json};

// The allocator the `iotmark` binary runs with (`registry serve`, whose monitor matches
// many SBOMs, included), so the figures are the product's. docs/PERFORMANCE.md also gives
// figures taken with these two lines removed (the system allocator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PRODUCTS: usize = 20_000;
const PER_FEED: usize = 37_500;
const FEEDS: usize = 8;
const COMPONENTS: usize = 10_000;

/// Renames the CPE vendors and products in a record's configurations: the record's first
/// product becomes product `j`, each other product of the record another one, so a record
/// names as many distinct products as the real record it was made from.
fn rename(record: &mut Value, j: usize) {
    let Some(configurations) = record["configurations"].as_array_mut() else {
        return;
    };
    let mut seen: Vec<String> = Vec::new();
    for configuration in configurations {
        for node in configuration["nodes"].as_array_mut().into_iter().flatten() {
            for m in node["cpeMatch"].as_array_mut().into_iter().flatten() {
                let Some(criteria) = m["criteria"].as_str() else {
                    continue;
                };
                let mut parts: Vec<String> = criteria.split(':').map(str::to_owned).collect();
                if parts.len() == 13 {
                    let original = format!("{}:{}", parts[3], parts[4]);
                    let nth = match seen.iter().position(|s| *s == original) {
                        Some(n) => n,
                        None => {
                            seen.push(original);
                            seen.len() - 1
                        }
                    };
                    let k = (j + nth * 7919) % PRODUCTS;
                    parts[3] = format!("vendor{k}");
                    parts[4] = format!("product{k}");
                    m["criteria"] = json!(parts.join(":"));
                }
            }
        }
    }
}

/// The records the feeds are made from: these five by default, so the figures in
/// docs/PERFORMANCE.md stay comparable as tests/data/nvd gains records. The matcher was
/// tuned on them; `IOTMARK_BENCH_TEMPLATES=CVE-…,CVE-…` (records of tests/data/nvd) runs it on
/// others held out from that (use another DB_URL: a kept store is reused as it is).
const TEMPLATES: [&str; 5] = [
    "CVE-2017-17215",
    "CVE-2022-22707",
    "CVE-2022-48174",
    "CVE-2023-28450",
    "CVE-2023-38545",
];

fn templates() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nvd");
    let chosen = std::env::var("IOTMARK_BENCH_TEMPLATES").ok();
    let ids: Vec<&str> = match &chosen {
        Some(list) => list.split(',').map(str::trim).collect(),
        None => TEMPLATES.to_vec(),
    };
    let mut out = Vec::new();
    for id in ids {
        let path = dir.join(format!("{id}.json"));
        let v: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        // The mirror stores the bare `cve` object; rejected records are left out.
        let v = if v.get("cve").is_some() {
            v["cve"].clone()
        } else {
            v
        };
        if v["vulnStatus"] != "Rejected" && v.get("configurations").is_some() {
            out.push(v);
        }
    }
    out
}

fn write_feed(path: &Path, templates: &[Value], first: usize) -> usize {
    let mut items = Vec::with_capacity(PER_FEED);
    for i in first..first + PER_FEED {
        let mut record = templates[i % templates.len()].clone();
        record["id"] = json!(format!("CVE-2099-{i:07}"));
        rename(&mut record, i % PRODUCTS);
        items.push(json!({ "cve": record }));
    }
    let feed = json!({
        "resultsPerPage": PER_FEED, "startIndex": 0, "totalResults": PER_FEED,
        "format": "NVD_CVE", "version": "2.0", "timestamp": "2026-12-05T00:00:00.000",
        "vulnerabilities": items,
    });
    let bytes = serde_json::to_vec(&feed).expect("json");
    std::fs::write(path, &bytes).expect("write the feed");
    bytes.len()
}

/// 10,000 components over the generated products, each at a version inside the templates'
/// ranges for some records and outside for others.
fn sbom() -> Sbom {
    let versions = ["7.88.1", "1.35.0", "2.89", "1.4.69", "8.5.0", "-"];
    let components = (0..COMPONENTS)
        .map(|i| {
            let j = (i * 7) % PRODUCTS;
            let version = versions[i % versions.len()];
            Component {
                reference: format!("c{i}"),
                name: format!("product{j}"),
                version: Some(version.to_owned()),
                purl: Some(format!("pkg:generic/product{j}@{version}")),
                cpes: vec![format!(
                    "cpe:2.3:a:vendor{j}:product{j}:{version}:*:*:*:*:*:*:*"
                )],
                supplier: None,
                fixes: Vec::new(),
            }
        })
        .collect();
    Sbom {
        format: Format::CycloneDx("1.6".into()),
        subject: Subject::default(),
        components,
        problems: Vec::new(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("vulns.sqlite3").display()));
    let templates = templates();
    println!("templates: {} real NVD records", templates.len());
    let store = Store::open(&url).await.expect("open the store");
    let mut total = 0;
    let mut total_seconds = 0.0;
    // A kept store that already holds the records is not imported into again.
    let already = held(&store).await;
    let feeds = if already >= (FEEDS * PER_FEED) as u64 {
        0
    } else {
        FEEDS
    };
    for feed in 0..feeds {
        let path = dir.path().join(format!("nvdcve-2.0-bench-{feed}.json"));
        let bytes = write_feed(&path, &templates, feed * PER_FEED);
        let started = Instant::now();
        let summary =
            iotmark_vulns::import::import_paths(&store, std::slice::from_ref(&path), &|_| {})
                .await
                .expect("import");
        let seconds = started.elapsed().as_secs_f64();
        let file = &summary.files[0];
        assert!(file.failed.is_none(), "{file}");
        total += file.records;
        total_seconds += seconds;
        println!(
            "feed {feed}: {} records, {:.0} MB, {seconds:.2} s, {:.0} records/s",
            file.records,
            bytes as f64 / 1e6,
            file.records as f64 / seconds
        );
        std::fs::remove_file(&path).expect("remove the feed");
    }
    if feeds > 0 {
        println!(
            "imported {total} records in {total_seconds:.1} s: {:.0} records/s",
            total as f64 / total_seconds
        );
    }
    let held = held(&store).await;
    let sbom = sbom();
    // `warm` skips the store's per-SBOM path, for profiling the loaded one.
    let mut findings = None;
    if std::env::args().nth(2).as_deref() != Some("warm") {
        findings = Some(cold(&store, &sbom, held).await);
    }
    // As a monitor matching many SBOMs runs: the store loaded and compiled once.
    let started = Instant::now();
    let loaded = iotmark_vulns::report::Loaded::load(&store)
        .await
        .expect("load");
    println!(
        "load: {} advisories compiled and indexed in {:.1} s",
        loaded.index.len(),
        started.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let report = loaded.check("bench.cdx.json", &sbom, &[]);
        times.push(started.elapsed().as_secs_f64());
        if let Some(n) = findings {
            assert_eq!(report.findings.len(), n, "the same answer as the store's");
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "warm (loaded once): {COMPONENTS} components against {held} CVEs: median {:.3} s (min {:.3}, max {:.3}) per SBOM",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    store.close().await;
    // About to exit: the system takes the index back at once, where freeing its records one
    // by one takes seconds (and would fill a profile of this run).
    std::mem::forget(loaded);
}

/// How many advisories the store holds, of every source.
async fn held(store: &Store) -> u64 {
    store
        .counts()
        .await
        .expect("counts")
        .advisories
        .values()
        .sum()
}

/// The store asked afresh for each SBOM, as `iotmark vulns` does; returns the findings.
async fn cold(store: &Store, sbom: &Sbom, held: u64) -> usize {
    // Where the time goes, once: the store's lookup, then the matching.
    let keys: std::collections::BTreeSet<String> = sbom
        .components
        .iter()
        .flat_map(iotmark_vulns::keys::component_keys)
        .collect();
    let started = Instant::now();
    let advisories = store.candidates(&keys).await.expect("candidates");
    let lookup = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let candidates = advisories.len();
    let matched = iotmark_vulns::matching::Index::new(advisories).check(
        &sbom.components,
        &Default::default(),
        &[],
    );
    println!(
        "lookup: {} keys, {} candidate records, {lookup:.3} s; matching: {:.3} s, {} findings",
        keys.len(),
        candidates,
        started.elapsed().as_secs_f64(),
        matched.len()
    );
    let mut times = Vec::new();
    let mut findings = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let report = iotmark_vulns::report::check(store, "bench.cdx.json", sbom, &[])
            .await
            .expect("match");
        times.push(started.elapsed().as_secs_f64());
        findings = report.findings.len();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "cold (the store per SBOM): {COMPONENTS} components against {held} CVEs: median {:.3} s (min {:.3}, max {:.3}), {findings} findings",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    findings
}
