//! Measures component version detection on the peer corpus: OpenWrt packages reduced to
//! their strings (`../shared/reference/version-detection/condensed/*.tar.gz`), with the
//! expected product and version of each in `expected.json`.
//!
//! Each package is unpacked by iotmark itself (gzip, then tar) and inventoried like any
//! filesystem. A hit is correct when its CPE product and version are the expected ones;
//! a hit for another product, or the expected product in another version, is wrong
//! (products the corpus lists as also present, without a version, are neither).
//!
//! Run: `cargo run --release -p iotmark-firmware --example version_detection [DIR]`

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use iotmark_firmware::inventory::{Relation, inventory};
use iotmark_firmware::{Limits, unpack};

/// Outcome for one package.
#[derive(Debug, Clone)]
pub struct PackageResult {
    pub package: String,
    pub product: String,
    pub version: String,
    /// The input never states the expected version, so no signature could find it: one of
    /// the corpus's three empty placeholders, or a held-out package whose files (outside
    /// `usr/share/doc`) nowhere contain the version string, such as a Debian package that
    /// ships only the init script while its program is in a `-bin` or library package.
    pub unstated: bool,
    pub found: bool,
    pub wrong: Vec<(String, String)>,
}

impl PackageResult {
    /// The package format, from the file name: `ipk`, `rpm`, `deb`, `apk`, `tgz`, or
    /// `other` (images, archives and the odd single file).
    pub fn format(&self) -> &'static str {
        ["ipk", "rpm", "deb", "apk", "tgz"]
            .into_iter()
            .find(|ext| self.package.ends_with(&format!(".{ext}")))
            .unwrap_or("other")
    }
}

/// Totals over a set of package results.
pub fn summarise(results: &[&PackageResult]) -> Summary {
    Summary {
        packages: results.len(),
        unstated: results.iter().filter(|r| r.unstated).count(),
        correct: results.iter().filter(|r| r.found).count(),
        wrong: results.iter().map(|r| r.wrong.len()).sum(),
        wrong_stated: results
            .iter()
            .filter(|r| !r.unstated)
            .map(|r| r.wrong.len())
            .sum(),
        refining: results
            .iter()
            .filter(|r| {
                !r.found
                    && r.wrong
                        .iter()
                        .any(|(p, v)| p == &r.product && refines(v, &r.version))
            })
            .count(),
        seconds: 0.0,
    }
}

/// Totals over the corpus.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub packages: usize,
    pub unstated: usize,
    pub correct: usize,
    pub wrong: usize,
    /// Wrong versions of packages that state their own version somewhere; the others'
    /// programs print another one (nbd-server 3.27.1 says "version 3.26.1").
    pub wrong_stated: usize,
    /// Packages not found whose answers for their product include a version that names the
    /// package's release more exactly ([`refines`]).
    pub refining: usize,
    pub seconds: f64,
}

impl Summary {
    /// Correct hits over all packages (inputs that never state their version count as
    /// misses).
    pub fn recall(&self) -> f64 {
        self.correct as f64 / self.packages.max(1) as f64
    }
    /// Correct hits over the packages that state their version somewhere.
    pub fn recall_stated(&self) -> f64 {
        self.correct as f64 / (self.packages - self.unstated).max(1) as f64
    }
    pub fn precision(&self) -> f64 {
        self.correct as f64 / (self.correct + self.wrong).max(1) as f64
    }
    /// Precision over the packages that state their version.
    pub fn precision_stated(&self) -> f64 {
        self.correct as f64 / (self.correct + self.wrong_stated).max(1) as f64
    }
    /// Precision counting as right the answers more exact than the package's version.
    pub fn precision_refined(&self) -> f64 {
        (self.correct + self.refining) as f64 / (self.correct + self.wrong).max(1) as f64
    }
}

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/version-detection")
}

/// Runs the inventory on every package of the corpus in `dir`.
pub fn measure(dir: &Path) -> Result<(Vec<PackageResult>, Summary), String> {
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("expected.json")).map_err(|e| format!("expected.json: {e}"))?,
    )
    .map_err(|e| format!("expected.json: {e}"))?;
    let cases = expected["package_test_data"]
        .as_array()
        .ok_or("expected.json has no package_test_data")?;
    let limits = Limits::default();
    let started = Instant::now();
    let mut results = Vec::new();
    for case in cases {
        let package = case["package_name"].as_str().unwrap_or_default().to_owned();
        let product = case["product"].as_str().unwrap_or_default().to_owned();
        let version = case["version"].as_str().unwrap_or_default().to_owned();
        let also: BTreeSet<&str> = case["other_products"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        let path = dir.join("condensed").join(format!("{package}.tar.gz"));
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut hits: BTreeSet<(String, String)> = BTreeSet::new();
        for (_, tree) in unpack::unpack(&bytes, &limits).filesystems {
            for c in inventory(&tree) {
                if matches!(
                    c.relation,
                    Relation::Is | Relation::Contains | Relation::Package
                ) {
                    hits.insert((c.product, c.version));
                }
            }
        }
        let found = hits.contains(&(product.clone(), version.clone()));
        let wrong = hits
            .into_iter()
            .filter(|(p, v)| {
                let expected = p == &product && v == &version;
                !expected && !also.contains(p.as_str())
            })
            .collect();
        results.push(PackageResult {
            package,
            product,
            version,
            unstated: bytes.is_empty(),
            found,
            wrong,
        });
    }
    let summary = Summary {
        seconds: started.elapsed().as_secs_f64(),
        ..summarise(&results.iter().collect::<Vec<_>>())
    };
    Ok((results, summary))
}

/// The upstream version a Debian package version names, as the program itself would print
/// it: no epoch (`1:`), no Debian revision (`-2`, `-1+deb12u1`), the real version of a
/// `+really` downgrade, and no repack or snapshot suffix (`+dfsg`, `~ds0`, `+git2023…`,
/// `.git20221117…`).
/// A pre-release stays (`3.8.0~beta1` is `3.8.0beta1`, `1.2~rc1.2` is `1.2rc1`): `~` sorts
/// it before the release it names, and the corpus keeps such tags too (`1.3.8rc4`).
pub fn debian_upstream(version: &str) -> String {
    let v = version.split_once(':').map_or(version, |(_, v)| v);
    let v = match v.rsplit_once('-') {
        Some((upstream, _)) => upstream,
        // A native package has no revision; Ubuntu appends its own to the version itself
        // (`5.17build1`, `1.21.1ubuntu2`).
        None => ["ubuntu", "build"]
            .iter()
            .find_map(|mark| {
                let (upstream, rest) = v.rsplit_once(mark)?;
                (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
                    .then_some(upstream)
            })
            .unwrap_or(v),
    };
    let v = v.split_once("+really").map_or(v, |(_, real)| real);
    let release = v.split(['+', '~']).next().unwrap_or(v);
    let release = release.trim_end_matches(".dfsg").trim_end_matches(".ds");
    // A snapshot after a release, `7.8.git20221117.28daf24`, is that release, as `+git…` is.
    let release = match release.split_once(".git") {
        Some((base, date)) if date.starts_with(|c: char| c.is_ascii_digit()) => base,
        _ => release,
    };
    let tag = v
        .strip_prefix(release)
        .and_then(|rest| rest.strip_prefix('~'))
        .and_then(prerelease);
    format!("{release}{}", tag.unwrap_or_default())
}

/// A pre-release word and its number at the start of `rest` (`beta1`, `rc93`, `pre1`),
/// or `alpha`/`beta` alone; not a repack (`dfsg`, `ds0`) or a snapshot (`git2023`).
fn prerelease(rest: &str) -> Option<&str> {
    let word = ["alpha", "beta", "pre", "rc"]
        .into_iter()
        .find(|w| rest.starts_with(w))?;
    let digits = rest[word.len()..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    let end = word.len() + digits;
    let after = rest[end..].chars().next();
    (after.is_none_or(|c| !c.is_ascii_alphabetic()) && (digits > 0 || word.len() > 3))
        .then(|| &rest[..end])
}

/// Whether two versions name the same release: equal, or equal once trailing `.0`
/// components are dropped (Debian's `2.9.0` is the `2.9` hostapd prints), or, when both
/// are dotted numbers, equal number by number (Ghostscript prints `10.00.0`, Debian's
/// package is `10.0.0`), or equal but for the punctuation around a pre-release word
/// (Transmission prints `4.1.0-beta.2`, Debian's package is `4.1.0~beta2`).
pub fn same_release(a: &str, b: &str) -> bool {
    fn trimmed(v: &str) -> &str {
        let mut v = v;
        while let Some(shorter) = v.strip_suffix(".0") {
            v = shorter;
        }
        v
    }
    fn numbers(v: &str) -> Option<Vec<u64>> {
        let mut n: Vec<u64> = v
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        while n.len() > 1 && n.last() == Some(&0) {
            n.pop();
        }
        Some(n)
    }
    /// Lower case, without `~ - _ .` next to a letter.
    fn unpunctuated(v: &str) -> String {
        let b = v.as_bytes();
        let mut out = String::with_capacity(v.len());
        for (i, c) in v.char_indices() {
            let letter_beside = |j: Option<usize>| {
                j.and_then(|j| b.get(j))
                    .is_some_and(u8::is_ascii_alphabetic)
            };
            if matches!(c, '~' | '-' | '_' | '.')
                && (letter_beside(i.checked_sub(1)) || letter_beside(Some(i + 1)))
            {
                continue;
            }
            out.push(c.to_ascii_lowercase());
        }
        out
    }
    a == b
        || trimmed(a) == trimmed(b)
        || numbers(a).is_some_and(|n| numbers(b) == Some(n))
        || (a.bytes().any(|c| c.is_ascii_alphabetic()) && unpunctuated(a) == unpunctuated(b))
}

/// Whether `answer` names `expected` more exactly: the same release followed by further
/// numbers (bash prints its patch level, `5.1.4`, where Debian's package is `5.1-2` with
/// four upstream patches applied). Counted apart from other wrong versions, since the
/// package's version is then the less exact of the two.
pub fn refines(answer: &str, expected: &str) -> bool {
    answer.strip_prefix(expected).is_some_and(|rest| {
        rest.strip_prefix('.').is_some_and(|numbers| {
            !numbers.is_empty()
                && numbers
                    .split('.')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    })
}

/// One package of the held-out set: a Debian binary package of a corpus product, from a
/// release and architecture the corpus does not hold (see benches/version_detection_heldout.sh).
#[derive(Debug, serde::Deserialize)]
struct HeldOut {
    package: String,
    product: String,
    version: String,
    suite: String,
    arch: String,
    file: String,
    /// Packages of the same source this one depends on (`installed` step of
    /// benches/version_detection_heldout.py): unpacked into the same tree, as an image
    /// installing the package holds them.
    #[serde(default)]
    with: Vec<String>,
}

/// A product reported by a held-out package besides the expected one: (file, product,
/// version).
pub type OtherHit = (String, String, String);

/// Held-out results: the same scoring as [`measure`], on `.deb` files iotmark unpacks itself.
/// Only the package's data is read, never its control file or any package database, so
/// the figure is what the files themselves tell: version strings, and the metadata a
/// package installs among its files (a Python module's `egg-info`). Hits of products other than the
/// expected one, which a package may rightly hold (an embedded zlib), are returned for
/// review rather than counted as wrong.
pub fn measure_heldout(
    manifest: &Path,
    debs: &Path,
) -> Result<(Vec<PackageResult>, Vec<OtherHit>, f64), String> {
    let cases: Vec<HeldOut> = serde_json::from_slice(
        &std::fs::read(manifest).map_err(|e| format!("{}: {e}", manifest.display()))?,
    )
    .map_err(|e| format!("{}: {e}", manifest.display()))?;
    let names = corpus_names(&corpus_dir())?;
    let limits = Limits::default();
    let started = Instant::now();
    let mut results = Vec::new();
    let mut other = Vec::new();
    for case in cases {
        let upstream = debian_upstream(&case.version);
        let expected = names
            .get(&(case.product.clone(), upstream.clone()))
            .cloned()
            .unwrap_or(upstream);
        // The package's files, and its siblings' when it has any, in one tree.
        let mut tree = iotmark_firmware::tree::Tree::default();
        for file in std::iter::once(&case.file).chain(&case.with) {
            let path = debs.join(file);
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            for (label, data) in unpack::unpack(&bytes, &limits).filesystems {
                if label.contains("/data.tar") {
                    tree.entries.extend(data.entries);
                }
            }
        }
        let stated = states_version(&tree, &expected);
        let hits: BTreeSet<(String, String)> = inventory(&tree)
            .into_iter()
            // Metadata counts when the signature table names its product (a CPE), not when
            // a Python package merely shares the product's name.
            .filter(|c| match c.relation {
                Relation::Is | Relation::Contains => true,
                Relation::Package => c.cpe.is_some(),
                _ => false,
            })
            .map(|c| (c.product, c.version))
            .collect();
        let found = hits
            .iter()
            .any(|(p, v)| p == &case.product && same_release(v, &expected));
        let mut wrong = Vec::new();
        for (p, v) in hits {
            if p == case.product {
                if !same_release(&v, &expected) {
                    wrong.push((p, v));
                }
            } else {
                other.push((case.file.clone(), p, v));
            }
        }
        results.push(PackageResult {
            package: format!(
                "{} {} ({} {})",
                case.package, case.version, case.suite, case.arch
            ),
            product: case.product,
            version: expected,
            // A version found is stated, in whatever form (`7.8.0` for Heimdal's `7.8`).
            unstated: !stated && !found,
            found,
            wrong,
        });
    }
    Ok((results, other, started.elapsed().as_secs_f64()))
}

/// How the corpus names a Debian upstream version where its name differs from the
/// version's upstream part: (product, upstream) → the corpus's version. The corpus expects
/// `2017.3.23` of ntfs-3g's `2017.3.23AR.3-3+deb10u2`, so a held-out package of the same
/// upstream version is scored by the same name.
pub fn corpus_names(dir: &Path) -> Result<BTreeMap<(String, String), String>, String> {
    let path = dir.join("expected.json");
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut names = BTreeMap::new();
    for case in expected["package_test_data"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (Some(file), Some(product), Some(version)) = (
            case["package_name"].as_str(),
            case["product"].as_str(),
            case["version"].as_str(),
        ) else {
            continue;
        };
        // `name_version_arch.deb`, with `+` and `~` escaped as in a URL.
        let file = file.replace("%2B", "+").replace("%7E", "~");
        let Some(stem) = file.strip_suffix(".deb") else {
            continue;
        };
        let mut fields = stem.split('_');
        if let (Some(_), Some(package_version), Some(_)) =
            (fields.next(), fields.next(), fields.next())
        {
            let upstream = debian_upstream(package_version);
            if upstream != version {
                names.insert((product.to_owned(), upstream), version.to_owned());
            }
        }
    }
    Ok(names)
}

/// Whether any file of `tree` outside `usr/share/doc` holds `version` (or the same release
/// without trailing `.0` components) as a whole token: not preceded or followed by another
/// digit or a dot-digit, so `1.10.0` does not count inside `11.10.0` or `1.10.0.5`.
fn states_version(tree: &iotmark_firmware::tree::Tree, version: &str) -> bool {
    let mut forms = vec![version];
    let mut short = version;
    while let Some(s) = short.strip_suffix(".0") {
        short = s;
        forms.push(short);
    }
    let finders: Vec<_> = forms
        .iter()
        .map(|f| memchr::memmem::Finder::new(f.as_bytes()))
        .collect();
    tree.files()
        .filter(|(path, _)| {
            !path.starts_with("usr/share/doc") && !path.starts_with("/usr/share/doc")
        })
        .any(|(_, data)| {
            finders.iter().any(|finder| {
                finder.find_iter(data).any(|at| {
                    let end = at + finder.needle().len();
                    let before = at.checked_sub(1).and_then(|i| data.get(i));
                    let after = data.get(end..end + 2).unwrap_or(&[]);
                    let digit_before = before.is_some_and(|b| b.is_ascii_digit() || *b == b'.');
                    let continues = after.first().is_some_and(u8::is_ascii_digit)
                        || (after.first() == Some(&b'.')
                            && after.get(1).is_some_and(u8::is_ascii_digit));
                    !digit_before && !continues
                })
            })
        })
}

#[allow(dead_code)] // used by the example binary, not by the test that includes this file
fn main() {
    // `--tree DIR`: list every version hit in the regular files under DIR (a quick look at
    // what the signatures say about real binaries, e.g. /usr/bin).
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, root] = args.as_slice()
        && flag == "--tree"
    {
        let mut stack = vec![PathBuf::from(root)];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let path = entry.path();
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file()
                    && let Ok(data) = std::fs::read(&path)
                {
                    for (p, v, r, m) in
                        iotmark_firmware::inventory::detect(&path.to_string_lossy(), &data)
                    {
                        println!("{}\t{p}\t{v}\t{r:?}\t{m}", path.display());
                    }
                }
            }
        }
        return;
    }
    // `--heldout MANIFEST DEBDIR`: the held-out Debian packages.
    if let [flag, manifest, debs] = args.as_slice()
        && flag == "--heldout"
    {
        match measure_heldout(Path::new(manifest), Path::new(debs)) {
            Ok((results, other, seconds)) => {
                print_results(&results);
                for (file, p, v) in &other {
                    println!("OTHER {file} also reported {p} {v}");
                }
                let s = summarise(&results.iter().collect::<Vec<_>>());
                println!(
                    "held-out packages {} (never stating their version {})  correct {}  wrong versions {}  other products {}",
                    s.packages,
                    s.unstated,
                    s.correct,
                    s.wrong,
                    other.len()
                );
                println!(
                    "recall {:.3} (over packages stating their version {:.3})  precision {:.3} (over them {:.3})  time {seconds:.2} s",
                    s.recall(),
                    s.recall_stated(),
                    s.precision(),
                    s.precision_stated()
                );
                println!(
                    "answers more exact than the package's version (a patch level) {}: counting them right, precision {:.3}",
                    s.refining,
                    s.precision_refined()
                );
            }
            Err(e) => {
                eprintln!("version_detection: {e}");
                std::process::exit(2);
            }
        }
        return;
    }
    let dir = args.first().map_or_else(corpus_dir, PathBuf::from);
    let (results, s) = match measure(&dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("version_detection: {e}");
            std::process::exit(2);
        }
    };
    print_results(&results);
    println!();
    println!(
        "{:<6} {:>8} {:>6} {:>8} {:>6} {:>7} {:>9}",
        "format", "packages", "unstated", "correct", "wrong", "recall", "precision"
    );
    for format in ["ipk", "rpm", "deb", "apk", "tgz", "other"] {
        let part: Vec<&PackageResult> = results.iter().filter(|r| r.format() == format).collect();
        let f = summarise(&part);
        println!(
            "{format:<6} {:>8} {:>6} {:>8} {:>6} {:>7.3} {:>9.3}",
            f.packages,
            f.unstated,
            f.correct,
            f.wrong,
            f.recall_stated(),
            f.precision()
        );
    }
    println!();
    println!(
        "packages {}  (empty inputs {})  correct {}  wrong {}",
        s.packages, s.unstated, s.correct, s.wrong
    );
    println!(
        "recall {:.3} (over non-empty inputs {:.3})  precision {:.3}  time {:.2} s",
        s.recall(),
        s.recall_stated(),
        s.precision(),
        s.seconds
    );
}

/// The per-product table (expected, correct, wrong), then every miss and wrong version.
fn print_results(results: &[PackageResult]) {
    // Per product: (expected, correct, wrong)
    let mut per: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for r in results {
        let e = per.entry(&r.product).or_default();
        e.0 += 1;
        e.1 += usize::from(r.found);
        e.2 += r.wrong.iter().filter(|(p, _)| p == &r.product).count();
    }
    println!(
        "{:<40} {:>8} {:>8} {:>6} {:>9}",
        "product", "expected", "correct", "wrong", "precision"
    );
    for (p, (n, ok, bad)) in &per {
        let precision = if ok + bad == 0 {
            0.0
        } else {
            *ok as f64 / (ok + bad) as f64
        };
        println!("{p:<40} {n:>8} {ok:>8} {bad:>6} {precision:>9.2}");
    }
    println!();
    for r in results {
        if !r.found {
            let why = if r.unstated {
                " (the input never states this version)"
            } else {
                ""
            };
            println!(
                "MISS  {} expected {} {}{why}",
                r.package, r.product, r.version
            );
        }
        for (p, v) in &r.wrong {
            let why = if p == &r.product && refines(v, &r.version) {
                ", which it names more exactly"
            } else {
                ""
            };
            println!(
                "WRONG {} reported {p} {v} (expected {} {}{why})",
                r.package, r.product, r.version
            );
        }
    }
}
