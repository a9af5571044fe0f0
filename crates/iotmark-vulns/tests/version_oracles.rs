//! Our version orders checked against each ecosystem's own implementation: dpkg
//! (`dpkg --compare-versions`), rpm (`rpm.vercmp` in rpm's Lua), apk-tools (its own test
//! vectors, and `apk version -t` where apk is installed), npm's `semver` package and PyPA's
//! `packaging`. Each check sorts a few hundred real and generated versions with our order,
//! then asks the oracle about every neighbouring pair of that order and about as many random
//! pairs: a disagreement names both versions and both answers.
//!
//! dpkg and rpm come from Debian's packages; `packaging` and `semver` from
//! `bash scripts/version-oracles.sh --install`. A missing oracle fails the test with a hint,
//! unless IOTMARK_SKIP_VERSION_ORACLES=1.

use std::cmp::Ordering;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use iotmark_vulns::version::{Scheme, compare};

const SKIP_VAR: &str = "IOTMARK_SKIP_VERSION_ORACLES";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn oracle_tools() -> PathBuf {
    manifest_dir().join("../../target/tools/version-oracles")
}

/// Whether an oracle can run; when it cannot, fails with `hint` unless the skip variable is
/// set.
fn oracle_present(name: &str, present: bool, hint: &str) -> bool {
    if present {
        return true;
    }
    if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
        eprintln!("{name}: skipped ({SKIP_VAR}=1): our order was not checked against it");
        return false;
    }
    panic!("{name} is not installed: {hint} (or set {SKIP_VAR}=1 to skip the oracle tests)");
}

fn on_path(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A small deterministic generator (SplitMix64), so every run checks the same versions.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.below(choices.len())]
    }

    fn number(&mut self) -> String {
        match self.below(6) {
            0 => "0".to_owned(),
            1 => format!("0{}", self.below(10)),
            2 => format!("{}", 10 + self.below(90)),
            3 => format!("2024{:02}{:02}", 1 + self.below(12), 1 + self.below(28)),
            _ => format!("{}", self.below(10)),
        }
    }

    fn dotted(&mut self, max: usize) -> String {
        let count = 1 + self.below(max);
        (0..count)
            .map(|_| self.number())
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// Versions from the data files (one a line).
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Upstream versions OSS-Fuzz's OSV records list as affected (git tags, most of them), from
/// the shared reference copy; those dpkg and rpm accept as versions are real upstream
/// versions for the distribution orders.
fn oss_fuzz_versions() -> Vec<String> {
    let root = manifest_dir().join("../../../shared/reference/osv/oss-fuzz-vulns/vulns");
    let mut versions = std::collections::BTreeSet::new();
    let Ok(projects) = std::fs::read_dir(&root) else {
        panic!(
            "{} not found: the shared reference data must lie beside the project",
            root.display()
        );
    };
    let mut projects: Vec<_> = projects.filter_map(Result::ok).map(|e| e.path()).collect();
    projects.sort();
    for project in projects {
        let Ok(records) = std::fs::read_dir(&project) else {
            continue;
        };
        let mut records: Vec<_> = records.filter_map(Result::ok).map(|e| e.path()).collect();
        records.sort();
        for record in records {
            let Ok(text) = std::fs::read_to_string(&record) else {
                continue;
            };
            let mut in_versions = false;
            for line in text.lines() {
                if line.trim_end() == "  versions:" {
                    in_versions = true;
                } else if in_versions && let Some(item) = line.strip_prefix("  - ") {
                    versions.insert(item.trim().trim_matches('\'').trim_matches('"').to_owned());
                } else {
                    in_versions = false;
                }
            }
        }
    }
    versions.into_iter().collect()
}

/// Every `step`-th element, so a large list contributes evenly across its range.
fn every_nth(versions: Vec<String>, wanted: usize) -> Vec<String> {
    let step = versions.len().div_ceil(wanted.max(1)).max(1);
    versions.into_iter().step_by(step).collect()
}

/// Pairs to ask the oracle about: neighbours in our order (which pins the whole order down if
/// the oracle's is transitive) and random pairs.
fn pairs_to_check(scheme: Scheme, mut versions: Vec<String>, seed: u64) -> Vec<(String, String)> {
    versions.sort();
    versions.dedup();
    versions.sort_by(|a, b| compare(scheme, a, b));
    let mut pairs: Vec<(String, String)> = versions
        .windows(2)
        .map(|w| (w[0].clone(), w[1].clone()))
        .collect();
    let mut random = Seeded(seed);
    for _ in 0..versions.len() {
        let a = versions[random.below(versions.len())].clone();
        let b = versions[random.below(versions.len())].clone();
        pairs.push((a, b));
    }
    pairs
}

/// Compares our answers with the oracle's (`None` where the oracle rejects a version) and
/// reports every disagreement at once.
fn assert_agrees(
    name: &str,
    scheme: Scheme,
    pairs: &[(String, String)],
    oracle: &[Option<Ordering>],
) {
    assert_eq!(pairs.len(), oracle.len(), "{name}: one answer per pair");
    let mut disagreements = Vec::new();
    let mut asked = 0;
    for ((a, b), theirs) in pairs.iter().zip(oracle) {
        let Some(theirs) = theirs else { continue };
        asked += 1;
        let ours = compare(scheme, a, b);
        if ours != *theirs {
            disagreements.push(format!("{a:?} vs {b:?}: ours {ours:?}, {name} {theirs:?}"));
        }
    }
    eprintln!(
        "{name}: {asked} pairs compared, {} disagreements",
        disagreements.len()
    );
    assert!(asked > 0, "{name}: the oracle accepted no pair");
    assert!(
        disagreements.is_empty(),
        "{name} disagrees on {} of {asked} pairs:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

fn ordering_from_sign(text: &str) -> Option<Ordering> {
    match text.trim() {
        "-1" => Some(Ordering::Less),
        "0" => Some(Ordering::Equal),
        "1" => Some(Ordering::Greater),
        _ => None,
    }
}

/// Runs a program that reads tab-separated pairs on stdin and answers -1, 0, 1 or
/// `invalid` per line.
fn answers_from_script(mut command: Command, pairs: &[(String, String)]) -> Vec<Option<Ordering>> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the oracle");
    let mut input = String::new();
    for (a, b) in pairs {
        input.push_str(&format!("{a}\t{b}\n"));
    }
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("oracle output");
    writer.join().expect("writer").expect("write pairs");
    assert!(output.status.success(), "oracle failed: {output:?}");
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(ordering_from_sign)
        .collect()
}

fn dpkg_valid(version: &str) -> bool {
    version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+-~:".contains(&b))
        && version.matches(':').count() <= 1
        && version.split_once(':').is_none_or(|(epoch, rest)| {
            !epoch.is_empty()
                && epoch.bytes().all(|b| b.is_ascii_digit())
                && rest.starts_with(|c: char| c.is_ascii_digit())
        })
        && !version.ends_with('-')
        && version
            .rsplit_once('-')
            .is_none_or(|(upstream, _)| !upstream.is_empty() && !upstream.ends_with(':'))
}

fn generated_debian(seed: u64, count: usize) -> Vec<String> {
    let mut random = Seeded(seed);
    (0..count)
        .map(|_| {
            let mut version = String::new();
            if random.below(5) == 0 {
                version.push_str(&format!("{}:", random.below(3)));
            }
            version.push_str(&random.dotted(4));
            for _ in 0..random.below(3) {
                let piece = random.pick(&[
                    "~rc", "~", "+dfsg", "a", "+", ".", "~~", "+git", "z", "~beta",
                ]);
                version.push_str(piece);
                version.push_str(&random.number());
            }
            if random.below(3) != 0 {
                version.push('-');
                version.push_str(&random.number());
                if random.below(2) == 0 {
                    let piece = random.pick(&["+deb12u", "ubuntu", "~bpo11+", ".", "+b", "~"]);
                    version.push_str(piece);
                    version.push_str(&random.number());
                }
            }
            version
        })
        .collect()
}

fn dpkg_answer(a: &str, b: &str) -> Option<Ordering> {
    let holds = |relation: &str| {
        Command::new("dpkg")
            .args(["--compare-versions", a, relation, b])
            .stderr(Stdio::null())
            .status()
            .expect("run dpkg")
            .success()
    };
    if holds("lt") {
        Some(Ordering::Less)
    } else if holds("eq") {
        Some(Ordering::Equal)
    } else {
        Some(Ordering::Greater)
    }
}

#[test]
fn debian_order_agrees_with_dpkg() {
    if !oracle_present("dpkg", on_path("dpkg"), "apt-get install dpkg") {
        return;
    }
    let real = lines(include_str!("data/versions/debian-bookworm.txt"));
    let upstream: Vec<String> = every_nth(
        oss_fuzz_versions()
            .into_iter()
            .filter(|v| dpkg_valid(v))
            .collect(),
        120,
    );
    let mut versions = real;
    versions.extend(upstream);
    versions.extend(generated_debian(1, 200));
    versions.retain(|v| dpkg_valid(v));
    eprintln!("dpkg: {} versions", versions.len());
    let pairs = pairs_to_check(Scheme::Debian, versions, 2);
    let answers: Vec<_> = pairs.iter().map(|(a, b)| dpkg_answer(a, b)).collect();
    assert_agrees("dpkg", Scheme::Debian, &pairs, &answers);
}

fn generated_rpm(seed: u64, count: usize) -> Vec<String> {
    let mut random = Seeded(seed);
    (0..count)
        .map(|_| {
            let mut version = String::new();
            if random.below(6) == 0 {
                version.push_str(&format!("{}:", random.below(3)));
            }
            version.push_str(&random.dotted(4));
            for _ in 0..random.below(3) {
                let piece = random.pick(&["~rc", "^git", "~", "^", "a", "_", ".", "b", "+", "pre"]);
                version.push_str(piece);
                version.push_str(&random.number());
            }
            if random.below(3) != 0 {
                version.push('-');
                version.push_str(&random.number());
                let piece = random.pick(&[".el9", ".fc40", "", ".el8_10", "~bootstrap", ".1"]);
                version.push_str(piece);
            }
            version
        })
        .collect()
}

#[test]
fn rpm_order_agrees_with_rpm() {
    if !oracle_present("rpm", on_path("rpm"), "apt-get install rpm") {
        return;
    }
    // Versions rpm parses as EVR (a numeric epoch, at most one colon, no empty parts), in
    // characters that need no quoting in the Lua script: dpkg's syntax rules with rpm's
    // extra separators read as dots say exactly that.
    let rpm_safe = |v: &String| {
        !v.is_empty()
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+~^-:".contains(&b))
            && dpkg_valid(&v.replace(['^', '_'], "."))
    };
    let mut versions = lines(include_str!("data/versions/debian-bookworm.txt"));
    versions.extend(every_nth(oss_fuzz_versions(), 150));
    versions.extend(generated_rpm(3, 250));
    versions.retain(rpm_safe);
    eprintln!("rpm: {} versions", versions.len());
    let pairs = pairs_to_check(Scheme::Rpm, versions, 4);
    // One rpm process for all pairs: a Lua script printing rpm.vercmp's answer per line. The
    // versions hold no brackets (checked above), so long-bracket strings quote them.
    let script_dir = tempfile::tempdir().expect("temporary directory");
    let script_path = script_dir.path().join("pairs.lua");
    // rpm's `print` adds no newline, so the answers are joined explicitly.
    let mut script = String::from("local answers = {}\n");
    for (a, b) in &pairs {
        script.push_str(&format!(
            "answers[#answers + 1] = tostring(rpm.vercmp([==[{a}]==], [==[{b}]==]))\n"
        ));
    }
    script.push_str("print(table.concat(answers, '\\n'))\n");
    std::fs::write(&script_path, script).expect("write the script");
    let output = Command::new("rpm")
        .arg("--eval")
        .arg(format!("%{{lua: dofile('{}')}}", script_path.display()))
        .output()
        .expect("run rpm");
    assert!(output.status.success(), "rpm failed: {output:?}");
    let answers: Vec<_> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.is_empty())
        .map(ordering_from_sign)
        .collect();
    assert_agrees("rpm.vercmp", Scheme::Rpm, &pairs, &answers);
}

/// apk-tools' own test vectors (`test/version.data`: `a OP b` a line), which its test suite
/// runs through the same comparison `apk version -t` uses.
#[test]
fn alpine_order_agrees_with_apk_tools_own_vectors() {
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for line in include_str!("data/versions/apk-tools-version.data").lines() {
        let line = line.split('#').next().unwrap_or_default();
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [a, relation, b] = fields[..] else {
            continue;
        };
        let expected = match relation {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            other => panic!("unknown relation {other:?} in apk-tools-version.data"),
        };
        checked += 1;
        let ours = compare(Scheme::Alpine, a, b);
        if ours != expected {
            disagreements.push(format!("{a} {relation} {b}: ours {ours:?}"));
        }
    }
    eprintln!("apk-tools vectors: {checked} pairs compared");
    assert!(checked > 700, "only {checked} vectors read");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

fn generated_apk(seed: u64, count: usize) -> Vec<String> {
    let mut random = Seeded(seed);
    (0..count)
        .map(|_| {
            let mut version = random.dotted(4);
            if random.below(5) == 0 {
                version.push_str(random.pick(&["a", "b", "z"]));
            }
            for _ in 0..random.below(3) {
                version.push('_');
                version.push_str(
                    random.pick(&["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"]),
                );
                if random.below(2) == 0 {
                    version.push_str(&random.number());
                }
            }
            if random.below(2) == 0 {
                version.push_str(&format!("-r{}", random.below(20)));
            }
            version
        })
        .collect()
}

/// `apk version -t` itself, where apk is installed (Debian ships apk-tools from trixie on;
/// bookworm has none, and then the vectors above are the check).
#[test]
fn alpine_order_agrees_with_apk_where_installed() {
    if !on_path("apk") {
        eprintln!("apk: not installed; our order was checked against apk-tools' vectors only");
        return;
    }
    let versions = generated_apk(5, 300);
    let pairs = pairs_to_check(Scheme::Alpine, versions, 6);
    let answers: Vec<_> = pairs
        .iter()
        .map(|(a, b)| {
            let output = Command::new("apk")
                .args(["version", "-t", a, b])
                .output()
                .expect("run apk");
            match String::from_utf8_lossy(&output.stdout).trim() {
                "<" => Some(Ordering::Less),
                "=" => Some(Ordering::Equal),
                ">" => Some(Ordering::Greater),
                _ => None,
            }
        })
        .collect();
    assert_agrees("apk version -t", Scheme::Alpine, &pairs, &answers);
}

fn generated_semver(seed: u64, count: usize) -> Vec<String> {
    let mut random = Seeded(seed);
    (0..count)
        .map(|_| {
            let core = |random: &mut Seeded| match random.below(4) {
                0 => "0".to_owned(),
                _ => format!("{}", random.below(30)),
            };
            let mut version = format!(
                "{}.{}.{}",
                core(&mut random),
                core(&mut random),
                core(&mut random)
            );
            if random.below(2) == 0 {
                version.push('-');
                let identifiers = 1 + random.below(3);
                let parts: Vec<String> = (0..identifiers)
                    .map(|_| match random.below(4) {
                        0 => format!("{}", random.below(20)),
                        1 => random
                            .pick(&["alpha", "beta", "rc", "pre", "x-y", "RC", "next"])
                            .to_owned(),
                        2 => format!("{}{}", random.pick(&["rc", "beta", "a"]), random.below(12)),
                        _ => random.pick(&["0", "1", "alpha", "beta"]).to_owned(),
                    })
                    .collect();
                version.push_str(&parts.join("."));
            }
            if random.below(5) == 0 {
                version.push_str(&format!("+build.{}", random.below(100)));
            }
            version
        })
        .collect()
}

#[test]
fn semver_order_agrees_with_npm_semver() {
    let module = oracle_tools().join("node/node_modules/semver");
    let present = on_path("node") && module.join("package.json").exists();
    if !oracle_present(
        "npm semver",
        present,
        "run `bash scripts/version-oracles.sh --install`",
    ) {
        return;
    }
    let mut versions = lines(include_str!("data/versions/npm.txt"));
    versions.extend(generated_semver(7, 250));
    eprintln!("npm semver: {} versions", versions.len());
    let pairs = pairs_to_check(Scheme::Semver, versions, 8);
    let script = format!(
        "const semver = require({module:?});
         const lines = require('fs').readFileSync(0, 'utf8').split('\\n').filter(l => l.length);
         for (const line of lines) {{
           const [a, b] = line.split('\\t');
           console.log(semver.valid(a) && semver.valid(b) ? String(semver.compare(a, b)) : 'invalid');
         }}",
        module = module.display().to_string()
    );
    let mut node = Command::new("node");
    node.args(["-e", &script]);
    let answers = answers_from_script(node, &pairs);
    assert_agrees("npm semver", Scheme::Semver, &pairs, &answers);
}

fn generated_pep440(seed: u64, count: usize) -> Vec<String> {
    let mut random = Seeded(seed);
    (0..count)
        .map(|_| {
            let mut version = String::new();
            if random.below(8) == 0 {
                version.push_str(&format!("{}!", random.below(3)));
            }
            version.push_str(&random.dotted(4));
            if random.below(2) == 0 {
                version.push_str(random.pick(&[
                    "a", "b", "rc", "alpha", "beta", "c", "-rc", ".pre", "preview", "RC",
                ]));
                version.push_str(&format!("{}", random.below(12)));
            }
            if random.below(3) == 0 {
                version.push_str(random.pick(&[".post", "post", "-post", ".rev", "-"]));
                version.push_str(&format!("{}", random.below(5)));
            }
            if random.below(3) == 0 {
                version.push_str(random.pick(&[".dev", "dev", "-dev"]));
                version.push_str(&format!("{}", random.below(5)));
            }
            if random.below(5) == 0 {
                version.push('+');
                version.push_str(random.pick(&[
                    "ubuntu", "local", "cu118", "1", "abc.5", "abc.7", "5", "Z.2",
                ]));
            }
            version
        })
        .collect()
}

#[test]
fn pep440_order_agrees_with_packaging() {
    let python = oracle_tools().join("venv/bin/python");
    let present = Command::new(&python)
        .args(["-c", "import packaging.version"])
        .status()
        .is_ok_and(|status| status.success());
    if !oracle_present(
        "packaging",
        present,
        "run `bash scripts/version-oracles.sh --install`",
    ) {
        return;
    }
    let mut versions = lines(include_str!("data/versions/pypi.txt"));
    versions.extend(generated_pep440(9, 250));
    eprintln!("packaging: {} versions", versions.len());
    let pairs = pairs_to_check(Scheme::Pep440, versions, 10);
    let script = "import sys
from packaging.version import Version, InvalidVersion
for line in sys.stdin:
    a, b = line.rstrip('\\n').split('\\t')
    try:
        x, y = Version(a), Version(b)
    except InvalidVersion:
        print('invalid')
        continue
    print((x > y) - (x < y))
";
    let mut command = Command::new(&python);
    command.args(["-c", script]);
    let answers = answers_from_script(command, &pairs);
    assert_agrees("packaging", Scheme::Pep440, &pairs, &answers);
}
