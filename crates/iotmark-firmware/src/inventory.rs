//! Which third-party components an image ships, and in which versions.
//!
//! Three sources, in order of trust:
//!
//! 1. package databases (`/usr/lib/opkg/status`, `/lib/apk/db/installed`,
//!    `/var/lib/dpkg/status`): what the build system says it installed;
//! 2. kernel banners (`Linux version X.Y.Z (…)`) in decompressed kernels, collected while
//!    unpacking ([`kernel_banners`]);
//! 3. file contents: version strings found in raw bytes.
//!
//! File contents are read as bytes, never parsed as ELF: real firmware and the peer test
//! corpus both hold binaries whose headers do not parse. Each file gets one pass of an
//! Aho-Corasick automaton over the literal anchors of every signature in
//! `data/components/*.yaml`; each anchor hit then runs one small regex on the printable string
//! around it (`regex` rules) or looks at the neighbouring strings for a bare version
//! (`near` rules, for programs that print `"%s version %s"` with the version in a separate
//! string).
//!
//! A version hit is classified, because a version string in a file does not always mean the
//! file ships that component:
//!
//! - [`Relation::Is`]: the file *is* the component (its name is one of the product's file
//!   names, e.g. `libcrypto.so.3` for OpenSSL);
//! - [`Relation::Contains`]: another file carries an embedded copy (a static link), shown by
//!   a banner that only the product's own code holds;
//! - [`Relation::HeaderOnly`]: only a string that a program picks up from the product's
//!   *headers* when it is built (OpenSSL's `OPENSSL_VERSION_TEXT` inside hostapd, which
//!   links the shared libcrypto). It says which version the program was compiled against,
//!   not what is installed, so it is evidence, never a component.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::bytes::Regex;

use crate::packages::{self, ChangelogEntry, Distro, PackageSource, Problem, purl_encode};
use crate::tree::{self, Tree};

/// How a component was found to be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// Listed in a package database.
    Package,
    /// The kernel banner of a decompressed kernel image.
    Kernel,
    /// The file is the component.
    Is,
    /// The file holds an embedded copy of the component.
    Contains,
    /// Only a build-time header string: not a component.
    HeaderOnly,
}

/// The CycloneDX component type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentType {
    Application,
    Library,
    OperatingSystem,
    Firmware,
}

/// Where a component was seen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Occurrence {
    /// The filesystem (as labelled by the scan), empty for the image itself.
    pub filesystem: String,
    /// Path inside the filesystem, with a leading `/`.
    pub path: String,
    /// Byte offset of the matched string in the file (or stream).
    pub offset: Option<u64>,
    /// SHA-256 of the file.
    pub sha256: Option<String>,
}

/// How an identity was established (CycloneDX `evidence.identity.methods`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    BinaryAnalysis,
    ManifestAnalysis,
}

/// One piece of identity evidence: what was matched, where, and how sure we are.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Identity {
    pub technique: Technique,
    pub confidence: f64,
    /// The matched string (or the package database stanza's name and version).
    pub value: String,
    pub path: String,
}

/// A component found in an image.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Component {
    /// Product key: the CPE product, or the package name when the product is not known.
    pub product: String,
    pub name: String,
    pub version: String,
    pub kind: ComponentType,
    /// CPE 2.3 formatted string, when the product is known.
    pub cpe: Option<String>,
    pub purl: String,
    pub relation: Relation,
    /// SHA-256 of the file that is the component (when it is one file).
    pub sha256: Option<String>,
    pub occurrences: Vec<Occurrence>,
    pub evidence: Vec<Identity>,
    /// The package database that lists the component ([`Relation::Package`] only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<PackageSource>,
    /// The package's architecture (`armhf`, `x86_64`, `noarch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Who supplies the package: dpkg/opkg/apk Maintainer, rpm Vendor (or Packager),
    /// Python or npm author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// Licences as the database states them (an SPDX expression or a name), unparsed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The source package it was built from (dpkg Source, apk origin, rpm SOURCERPM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_package: Option<String>,
    /// The paths the package owns, with a leading `/`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Debian changelog entries (newest first): each version and the CVE IDs it names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changelog: Vec<ChangelogEntry>,
    /// For a version string found in a file that a package owns, when the package's version
    /// disagrees: that package's purl. Package metadata outranks strings, so this component
    /// is the weaker claim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contradicted_by: Option<String>,
}

impl Component {
    /// A component with the identity fields set, a generic purl, and every other field
    /// empty: the starting point for code that builds components (`..Component::new(…)`).
    pub fn new(
        product: String,
        name: String,
        version: String,
        kind: ComponentType,
        relation: Relation,
    ) -> Component {
        Component {
            purl: generic_purl(&name, &version),
            product,
            name,
            version,
            kind,
            cpe: None,
            relation,
            sha256: None,
            occurrences: Vec::new(),
            evidence: Vec::new(),
            source: None,
            arch: None,
            supplier: None,
            licenses: Vec::new(),
            source_package: None,
            files: Vec::new(),
            changelog: Vec::new(),
            contradicted_by: None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The signature table

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductDef {
    /// `vendor:product` as in NVD's CPE dictionary.
    cpe: String,
    /// Display name; defaults to the CPE product.
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "type", default = "default_type")]
    kind: ComponentType,
    /// CPE part: `a` (application) or `o` (operating system).
    #[serde(default = "default_part")]
    part: String,
    /// File names (`*` wildcard) that mean the file is this product.
    #[serde(default)]
    files: Vec<String>,
    /// Package names in opkg/apk/dpkg/rpm databases that are this product, and Python or
    /// npm packages named `pypi:NAME` or `npm:NAME`.
    #[serde(default)]
    packages: Vec<String>,
    /// Strings only the product's own code contains: with one of them, a header-type
    /// version string in another file is an embedded copy, not a header leftover.
    #[serde(default)]
    implementation: Vec<String>,
    /// A suite of programs that all print the product's banner (util-linux, procps-ng):
    /// a banner in any file makes that file part of the product, not an embedded copy.
    #[serde(default)]
    suite: bool,
    rules: Vec<RuleDef>,
}

fn default_type() -> ComponentType {
    ComponentType::Application
}

fn default_part() -> String {
    "a".to_owned()
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    /// The literal anchor (absent for `name` rules).
    #[serde(default)]
    find: Option<String>,
    /// A regex the file's *name* must match, instead of an anchor in its contents; group 1
    /// is the version. For libraries whose only version in a build is the versioned file
    /// name (`libxml2.so.2.9.4`, where the soname carries the full release).
    #[serde(default)]
    name: Option<String>,
    /// A regex run on the printable string around the anchor; group 1 is the version. With
    /// `near`, a condition on the anchor's string instead (e.g. that it is the whole string
    /// `"chrony"`, not a path that contains the word).
    #[serde(default)]
    regex: Option<String>,
    /// A regex a whole neighbouring string must match to be the version (group 1 if any).
    #[serde(default)]
    near: Option<String>,
    /// How many strings before and after the anchor's string `near` looks at.
    #[serde(default = "default_within")]
    within: usize,
    /// The string comes from the product's headers, so it can sit in programs that only
    /// link against it.
    #[serde(default)]
    header: bool,
    /// Apply only to files that are the product (for weak anchors).
    #[serde(default)]
    only_is: bool,
    /// Evidence that only bounds the version (e.g. a library's newest symbol version, which
    /// names the last release that added API): it counts only when no other rule of the
    /// product finds a version in the file.
    #[serde(default)]
    fallback: bool,
}

fn default_within() -> usize {
    2
}

#[derive(Debug)]
enum Matcher {
    Regex(LazyRegex),
    Near {
        version: LazyRegex,
        within: usize,
        /// What the anchor's own string must match, when the anchor alone is too common.
        anchor: Option<LazyRegex>,
    },
    /// The product's source tree in a path its build left behind (see
    /// [`source_tree_pattern`]): group 1 is the directory above it, group 2 the version.
    SourceTree(LazyRegex),
}

/// A rule's regex, compiled the first time one of its anchors is hit. Compiling the whole
/// table's regexes took 35 ms of every scan, far more than the search of a router image,
/// while an image hits the anchors of a few dozen rules. The table is checked whole by
/// [`Signatures::compile_all`] in the unit tests, so a pattern that does not compile is
/// a build defect; in a scan such a rule would simply never match.
#[derive(Debug)]
struct LazyRegex {
    pattern: String,
    compiled: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    fn new(pattern: String) -> Self {
        LazyRegex {
            pattern,
            compiled: OnceLock::new(),
        }
    }

    fn get(&self) -> Option<&Regex> {
        self.compiled
            .get_or_init(|| Regex::new(&self.pattern).ok())
            .as_ref()
    }

    #[cfg(test)]
    fn check(&self) -> Result<(), regex::Error> {
        Regex::new(&self.pattern).map(drop)
    }
}

#[derive(Debug)]
struct Rule {
    matcher: Matcher,
    header: bool,
    only_is: bool,
    confidence: f64,
}

#[derive(Debug)]
struct Product {
    vendor: String,
    product: String,
    name: String,
    kind: ComponentType,
    part: String,
    files: Vec<String>,
    packages: Vec<String>,
    implementation: Vec<String>,
    suite: bool,
    rules: Vec<Rule>,
}

/// The compiled table: products, one automaton over every anchor, and for each anchor the
/// rules that use it.
#[derive(Debug)]
struct Signatures {
    products: Vec<Product>,
    anchors: AhoCorasick,
    by_anchor: Vec<Vec<(usize, usize)>>,
    /// `name` rules: (product, regex on the file name).
    file_names: Vec<(usize, Regex)>,
}

impl Signatures {
    /// Compiles every rule's regex now, naming the first that does not compile.
    #[cfg(test)]
    fn compile_all(&self) -> Result<(), String> {
        for p in &self.products {
            for (ri, rule) in p.rules.iter().enumerate() {
                let regexes: Vec<&LazyRegex> = match &rule.matcher {
                    Matcher::Regex(re) | Matcher::SourceTree(re) => vec![re],
                    Matcher::Near {
                        version, anchor, ..
                    } => std::iter::once(version).chain(anchor).collect(),
                };
                for re in regexes {
                    re.check()
                        .map_err(|e| format!("{} rule {ri}: {e}", p.product))?;
                }
            }
        }
        Ok(())
    }
}

/// The signature files, each a YAML list of products (`data/components/`), with their names
/// for error messages. Split by product name so that the table stays readable.
const TABLE: &[(&str, &str)] = &[
    ("core.yaml", include_str!("../data/components/core.yaml")),
    ("a-l.yaml", include_str!("../data/components/a-l.yaml")),
    ("m-z.yaml", include_str!("../data/components/m-z.yaml")),
];

fn compile(table: &[(&str, &str)]) -> Result<Signatures, String> {
    let mut defs: Vec<ProductDef> = Vec::new();
    for (file, text) in table {
        let part: Vec<ProductDef> =
            serde_saphyr::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        defs.extend(part);
    }
    let mut products = Vec::new();
    let mut anchors: Vec<String> = Vec::new();
    let mut by_anchor: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut anchor_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut file_names = Vec::new();
    for (pi, def) in defs.into_iter().enumerate() {
        let (vendor, product) = def
            .cpe
            .split_once(':')
            .ok_or_else(|| format!("`{}`: cpe must be vendor:product", def.cpe))?;
        let mut rules = Vec::new();
        for (ri, r) in def.rules.into_iter().enumerate() {
            let bad = |e: regex::Error| format!("{product} rule {ri}: {e}");
            if let Some(re) = &r.name {
                if r.find.is_some() || r.regex.is_some() || r.near.is_some() {
                    return Err(format!(
                        "{product} rule {ri}: a name rule takes no find, regex or near"
                    ));
                }
                file_names.push((pi, Regex::new(&format!("(?-u)^(?:{re})$")).map_err(bad)?));
                continue;
            }
            let Some(find) = r.find.filter(|f| !f.is_empty()) else {
                return Err(format!("{product} rule {ri}: empty anchor"));
            };
            // ASCII classes (`\d`, `\w`) and `.` over any byte: the input is raw bytes.
            let matcher = match (&r.regex, &r.near) {
                (Some(re), None) => Matcher::Regex(LazyRegex::new(format!("(?-u){re}"))),
                (anchor, Some(v)) => Matcher::Near {
                    version: LazyRegex::new(format!("(?-u)^(?:{v})$")),
                    within: r.within,
                    anchor: anchor
                        .as_ref()
                        .map(|re| LazyRegex::new(format!("(?-u){re}"))),
                },
                (None, None) => {
                    return Err(format!("{product} rule {ri}: give regex or near"));
                }
            };
            let confidence = match (&matcher, r.header) {
                // Below `name` rules' 0.6 too: the file name states the release.
                _ if r.fallback => 0.5,
                (Matcher::Regex(_), false) => 0.9,
                (Matcher::Regex(_), true) => 0.8,
                (Matcher::Near { .. }, _) => 0.7,
                (Matcher::SourceTree(_), _) => SOURCE_TREE,
            };
            add_anchor(
                &mut anchor_index,
                &mut anchors,
                &mut by_anchor,
                find,
                (pi, rules.len()),
            );
            rules.push(Rule {
                matcher,
                header: r.header,
                only_is: r.only_is,
                confidence,
            });
        }
        // Every product's source tree, by its own names, beside the rules written for it.
        let mut tree_names = vec![product.to_ascii_lowercase()];
        tree_names.extend(def.name.as_ref().map(|n| n.to_ascii_lowercase()));
        tree_names.dedup();
        for name in tree_names {
            if name.len() < 2
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
            {
                continue;
            }
            let find = format!("/{name}-");
            add_anchor(
                &mut anchor_index,
                &mut anchors,
                &mut by_anchor,
                find,
                (pi, rules.len()),
            );
            rules.push(Rule {
                matcher: Matcher::SourceTree(LazyRegex::new(source_tree_pattern(&name))),
                header: false,
                only_is: false,
                confidence: SOURCE_TREE,
            });
        }
        products.push(Product {
            vendor: vendor.to_owned(),
            product: product.to_owned(),
            name: def.name.unwrap_or_else(|| product.to_owned()),
            kind: def.kind,
            part: def.part,
            files: def.files,
            packages: def.packages,
            implementation: def.implementation,
            suite: def.suite,
            rules,
        });
    }
    let anchors = AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::Standard)
        // A full DFA: one table lookup per byte. With a thousand anchors the default
        // (a contiguous NFA) follows failure links and searched the router image half as
        // fast; the table costs a few MiB, built once.
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(&anchors)
        .map_err(|e| e.to_string())?;
    Ok(Signatures {
        products,
        anchors,
        by_anchor,
        file_names,
    })
}

/// Files rule `rule` (product, rule index) under its anchor, adding the anchor to the
/// automaton's list the first time it is used: each anchor is searched once, however many
/// rules share it.
fn add_anchor(
    index: &mut BTreeMap<String, usize>,
    anchors: &mut Vec<String>,
    by_anchor: &mut Vec<Vec<(usize, usize)>>,
    find: String,
    rule: (usize, usize),
) {
    let ai = *index.entry(find.clone()).or_insert_with(|| {
        anchors.push(find);
        by_anchor.push(Vec::new());
        anchors.len() - 1
    });
    if let Some(rules) = by_anchor.get_mut(ai) {
        rules.push(rule);
    }
}

/// Confidence of a version read from the product's source tree in a path: the release the
/// build unpacked, which outranks what a program prints (a banner nobody bumped, as in
/// debianutils or trousers), below only the file's own packaging note.
const SOURCE_TREE: f64 = 0.95;

/// The pattern of a product's source tree in a path a build left in its output: an
/// assertion's `__FILE__` (`/build/gdb-1WjiBe/gdb-15.0.50.20240403/gdb/gdb.c`,
/// `build_dir/target-mips_24kc_musl/dropbear-2022.83/svr-auth.c`,
/// `/builddir/build/BUILD/curl-8.2.1/lib/url.c`) or a recorded compiler flag
/// (`-ffile-prefix-map=/build/lynx-AbCd/lynx-2.9.2=.`). Every build system unpacks a
/// release into a directory named `name-version`, with the distribution's own suffix
/// (`+repack`, `~dfsg`) after it. The path must go on to a source file, or end the flag's
/// first half with `=`: a directory of that shape that leads to anything else is as often a
/// versioned interface (`gstreamer-1.0/gst-plugin-scanner`, `qt-4.8/qthelpproject.html`)
/// or a translator's scratch copy (`/tmp/gimp-2.7.1/po`). Group 1 is the directory above,
/// which [`api_directory`] checks; group 2 the version.
fn source_tree_pattern(name: &str) -> String {
    format!(
        concat!(
            r"(?-u)(?:^|/)([^/\s]*)/{}-",
            // Debian's `+really` names a package that went back to an older release:
            // `graphicsmagick-1.4+really1.3.40` holds 1.3.40.
            r"(?:\d[\w.]*\+really)?",
            r"(\d+(?:\.\d+)+(?:[a-z]+\d*(?:\.\d+)*|-(?:rc|alpha|beta|pre|P)\d*)?)",
            r"(?:[+~][^/=\s]*)?",
            r"(?:/[^\s=:;,'()]*\.(?:c|cc|cpp|cxx|h|hh|hpp|hxx|inc|def|y|l|go|rs|s|S|m|mm|vala)",
            r"(?:$|[\s:;,'()])|=)"
        ),
        regex::escape(name)
    )
}

/// Whether the directory above a `name-version` directory makes it a versioned API
/// directory rather than a source tree: `/usr/include/glib-2.0/`,
/// `/usr/lib/x86_64-linux-gnu/gstreamer-1.0/` and Go's `/usr/lib/go-1.19/` name the
/// interface or toolchain a program was built against, not a release it holds.
fn api_directory(parent: &[u8]) -> bool {
    matches!(
        parent,
        b"include" | b"lib" | b"lib32" | b"lib64" | b"libx32" | b"libexec" | b"share" | b"etc"
    ) || memchr::memmem::find(parent, b"-linux").is_some()
}

fn signatures() -> &'static Signatures {
    static SIGS: OnceLock<Signatures> = OnceLock::new();
    // The table is compiled into the binary and checked by a unit test, so a failure here
    // is a build defect, not something an image can cause.
    SIGS.get_or_init(|| {
        compile(TABLE).unwrap_or_else(|e| {
            panic!("the signature table (data/components/*.yaml) is invalid: {e}")
        })
    })
}

/// Number of products in the signature table.
pub fn signature_count() -> usize {
    signatures().products.len()
}

// ---------------------------------------------------------------------------------------
// Matching one file

/// A version string found in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    product: usize,
    pub version: String,
    pub offset: u64,
    pub matched: String,
    header: bool,
    confidence: f64,
    /// From the file's own packaging metadata note, not from its strings.
    note: bool,
    /// From the product's source tree in a path: code built from it is in the file, which
    /// makes the file part of a suite no more than a static link does.
    source_tree: bool,
}

/// Printable ASCII (and tab): what makes up a string in a binary.
fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\t'
}

/// Longest stretch of a string considered on each side of an anchor.
const STRING_SPAN: usize = 256;
/// Most hits of one anchor examined per file, so a file full of one anchor stays cheap.
const HITS_PER_ANCHOR: usize = 256;

/// The printable string around `start..end`, bounded.
fn string_around(data: &[u8], start: usize, end: usize) -> (usize, usize) {
    let mut s = start;
    while s > 0 && start - s < STRING_SPAN && data.get(s - 1).is_some_and(|&b| printable(b)) {
        s -= 1;
    }
    let mut e = end;
    while e - end < STRING_SPAN && data.get(e).is_some_and(|&b| printable(b)) {
        e += 1;
    }
    (s, e)
}

/// Shortest printable run counted as a string when looking for neighbours: one or two
/// printable bytes between strings are machine code or padding (as for `strings`, whose
/// minimum is 4), and the shortest version, `1.0`, has three.
const MIN_STRING: usize = 3;

/// Whether a byte ends a string: a C string's NUL, or the newline between strings in
/// `strings` output (the condensed corpus).
fn ends_string(b: u8) -> bool {
    b == 0 || b == b'\n'
}

/// Whether `start..end`, a run of printable bytes, counts as a string: [`MIN_STRING`] bytes
/// or more, or a two-digit number standing alone between string ends (a constant such as
/// ngIRCd's release `"28"`, which a run of code bytes rarely imitates).
fn is_string(data: &[u8], start: usize, end: usize) -> bool {
    end - start >= MIN_STRING
        || (end - start == 2
            && data[start..end].iter().all(u8::is_ascii_digit)
            && start > 0
            && ends_string(data[start - 1])
            && data.get(end).is_some_and(|&b| ends_string(b)))
}

/// Up to `n` strings before `from` (nearest first), each as (start, end).
fn strings_before(data: &[u8], from: usize, n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = from;
    let floor = from.saturating_sub(n * STRING_SPAN + 64);
    while out.len() < n && at > floor {
        while at > floor && !data.get(at - 1).is_some_and(|&b| printable(b)) {
            at -= 1;
        }
        let end = at;
        while at > floor && data.get(at - 1).is_some_and(|&b| printable(b)) {
            at -= 1;
        }
        if is_string(data, at, end) {
            out.push((at, end));
        }
    }
    out
}

/// Up to `n` strings from `from` on (nearest first).
fn strings_after(data: &[u8], from: usize, n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = from;
    let ceil = from.saturating_add(n * STRING_SPAN + 64).min(data.len());
    while out.len() < n && at < ceil {
        while at < ceil && !data.get(at).is_some_and(|&b| printable(b)) {
            at += 1;
        }
        let start = at;
        while at < ceil && data.get(at).is_some_and(|&b| printable(b)) {
            at += 1;
        }
        if is_string(data, start, at) {
            out.push((start, at));
        }
    }
    out
}

/// Longest string taken for a bare version anywhere in a file.
const MAX_VERSION_STRING: usize = 48;

/// Confidence of a version found as the only bare version in the product's own file: below
/// every other kind of evidence (a `fallback` rule's 0.5 included), so it counts only when
/// nothing else of the product in the file gives a version.
const UNIQUE_IN_FILE: f64 = 0.45;

/// Every printable string of a file short enough to be a bare version and holding a digit
/// and a dot, as (start, end): what [`unique_version`] chooses from.
fn version_shaped_strings(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        while at < data.len() && !printable(data[at]) {
            at += 1;
        }
        let start = at;
        while at < data.len() && printable(data[at]) {
            at += 1;
        }
        let text = &data[start..at];
        // A string constant ends in a NUL; a run of printable bytes inside machine code
        // (`@\x0f512.1\xc0`) rarely does.
        let terminated = data.get(at).is_none_or(|&b| ends_string(b));
        if terminated
            && (MIN_STRING..=MAX_VERSION_STRING).contains(&text.len())
            && text.iter().any(u8::is_ascii_digit)
            && text.contains(&b'.')
        {
            out.push((start, at));
        }
    }
    out
}

/// Functions whose callers pass the library's header version as a string, with the
/// product that library is: every program calling one holds a bare dotted number that is
/// not its own version. zlib's `*Init_` macros pass `ZLIB_VERSION`, libpng's constructors
/// `PNG_LIBPNG_VER_STRING`, and the `*_check_version` calls their header's version.
const HEADER_VERSION_CALLS: [(&str, &str); 16] = [
    ("deflateInit_", "zlib"),
    ("deflateInit2_", "zlib"),
    ("inflateInit_", "zlib"),
    ("inflateInit2_", "zlib"),
    ("inflateBackInit_", "zlib"),
    ("png_create_read_struct", "libpng"),
    ("png_create_read_struct_2", "libpng"),
    ("png_create_write_struct", "libpng"),
    ("png_create_write_struct_2", "libpng"),
    ("gcry_check_version", "libgcrypt"),
    ("gpgrt_check_version", "libgpg-error"),
    ("gpg_error_check_version", "libgpg-error"),
    ("gpgme_check_version", "gpgme"),
    ("ksba_check_version", "libksba"),
    ("gnutls_check_version", "gnutls"),
    ("idn2_check_version", "libidn2"),
];

/// The libraries of [`HEADER_VERSION_CALLS`] a file names a function of, as a whole symbol
/// (between NULs in a symbol table, or newlines in `strings` output).
fn header_version_libraries(data: &[u8]) -> Vec<&'static str> {
    let whole = |at: usize, len: usize| {
        let edge = |b: Option<&u8>| b.is_none_or(|&b| ends_string(b));
        edge(at.checked_sub(1).and_then(|i| data.get(i))) && edge(data.get(at + len))
    };
    let mut out = Vec::new();
    for (name, library) in HEADER_VERSION_CALLS {
        if !out.contains(&library)
            && memchr::memmem::find_iter(data, name.as_bytes()).any(|at| whole(at, name.len()))
        {
            out.push(library);
        }
    }
    out
}

/// The version `version` finds in the one bare dotted number among `strings` (a whole string
/// each; the same number twice counts once), or in the one string of the rule's own shape
/// when no bare number has that shape; `None` when there is none, more than one, or it
/// does not have the rule's shape. This does not depend on where the compiler put the
/// string: what makes it the product's version is that the file is the product's and holds
/// its anchor, and that nothing else in it looks like a version at all.
fn unique_version<'d>(
    version: &Regex,
    strings: &[(usize, usize)],
    data: &'d [u8],
) -> Option<(String, usize, &'d [u8])> {
    // Any bare dotted number counts against uniqueness, whatever the rule's own shape: a
    // program that passes a library's header version (zlib's `1.2.11`) holds one too.
    static BARE: OnceLock<Option<Regex>> = OnceLock::new();
    let bare = BARE
        .get_or_init(|| Regex::new(r"(?-u)^v?\d+(?:\.\d+){1,3}$").ok())
        .as_ref()?;
    // A shape no bare number has (bzip2's `1.0.8, 13-Jul-2019`) is the product's own way
    // of stating its version: then the one string of that shape counts, whatever else the
    // file holds.
    let distinctive = ["1.2", "1.2.3", "1.2.3.4"]
        .iter()
        .all(|bare| !version.is_match(bare.as_bytes()));
    let mut found: Option<(&[u8], usize)> = None;
    for &(start, end) in strings {
        let text = data.get(start..end)?;
        let counts = if distinctive {
            version.is_match(text)
        } else {
            bare.is_match(text) && !is_address(text)
        };
        if !counts {
            continue;
        }
        match found {
            Some((seen, _)) if seen != text => return None,
            Some(_) => {}
            None => found = Some((text, start)),
        }
    }
    let (text, start) = found?;
    let v = version
        .captures(text)
        .as_ref()
        .and_then(|caps| version_of(caps, text))?;
    Some((v, start, text))
}

/// A version string without the distribution's packaging around the upstream release, when
/// it has some: builds that take their version from the package print the package's
/// (`16.28.0~dfsg-0+deb11u4`, `1.22c-1`, `1.1.12-0ubuntu3`, `4.4.3-P1-4ubuntu2`). Cut at
/// the first `~` or `+`, then a trailing `-` revision that starts with a digit; a `-` and a
/// letter (`-P1`) is upstream's own. Debian's `1.4+really1.3.40` (a package gone back to an
/// older release) is that older release. Returns where the release lies in `text`, so the
/// caller can still read what follows it (a `~rc1`).
fn without_packaging(text: &[u8]) -> Option<std::ops::Range<usize>> {
    if !text.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut start = 0;
    if let Some(at) = memchr::memmem::find(text, b"+really")
        && text
            .get(at + "+really".len())
            .is_some_and(u8::is_ascii_digit)
    {
        start = at + "+really".len();
    }
    let rest = text.get(start..)?;
    let mut end = rest
        .iter()
        .position(|&b| b == b'~' || b == b'+')
        .unwrap_or(rest.len());
    let cut = rest.get(..end)?;
    if let Some(at) = cut.iter().rposition(|&b| b == b'-')
        && cut.get(at + 1).is_some_and(u8::is_ascii_digit)
        && cut[at + 1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'.')
    {
        end = at;
    }
    (end < text.len() && end > 0).then_some(start..start + end)
}

/// Whether a bare dotted number is an address rather than a version: all zeros
/// (`0.0.0.0`, INADDR_ANY) or a dotted quad of octets starting at 100 or more
/// (`127.0.0.1`, `255.255.255.0`, `239.255.255.250`).
fn is_address(text: &[u8]) -> bool {
    let Some(parts) = text
        .split(|&b| b == b'.')
        .map(|p| std::str::from_utf8(p).ok().and_then(|p| p.parse().ok()))
        .collect::<Option<Vec<u32>>>()
    else {
        return false;
    };
    parts.iter().all(|&p| p == 0)
        || (parts.len() == 4 && parts[0] >= 100 && parts.iter().all(|&p| p <= 255))
}

/// The version a rule's match captured in `hay`, with the pre-release tag the product
/// printed right after it (see [`prerelease_tag`]).
fn version_of(caps: &regex::bytes::Captures<'_>, hay: &[u8]) -> Option<String> {
    let m = caps.get(1).or_else(|| caps.get(0))?;
    let mut v = String::from_utf8_lossy(m.as_bytes()).trim().to_owned();
    if !v.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    if v.ends_with(|c: char| c.is_ascii_digit())
        && let Some(tag) = hay.get(m.end()..).and_then(prerelease_tag)
    {
        v.push_str(tag);
    }
    Some(v)
}

/// A pre-release tag at the start of `after`, the bytes that follow a captured version:
/// `beta1` (Sylpheed's `3.8.0beta1`), `-beta.2` (Transmission's `4.1.0-beta.2`), `~pre1`
/// (a build that prints its Debian version, `1.8.17~pre1-1`, where `~` marks a release
/// before `1.8.17`), `-rc93`. A rule that stops at the release's digits would otherwise
/// report the final release, which every advisory fixed in it would then pass over. The
/// tag is returned as the product wrote it, without Debian's `~`. Only whole words count
/// (`-rc.d`, `-dev`, `-betas` are not tags): `beta` alone or with a number, `alpha`, `pre`,
/// `rc` and `dev` with one.
fn prerelease_tag(after: &[u8]) -> Option<&str> {
    const WORDS: [(&[u8], bool); 5] = [
        // `alpha` alone is also an instruction set (`-alpha-linux`).
        (b"alpha", true),
        (b"beta", false),
        (b"pre", true),
        (b"rc", true),
        (b"dev", true),
    ];
    let (skip, rest) = match after.first() {
        Some(b'~') => (1, after.get(1..)?),
        Some(b'-' | b'_') => (0, after.get(1..)?),
        _ => (0, after),
    };
    let (word, needs_number) = WORDS
        .iter()
        .find(|(w, _)| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w))?;
    let sep = after.len() - rest.len();
    let mut end = sep + word.len();
    // An optional `.` before the number (`beta.2`, `dev.10`), then the number.
    let number_at = match after.get(end) {
        Some(b'.') if after.get(end + 1).is_some_and(u8::is_ascii_digit) => end + 1,
        _ => end,
    };
    let digits = after
        .get(number_at..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits > 0 {
        end = number_at + digits;
    } else if *needs_number {
        return None;
    }
    // The tag must end the word: `3.0betas` or `1.2rc1x` are something else.
    if after.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    std::str::from_utf8(after.get(skip..end)?).ok()
}

/// Every version hit in one file's bytes. `is_file(product)` tells whether the file is
/// that product (for `only_is` rules).
fn scan_bytes(sigs: &Signatures, data: &[u8], is_file: &dyn Fn(&Product) -> bool) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut seen = vec![0usize; sigs.by_anchor.len()];
    // The file's version-shaped strings, read once if a rule needs them, and the rules that
    // have looked through them.
    let mut shaped: Option<Vec<(usize, usize)>> = None;
    let mut looked: Vec<(usize, usize)> = Vec::new();
    // Whether the file calls a library that leaves its header version in the caller.
    let mut header_calls: Option<Vec<&str>> = None;
    for m in sigs.anchors.find_overlapping_iter(data) {
        let ai = m.pattern().as_usize();
        let Some(count) = seen.get_mut(ai) else {
            continue;
        };
        if *count >= HITS_PER_ANCHOR {
            continue;
        }
        let mut examined = false;
        for &(pi, ri) in sigs.by_anchor.get(ai).into_iter().flatten() {
            let (Some(product), Some(rule)) = (
                sigs.products.get(pi),
                sigs.products.get(pi).and_then(|p| p.rules.get(ri)),
            ) else {
                continue;
            };
            if rule.only_is && !is_file(product) {
                continue;
            }
            examined = true;
            let (s, e) = string_around(data, m.start(), m.end());
            let Some(string) = data.get(s..e) else {
                continue;
            };
            let found = match &rule.matcher {
                Matcher::Regex(re) => re
                    .get()
                    .into_iter()
                    .flat_map(|re| re.captures_iter(string))
                    .find(|c| {
                        // The match must overlap the anchor, so one string with two
                        // anchors does not report the same match twice for unrelated rules.
                        c.get(0)
                            .is_some_and(|g| s + g.start() < m.end() && s + g.end() > m.start())
                    })
                    .and_then(|c| {
                        let at = c.get(1).or_else(|| c.get(0)).map_or(s, |g| s + g.start());
                        version_of(&c, string).map(|v| (v, at, string, rule.confidence))
                    }),
                Matcher::SourceTree(re) => re
                    .get()
                    .into_iter()
                    .flat_map(|re| re.captures_iter(string))
                    .find(|c| {
                        c.get(1)
                            .is_some_and(|parent| !api_directory(parent.as_bytes()))
                            && c.get(0)
                                .is_some_and(|g| s + g.start() < m.end() && s + g.end() > m.start())
                    })
                    .and_then(|c| {
                        let v = c.get(2)?;
                        let version = String::from_utf8_lossy(v.as_bytes()).into_owned();
                        Some((version, s + v.start(), string, rule.confidence))
                    }),
                Matcher::Near {
                    anchor: Some(anchor),
                    ..
                } if !anchor.get().is_some_and(|a| a.is_match(string)) => None,
                Matcher::Near {
                    version, within, ..
                } => {
                    let before = strings_before(data, s, *within);
                    let after = strings_after(data, e, *within);
                    // Nearest first; at equal distance the string before wins (a version
                    // constant usually precedes the format string that prints it).
                    let mut candidates = Vec::new();
                    for i in 0..*within {
                        candidates.extend(before.get(i));
                        candidates.extend(after.get(i));
                    }
                    let near = candidates.into_iter().find_map(|&(cs, ce)| {
                        let text = data.get(cs..ce)?;
                        let re = version.get()?;
                        let version = match re.captures(text) {
                            Some(caps) => version_of(&caps, text),
                            None => {
                                // The tag after the cut (`~pre1`) is still read.
                                let cut = without_packaging(text)?;
                                let caps = re.captures(text.get(cut.clone())?)?;
                                version_of(&caps, text.get(cut.start..)?)
                            }
                        };
                        version.map(|v| (v, cs, text, rule.confidence))
                    });
                    match near {
                        Some(found) => Some(found),
                        // Not beside the anchor, where another build put it: in the
                        // product's own file, the only string of the version's shape.
                        None if is_file(product)
                            && !looked.contains(&(pi, ri))
                            && header_calls
                                .get_or_insert_with(|| header_version_libraries(data))
                                .iter()
                                .all(|&library| library == product.product) =>
                        {
                            looked.push((pi, ri));
                            let strings =
                                shaped.get_or_insert_with(|| version_shaped_strings(data));
                            version
                                .get()
                                .and_then(|re| unique_version(re, strings, data))
                                .map(|(v, at, text)| (v, at, text, UNIQUE_IN_FILE))
                        }
                        None => None,
                    }
                }
            };
            if let Some((version, at, text, confidence)) = found {
                hits.push(Hit {
                    product: pi,
                    version,
                    offset: at as u64,
                    matched: String::from_utf8_lossy(text).into_owned(),
                    header: rule.header,
                    confidence,
                    note: false,
                    source_tree: matches!(rule.matcher, Matcher::SourceTree(_)),
                });
            }
        }
        // Only hits that ran a rule count towards the cap, so a common anchor used by an
        // `only_is` rule does not use up the budget in unrelated files.
        if examined {
            *count += 1;
        }
    }
    if !hits.is_empty() && memchr::memchr(0, data).is_none() {
        let code = first_code_line(data);
        hits.retain(|h| {
            let product = sigs.products.get(h.product);
            product.is_some_and(is_file)
                || !commented_mention(data, usize::try_from(h.offset).unwrap_or(0), code)
        });
    }
    hits
}

/// Whether a line of a text file is a line comment: `#` (not a preprocessor directive),
/// `--` (Lua, SQL), `//`, `;`.
fn line_comment(line: &[u8]) -> bool {
    let line = line.trim_ascii_start();
    if let Some(rest) = line.strip_prefix(b"#") {
        // The whole word: `# iface eth0` and `# elsewhere` are comments, `#ifdef` is not.
        let rest = rest.trim_ascii_start();
        let len = rest
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .unwrap_or(rest.len());
        let word = rest.get(..len).unwrap_or_default();
        return !PREPROCESSOR_DIRECTIVES.contains(&word);
    }
    [&b"--"[..], b"//", b";"]
        .iter()
        .any(|m| line.starts_with(m))
}

/// The C preprocessor's directives: a `#` line that starts with one of them is code.
const PREPROCESSOR_DIRECTIVES: [&[u8]; 17] = [
    b"define",
    b"undef",
    b"include",
    b"include_next",
    b"import",
    b"if",
    b"ifdef",
    b"ifndef",
    b"elif",
    b"elifdef",
    b"elifndef",
    b"else",
    b"endif",
    b"pragma",
    b"error",
    b"warning",
    b"line",
];

/// The offset where a text file's first line that is neither blank nor a line comment
/// starts: what comes before is the file's header (a shebang, a licence, a banner).
fn first_code_line(data: &[u8]) -> usize {
    let mut start = 0;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if !line.trim_ascii().is_empty() && !line_comment(line) {
            return start;
        }
        start += line.len();
    }
    data.len()
}

/// Whether the version at `at` of a text file is written on a line comment after the
/// file's header (`code` is where the header ends): an example of another program's output,
/// a fingerprint or a change note (nmap's probes and scripts quote `mosquitto version 1.4.8`
/// and `GNU inetutils 1.4.1`), not a copy of the product. Block comments are not counted:
/// JavaScript bundles keep each library's `/*!` banner where the library starts.
fn commented_mention(data: &[u8], at: usize, code: usize) -> bool {
    if at < code {
        return false;
    }
    let head = data.get(..at).unwrap_or(data);
    let start = memchr::memrchr(b'\n', head).map_or(0, |i| i + 1);
    let rest = data.get(start..).unwrap_or_default();
    let end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
    line_comment(rest.get(..end).unwrap_or_default())
}

/// The product and version an ELF file's packaging note names (systemd's `.note.package`):
/// package metadata in the file itself, so it outranks every string (confidence 1.0). The
/// note names the source package, matched against each product's package names and its
/// CPE product; its version's upstream part is the version.
fn note_hit(sigs: &Signatures, data: &[u8]) -> Option<Hit> {
    let note = crate::packages::elf_note::read(data)?;
    let product = sigs
        .products
        .iter()
        .position(|s| s.packages.iter().any(|n| glob(n, &note.name)) || s.product == note.name)?;
    let version = upstream_version(&note.version);
    // `1.3.dfsg+really1.3.1`: Debian's way of saying the upstream release is the last part.
    let version = version.rsplit_once("really").map_or(version, |(_, v)| v);
    let release = version.split(['~', '+']).next().unwrap_or(version);
    // `0.27.0~rc1`: the `~` marks a pre-release, which stays (`0.27.0rc1`).
    let tag = version
        .strip_prefix(release)
        .filter(|rest| rest.starts_with('~'))
        .and_then(|rest| prerelease_tag(rest.as_bytes()))
        .unwrap_or_default();
    let mut version = format!("{}{tag}", release.trim_end_matches(".dfsg"));
    // A native Debian package has no revision; Ubuntu's rebuilds of one append `buildN` or
    // `ubuntuN` to the version itself.
    if note.kind == "deb" && !note.version.contains('-') {
        for suffix in ["build", "ubuntu"] {
            if let Some((base, n)) = version.rsplit_once(suffix)
                && !base.is_empty()
                && n.chars().all(|c| c.is_ascii_digit() || c == '.')
            {
                version = base.to_owned();
            }
        }
    }
    if version.is_empty() {
        return None;
    }
    Some(Hit {
        product,
        version,
        offset: 0,
        matched: format!(
            "package note: {} {} ({})",
            note.name, note.version, note.kind
        ),
        header: false,
        confidence: 1.0,
        note: true,
        source_tree: false,
    })
}

/// Version hits from the file's name (`name` rules). They rank below any version found in
/// the contents, which the product states itself.
fn name_hits(sigs: &Signatures, path: &Path) -> Vec<Hit> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    sigs.file_names
        .iter()
        .filter_map(|(pi, re)| {
            let caps = re.captures(name.as_bytes())?;
            Some(Hit {
                product: *pi,
                version: version_of(&caps, name.as_bytes())?,
                // The name, not a place in the contents.
                offset: 0,
                matched: name.to_owned(),
                header: false,
                confidence: 0.6,
                note: false,
                source_tree: false,
            })
        })
        .collect()
}

/// `*` wildcard match of a file name against a pattern.
fn glob(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return pattern == name;
    };
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    if parts.is_empty() {
        return rest.is_empty();
    }
    for (i, part) in parts.iter().enumerate() {
        if i == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn is_product_file(product: &Product, path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    // A static archive is the same library as its shared object (`libz.so*` → `libz.a`).
    product.files.iter().any(|p| {
        glob(p, &name)
            || p.strip_suffix(".so*")
                .is_some_and(|stem| glob(&format!("{stem}.a"), &name))
    })
}

/// The classified version findings of one file: (product index, version, relation, hits).
fn classify(
    sigs: &Signatures,
    path: &Path,
    data: &[u8],
    hits: Vec<Hit>,
) -> Vec<(usize, String, Relation, Vec<Hit>)> {
    let mut by_product: BTreeMap<usize, Vec<Hit>> = BTreeMap::new();
    for h in hits {
        by_product.entry(h.product).or_default().push(h);
    }
    let mut out = Vec::new();
    for (pi, hits) in by_product {
        let Some(product) = sigs.products.get(pi) else {
            continue;
        };
        // Within one file, the strongest kind of evidence decides: a full banner beats a
        // bare number next to a format string.
        let best = hits.iter().map(|h| h.confidence).fold(0.0, f64::max);
        let mut by_version: BTreeMap<String, Vec<Hit>> = BTreeMap::new();
        for h in hits.into_iter().filter(|h| h.confidence >= best) {
            by_version.entry(h.version.clone()).or_default().push(h);
        }
        // The same product in one file at `8.0` and `8.0p1` (OpenSSH's SSH_VERSION and its
        // portable release): the more specific one is the version.
        let versions: Vec<String> = by_version.keys().cloned().collect();
        by_version.retain(|v, _| {
            !versions
                .iter()
                .any(|w| w.len() > v.len() && w.starts_with(v.as_str()))
        });
        let is = is_product_file(product, path);
        for (version, hits) in by_version {
            let banner = hits.iter().any(|h| !h.header && !h.source_tree);
            // A file whose packaging note names the product was built in its package.
            let noted = hits.iter().any(|h| h.note);
            let relation = if is || noted || (product.suite && banner) {
                Relation::Is
            } else if hits.iter().all(|h| h.header)
                && !product
                    .implementation
                    .iter()
                    .any(|m| memchr::memmem::find(data, m.as_bytes()).is_some())
            {
                Relation::HeaderOnly
            } else {
                Relation::Contains
            };
            out.push((pi, version, relation, hits));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Identifiers

/// Escapes a value for a CPE 2.3 formatted string (NISTIR 7695 §6.2): everything but
/// letters, digits, `_`, `-` and `.` is quoted with a backslash.
fn cpe_escape(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii() && !c.is_ascii_control() && c != ' ' {
            out.push('\\');
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

/// A CPE 2.3 name. A pre-release goes in the update attribute, as NVD writes it
/// (`2.1.0-beta3` is `2.1.0:beta3`), so that both NVD's criteria for that pre-release and
/// those for every update of its release (`2.1.0:*`) apply.
fn cpe(part: &str, vendor: &str, product: &str, version: &str) -> String {
    let (release, update) = match split_prerelease(version) {
        Some((release, tag)) => (release, cpe_escape(&tag)),
        None => (version, "*".to_owned()),
    };
    format!(
        "cpe:2.3:{part}:{}:{}:{}:{update}:*:*:*:*:*:*",
        cpe_escape(vendor),
        cpe_escape(product),
        cpe_escape(release)
    )
}

/// A version that is a dotted release followed by a pre-release tag, split in two: the
/// release and the tag without punctuation (`4.1.0-beta.2` is `4.1.0` and `beta2`).
fn split_prerelease(version: &str) -> Option<(&str, String)> {
    let at = version
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))?;
    let release = version.get(..at)?;
    if !release.ends_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let rest = version.get(at..)?;
    let tag = prerelease_tag(rest.as_bytes()).filter(|tag| {
        // The whole rest is the tag (a `~` is dropped from what it returns).
        rest.trim_start_matches('~') == *tag
    })?;
    let tag: String = tag
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    Some((release, tag))
}

fn generic_purl(name: &str, version: &str) -> String {
    format!(
        "pkg:generic/{}@{}",
        purl_encode(&name.to_ascii_lowercase()),
        purl_encode(version)
    )
}

// ---------------------------------------------------------------------------------------
// Package databases

/// The upstream part of a package version: without the epoch (`1:`) and the packaging
/// revision (`-3`, `-r0`, `-1+deb12u1`).
pub fn upstream_version(version: &str) -> &str {
    let v = version.split_once(':').map_or(version, |(_, v)| v);
    v.rsplit_once('-').map_or(v, |(u, _)| u)
}

/// One component per installed package, in database order, with what could not be read.
fn packages(tree: &Tree, sigs: &Signatures) -> (Vec<Component>, Vec<Problem>) {
    let distro = Distro::of(tree);
    let listing = packages::read(tree);
    let mut out = Vec::new();
    for (source, p) in listing.packages {
        let known = sigs
            .products
            .iter()
            .find(|s| s.packages.iter().any(|n| names_package(n, source, &p.name)));
        let version = match p.epoch {
            Some(epoch) => format!("{epoch}:{}", p.version),
            None => p.version.clone(),
        };
        // Without the signature table's word, a Debian package is an application unless its
        // name says library (Policy §8.1 packages shared libraries as `lib*`).
        let debian = matches!(source, PackageSource::Dpkg | PackageSource::DpkgStatusD);
        let kind = match known {
            Some(s) => s.kind,
            None if debian && p.name.starts_with("lib") => ComponentType::Library,
            None => ComponentType::Application,
        };
        let mut c = Component::new(
            known.map_or_else(|| p.name.clone(), |s| s.product.clone()),
            p.name.clone(),
            version.clone(),
            kind,
            Relation::Package,
        );
        c.cpe = known.map(|s| cpe(&s.part, &s.vendor, &s.product, upstream_version(&version)));
        c.purl = packages::purl(source, &p, &distro);
        c.occurrences.push(Occurrence {
            filesystem: String::new(),
            path: p.database.clone(),
            offset: None,
            sha256: None,
        });
        c.evidence.push(Identity {
            technique: Technique::ManifestAnalysis,
            confidence: 1.0,
            value: format!("Package: {} Version: {version}", p.name),
            path: p.database.clone(),
        });
        // By name: a Multi-Arch package installed for two architectures shares its changelog.
        c.changelog = listing.changelogs.get(&p.name).cloned().unwrap_or_default();
        c.source = Some(source);
        c.arch = p.arch;
        c.supplier = p.supplier;
        c.licenses = p.licenses;
        c.source_package = p.source_package;
        c.files = p.files;
        out.push(c);
    }
    (out, listing.problems)
}

/// Whether a product's `packages` pattern names package `name` of database `source`. A
/// Python or npm package is another namespace than a distribution's: a project's bindings
/// carry the project's name and a version of their own (PyPI's `ceph` 1.0.0 in Ceph
/// 18.2.7), so only a pattern written for that ecosystem (`pypi:ntpsec`) names one.
fn names_package(pattern: &str, source: PackageSource, name: &str) -> bool {
    let ecosystem = match source {
        PackageSource::Python => "pypi:",
        PackageSource::Npm => "npm:",
        _ => return !pattern.contains(':') && glob(pattern, name),
    };
    pattern
        .strip_prefix(ecosystem)
        .is_some_and(|pattern| glob(pattern, name))
}

// ---------------------------------------------------------------------------------------
// Kernel banners

/// A `Linux version …` banner found in (decompressed) image bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KernelBanner {
    /// Where the bytes came from, e.g. `image > uImage@0 "Linux" > gzip@64`.
    pub within: String,
    pub offset: u64,
    pub version: String,
    pub banner: String,
}

/// Most kernel banners recorded from one stream; a real kernel has one.
const BANNERS_PER_STREAM: usize = 4;

/// Finds kernel banners in `data`: `Linux version X.Y[.Z][suffix] (builder@host) …`, as
/// `init/version.c` prints it. The `(` after the version keeps `"Linux version %s"` format
/// strings and prose out.
pub fn kernel_banners(data: &[u8], within: &str, out: &mut Vec<KernelBanner>) {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| {
            Regex::new(r"(?-u)^Linux version (\d+\.\d+(?:\.\d+)?[\w.+~-]*) \([^)\x00]{1,200}\)")
                .ok()
        })
        .as_ref()
    else {
        return;
    };
    let mut found = 0;
    for at in memchr::memmem::find_iter(data, b"Linux version ") {
        let Some(rest) = data.get(at..data.len().min(at + 512)) else {
            continue;
        };
        if let Some(c) = re.captures(rest)
            && let Some(v) = c.get(1)
        {
            let end = rest
                .iter()
                .position(|&b| !printable(b))
                .unwrap_or(rest.len());
            out.push(KernelBanner {
                within: within.to_owned(),
                offset: at as u64,
                version: String::from_utf8_lossy(v.as_bytes()).into_owned(),
                banner: String::from_utf8_lossy(&rest[..end]).into_owned(),
            });
            found += 1;
            if found >= BANNERS_PER_STREAM {
                break;
            }
        }
    }
}

/// Components for the kernels whose banners were found, one per version.
pub fn kernel_components(banners: &[KernelBanner]) -> Vec<Component> {
    let mut by_version: BTreeMap<&str, Vec<&KernelBanner>> = BTreeMap::new();
    for b in banners {
        by_version.entry(&b.version).or_default().push(b);
    }
    by_version
        .into_iter()
        .map(|(version, bs)| Component {
            cpe: Some(cpe("o", "linux", "linux_kernel", kernel_upstream(version))),
            occurrences: bs
                .iter()
                .map(|b| Occurrence {
                    filesystem: b.within.clone(),
                    path: String::new(),
                    offset: Some(b.offset),
                    sha256: None,
                })
                .collect(),
            evidence: bs
                .iter()
                .map(|b| Identity {
                    technique: Technique::BinaryAnalysis,
                    confidence: 0.95,
                    value: b.banner.clone(),
                    path: b.within.clone(),
                })
                .collect(),
            ..Component::new(
                "linux_kernel".into(),
                "linux".into(),
                version.to_owned(),
                ComponentType::OperatingSystem,
                Relation::Kernel,
            )
        })
        .collect()
}

/// Adds the kernel release that modules in `filesystem` were built for (`module` is the
/// first of them): as identity evidence of the banner's component when one has that
/// version, else as a component of its own. Modules name the kernel they load into, so a
/// kernel kept on a partition the unpacker cannot read still shows in the inventory.
pub fn add_module_kernel(
    components: &mut Vec<Component>,
    filesystem: &str,
    release: &str,
    module: &crate::analyze::kernel::Module,
) {
    let path = format!("/{}", module.path);
    let occurrence = Occurrence {
        filesystem: filesystem.to_owned(),
        path: path.clone(),
        offset: None,
        sha256: None,
    };
    let identity = Identity {
        technique: Technique::BinaryAnalysis,
        confidence: 0.8,
        value: format!(
            "vermagic={} {}",
            module.vermagic.release, module.vermagic.properties
        ),
        path,
    };
    if let Some(c) = components
        .iter_mut()
        .find(|c| c.relation == Relation::Kernel && c.version == release)
    {
        c.occurrences.push(occurrence);
        c.evidence.push(identity);
        return;
    }
    components.push(Component {
        cpe: Some(cpe("o", "linux", "linux_kernel", kernel_upstream(release))),
        occurrences: vec![occurrence],
        evidence: vec![identity],
        ..Component::new(
            "linux_kernel".into(),
            "linux".into(),
            release.to_owned(),
            ComponentType::OperatingSystem,
            Relation::Kernel,
        )
    });
}

/// `2.6.31--LSDK-9.2.0.312` → `2.6.31`: the vendor suffix is not part of the upstream
/// version a CPE names.
fn kernel_upstream(version: &str) -> &str {
    let end = version
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.'))
        .map_or(version.len(), |(i, _)| i);
    version[..end].trim_end_matches('.')
}

// ---------------------------------------------------------------------------------------
// The inventory of one filesystem

/// The components of one filesystem: package databases first, then version strings in
/// file contents, each classified. Header-only findings are included (with
/// [`Relation::HeaderOnly`]) so they stay visible as evidence; the SBOM leaves them out.
pub fn inventory(tree: &Tree) -> Vec<Component> {
    inventory_with_problems(tree).0
}

/// [`inventory`], with the package databases and metadata files that could not be read.
pub fn inventory_with_problems(tree: &Tree) -> (Vec<Component>, Vec<Problem>) {
    let sigs = signatures();
    let (mut components, problems) = packages(tree, sigs);
    // Which package owns each file, for attributing version strings found in it.
    let mut owner: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, c) in components.iter().enumerate() {
        for f in &c.files {
            owner.entry(f.as_str()).or_insert(i);
        }
    }
    let owner: BTreeMap<String, usize> =
        owner.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    // (product, version, relation) → component
    let mut found: BTreeMap<(usize, String, Relation), Component> = BTreeMap::new();
    // Searching the bytes is the costly part, so it runs on every core; merging stays in
    // path order so the result does not depend on scheduling.
    let files: Vec<(&Path, &[u8])> = tree
        .files()
        .filter(|(path, _)| !documentation(path))
        .collect();
    let mut searched = crate::parallel::map(&files, |&(path, data)| {
        let mut hits = scan_bytes(sigs, data, &|p| is_product_file(p, path));
        hits.extend(name_hits(sigs, path));
        hits.extend(note_hit(sigs, data));
        if hits.is_empty() {
            return None;
        }
        let sha = tree::hex(&sha2::Digest::finalize(
            <sha2::Sha256 as sha2::Digest>::new_with_prefix(data),
        ));
        Some((sha, classify(sigs, path, data, hits)))
    });
    // The versions each product has from evidence stronger than a lone dotted number: that
    // last resort speaks only for a product nothing else in the image dates (a format or
    // protocol version, `1.0.0`, is as bare as a release).
    let mut dated: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (pi, version, _, hits) in searched.iter().flatten().flatten().flat_map(|(_, c)| c) {
        if hits.iter().any(|h| h.confidence > UNIQUE_IN_FILE) {
            dated.entry(*pi).or_default().insert(version.clone());
        }
    }
    for (_, classified) in searched.iter_mut().flatten().flatten() {
        classified.retain(|(pi, version, _, hits)| {
            hits.iter().any(|h| h.confidence > UNIQUE_IN_FILE)
                || dated.get(pi).is_none_or(|v| v.contains(version))
        });
    }
    for (&(path, _), result) in files.iter().zip(searched) {
        let Some((sha, classified)) = result.flatten() else {
            continue;
        };
        let shown = format!("/{}", path.display());
        for (pi, version, relation, hits) in classified {
            let Some(p) = sigs.products.get(pi) else {
                continue;
            };
            let c = found
                .entry((pi, version.clone(), relation))
                .or_insert_with(|| Component {
                    cpe: Some(cpe(&p.part, &p.vendor, &p.product, &version)),
                    ..Component::new(
                        p.product.clone(),
                        p.name.clone(),
                        version.clone(),
                        p.kind,
                        relation,
                    )
                });
            c.occurrences.push(Occurrence {
                filesystem: String::new(),
                path: shown.clone(),
                offset: hits.first().map(|h| h.offset),
                sha256: Some(sha.clone()),
            });
            let mut values = BTreeSet::new();
            for h in hits {
                if values.insert(h.matched.clone()) && values.len() <= 3 {
                    c.evidence.push(Identity {
                        technique: if h.note {
                            Technique::ManifestAnalysis
                        } else {
                            Technique::BinaryAnalysis
                        },
                        confidence: h.confidence,
                        value: h.matched,
                        path: shown.clone(),
                    });
                }
            }
        }
    }
    for (_, mut c) in found {
        // A file that is the component gives the component its hash.
        if c.relation == Relation::Is {
            let hashes: BTreeSet<_> = c
                .occurrences
                .iter()
                .filter_map(|o| o.sha256.clone())
                .collect();
            if hashes.len() == 1 {
                c.sha256 = hashes.into_iter().next();
            }
        }
        for part in split_by_owner(c, &owner) {
            merge(&mut components, &owner, part);
        }
    }
    (components, problems)
}

/// Whether a file is documentation, whose versions are mentions and not components: a
/// Debian `copyright` file's `License: bzip2-1.0.6` is a licence, a manual's `exim 4.72` a
/// reference. (The changelogs there are read as package metadata, not searched.)
fn documentation(path: &Path) -> bool {
    ["usr/share/doc", "usr/share/man", "usr/share/info"]
        .iter()
        .any(|dir| path.strip_prefix("/").unwrap_or(path).starts_with(dir))
}

/// One component per owning package: the same version string in files of different
/// packages (`libcrypto.so.3` of libssl3, `/usr/bin/openssl` of openssl) is attributed to
/// each package separately. Evidence follows its file.
fn split_by_owner(c: Component, owner: &BTreeMap<String, usize>) -> Vec<Component> {
    let mut groups: BTreeMap<Option<usize>, (Vec<Occurrence>, Vec<Identity>)> = BTreeMap::new();
    let mut evidence = c.evidence.clone();
    for o in &c.occurrences {
        let group = groups.entry(owner.get(&o.path).copied()).or_default();
        let (here, rest): (Vec<Identity>, Vec<Identity>) =
            evidence.into_iter().partition(|e| e.path == o.path);
        evidence = rest;
        group.0.push(o.clone());
        group.1.extend(here);
    }
    if groups.len() <= 1 {
        return vec![c];
    }
    groups
        .into_values()
        .map(|(occurrences, evidence)| {
            let hashes: BTreeSet<_> = occurrences
                .iter()
                .filter_map(|o| o.sha256.clone())
                .collect();
            Component {
                sha256: (c.relation == Relation::Is && hashes.len() == 1)
                    .then(|| hashes.into_iter().next())
                    .flatten(),
                occurrences,
                evidence,
                ..c.clone()
            }
        })
        .collect()
}

/// Adds a component found from version strings, unless a listed package accounts for it.
///
/// Package metadata outranks strings. A hit in a file that a package owns is that
/// package's, when the package is the same product (or a package the signature table does
/// not know, for a file that *is* the product): with agreeing versions it becomes evidence
/// on the package; with disagreeing ones both stay and the string one is marked
/// [`Component::contradicted_by`]. A hit in a file no package owns still merges into a
/// listed package of the same product and version (images whose databases list no files).
fn merge(components: &mut Vec<Component>, owner: &BTreeMap<String, usize>, mut c: Component) {
    let sigs = signatures();
    let embedded = matches!(c.relation, Relation::Is | Relation::Contains);
    let owning = c
        .occurrences
        .iter()
        .find_map(|o| owner.get(&o.path).copied())
        .filter(|&i| {
            components.get(i).is_some_and(|pkg| {
                pkg.product == c.product || (pkg.cpe.is_none() && c.relation == Relation::Is)
            })
        });
    let listed = match owning {
        Some(i) if embedded => {
            let agrees = components
                .get(i)
                .is_some_and(|pkg| same_version(upstream_version(&pkg.version), &c.version));
            if !agrees {
                c.contradicted_by = components.get(i).map(|pkg| pkg.purl.clone());
                components.push(c);
                return;
            }
            Some(i)
        }
        _ => components.iter().position(|pkg| {
            pkg.relation == Relation::Package
                && pkg.product == c.product
                && same_version(upstream_version(&pkg.version), &c.version)
        }),
    };
    match (listed.and_then(|i| components.get_mut(i)), c.relation) {
        (Some(pkg), Relation::Is | Relation::Contains) => {
            // A package the table did not know by name is the product its file is.
            if pkg.cpe.is_none()
                && let Some(p) = sigs.products.iter().find(|p| p.product == c.product)
            {
                pkg.cpe = Some(cpe(
                    &p.part,
                    &p.vendor,
                    &p.product,
                    upstream_version(&pkg.version),
                ));
                pkg.product.clone_from(&c.product);
            }
            if pkg.sha256.is_none() {
                pkg.sha256 = c.sha256.clone();
            }
            pkg.occurrences.extend(c.occurrences);
            pkg.evidence.extend(c.evidence);
        }
        _ => components.push(c),
    }
}

/// Whether a package's upstream version and a version read from a binary agree: equal, or
/// one extends the other at a separator (`5.2.0-stable` and `5.2.0`).
fn same_version(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.strip_prefix(short)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '_', '+', '~', ' ']))
}

/// Version hits in one buffer, as (product, version, relation, matched string) — for tests
/// and the measurement example, which look at files outside any image.
pub fn detect(path: &str, data: &[u8]) -> Vec<(String, String, Relation, String)> {
    let sigs = signatures();
    let p = Path::new(path);
    let mut hits = scan_bytes(sigs, data, &|prod| is_product_file(prod, p));
    hits.extend(name_hits(sigs, p));
    classify(sigs, p, data, hits)
        .into_iter()
        .filter_map(|(pi, v, r, hits)| {
            let product = sigs.products.get(pi)?.product.clone();
            Some((product, v, r, hits.first()?.matched.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Entry, Kind};

    fn tree(files: &[(&str, &[u8])]) -> Tree {
        let mut t = Tree::default();
        for (p, d) in files {
            t.insert(
                Path::new(p),
                Entry {
                    kind: Kind::File(d.to_vec()),
                    mode: 0o755,
                    uid: 0,
                    gid: 0,
                },
            )
            .expect("safe path");
        }
        t
    }

    /// Strings as a compiler lays them out: NUL-terminated, padded, between machine code.
    fn binary(strings: &[&str]) -> Vec<u8> {
        let mut out = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
        for s in strings {
            out.extend_from_slice(&[0x48, 0x89, 0xe5, 0x00]);
            out.extend_from_slice(s.as_bytes());
            out.extend_from_slice(&[0, 0, 0]);
        }
        out
    }

    #[test]
    fn a_python_package_is_a_product_only_where_the_table_names_it_for_pypi() {
        // Ceph's Python bindings are the PyPI package `ceph` at their own version; ntpsec's
        // Python module is ntpsec itself, and the table says so (`pypi:ntpsec`).
        let site = "usr/lib/python3/dist-packages";
        let t = tree(&[
            (
                &format!("{site}/ceph-1.0.0.egg-info"),
                b"Metadata-Version: 1.1\nName: ceph\nVersion: 1.0.0\n",
            ),
            (
                &format!("{site}/ntp-1.2.2.egg-info"),
                b"Metadata-Version: 1.1\nName: ntpsec\nVersion: 1.2.2\n",
            ),
        ]);
        let found = inventory(&t);
        let ceph = found
            .iter()
            .find(|c| c.name == "ceph")
            .expect("ceph listed");
        assert_eq!(ceph.cpe, None, "{ceph:?}");
        assert_eq!(ceph.purl, "pkg:pypi/ceph@1.0.0");
        let ntpsec = found.iter().find(|c| c.name == "ntpsec").expect("ntpsec");
        assert_eq!(
            ntpsec.cpe.as_deref(),
            Some("cpe:2.3:a:ntpsec:ntpsec:1.2.2:*:*:*:*:*:*:*")
        );
        // A distribution's package of the same name is still Ceph.
        assert!(names_package("ceph*", PackageSource::Dpkg, "ceph-base"));
        assert!(!names_package("ceph*", PackageSource::Python, "ceph"));
        assert!(!names_package("pypi:ntpsec", PackageSource::Dpkg, "ntpsec"));
        assert!(!names_package("pypi:ntpsec", PackageSource::Npm, "ntpsec"));
    }

    #[test]
    fn the_table_compiles_and_vendors_are_right() {
        let sigs = compile(TABLE).expect("table");
        sigs.compile_all().expect("every rule's regex");
        let vendor = |p: &str| {
            sigs.products
                .iter()
                .find(|s| s.product == p)
                .map(|s| s.vendor.as_str())
        };
        assert_eq!(vendor("dnsmasq"), Some("thekelleys"));
        assert_eq!(vendor("busybox"), Some("busybox"));
        assert_eq!(vendor("dropbear_ssh"), Some("dropbear_ssh_project"));
        assert_eq!(vendor("openssl"), Some("openssl"));
        assert_eq!(vendor("libcurl"), Some("haxx"));
        assert_eq!(vendor("mosquitto"), Some("eclipse"));
        assert_eq!(vendor("miniupnpd"), Some("miniupnp_project"));
        assert_eq!(vendor("hostapd"), Some("w1.fi"));
    }

    #[test]
    fn a_library_named_as_the_product_is_the_product() {
        let lib = binary(&[
            "crypto/ct/ct_vfy.c",
            "OpenSSL 3.0.20 7 Apr 2026",
            "OPENSSLDIR: \"/usr/lib/ssl\"",
        ]);
        let found = detect("usr/lib/arm-linux-gnueabihf/libcrypto.so.3", &lib);
        assert_eq!(
            found
                .iter()
                .map(|(p, v, r, _)| (p.as_str(), v.as_str(), *r))
                .collect::<Vec<_>>(),
            [("openssl", "3.0.20", Relation::Is)]
        );
    }

    #[test]
    fn a_header_string_in_a_linking_program_is_header_only() {
        // hostapd built against OpenSSL 3.0.16 headers, running on the shipped 3.0.20.
        let hostapd = binary(&[
            "hostapd v2.10",
            "OpenSSL: %s - %s",
            "OpenSSL 3.0.16 11 Feb 2025",
            "TLS: Failed to load",
        ]);
        let found = detect("usr/sbin/hostapd", &hostapd);
        assert!(
            found.contains(&(
                "hostapd".into(),
                "2.10".into(),
                Relation::Is,
                "hostapd v2.10".into()
            )),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|(p, v, r, _)| p == "openssl" && v == "3.0.16" && *r == Relation::HeaderOnly),
            "{found:?}"
        );
    }

    #[test]
    fn a_statically_linked_copy_is_contained() {
        // The implementation's own strings (OPENSSLDIR from OpenSSL_version()) come along
        // with a static link.
        let program = binary(&[
            "myagent 1.0",
            "OpenSSL 1.1.1n  15 Mar 2022",
            "OPENSSLDIR: \"/etc/ssl\"",
        ]);
        let found = detect("usr/bin/myagent", &program);
        assert!(
            found
                .iter()
                .any(|(p, v, r, _)| p == "openssl" && v == "1.1.1n" && *r == Relation::Contains),
            "{found:?}"
        );
        // A banner rule (not a header string) in another program is an embedded copy too.
        let rescue = binary(&["BusyBox v1.36.1 (2024-01-01 00:00:00 UTC) multi-call binary."]);
        let found = detect("sbin/rescue", &rescue);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].0.as_str(), found[0].1.as_str(), found[0].2),
            ("busybox", "1.36.1", Relation::Contains)
        );
    }

    #[test]
    fn a_bare_version_next_to_its_format_string() {
        // dnsmasq keeps its version in a string of its own, printed with "Dnsmasq version %s".
        let d = binary(&[
            "Copyright (c) 2000-2024 Simon Kelley",
            "2.90",
            "Dnsmasq version %s  %s",
        ]);
        let found = detect("usr/sbin/dnsmasq", &d);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].1.as_str(), found[0].2), ("2.90", Relation::Is));
    }

    #[test]
    fn versions_in_documentation_are_mentions_not_components() {
        let program = binary(&["2.90", "Dnsmasq version %s  %s"]);
        // The same bytes in a manual, a copyright file or an example under
        // /usr/share/doc, and as the program.
        let t = tree(&[
            ("usr/share/man/man8/dnsmasq.8", &program),
            (
                "usr/share/doc/u-boot/copyright",
                b"License: GPL-2.0+ AND bzip2-1.0.6\n",
            ),
            ("usr/share/doc/dnsmasq/examples/dnsmasq", &program),
        ]);
        assert!(inventory(&t).is_empty(), "{:?}", inventory(&t));
        let t = tree(&[("usr/sbin/dnsmasq", &program)]);
        let found = inventory(&t);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].product.as_str(), found[0].version.as_str()),
            ("dnsmasq", "2.90")
        );
        assert!(documentation(Path::new("/usr/share/doc/x/README")));
        assert!(!documentation(Path::new(
            "usr/share/nmap/nmap-service-probes"
        )));
        assert!(!documentation(Path::new(
            "usr/share/document-viewer/lib.so"
        )));
    }

    #[test]
    fn a_distributions_revision_around_the_version_is_cut_away() {
        // Debian's asterisk takes its version from the package: ASTERISK_VERSION is
        // "16.28.0~dfsg-0+deb11u4", a few strings from the UUID set-up's symbol.
        let d = binary(&[
            "ast_uuid_init",
            "OPTIONAL_API, TEST_FRAMEWORK",
            "16.28.0~dfsg-0+deb11u4",
            "xml.c",
        ]);
        let found = detect("usr/sbin/asterisk", &d);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].1.as_str(), found[0].2), ("16.28.0", Relation::Is));
        for (text, cut) in [
            ("16.28.0~dfsg-0+deb11u4", Some("16.28.0")),
            ("1.22c-1", Some("1.22c")),
            ("2.3.3-1+b1", Some("2.3.3")),
            ("1.1.12-0ubuntu3", Some("1.1.12")),
            // ISC's patch release is upstream's own, Ubuntu's revision is not.
            ("4.4.3-P1-4ubuntu2", Some("4.4.3-P1")),
            ("4.4.3-P1", None),
            ("1.4+really1.3.40-4+deb12u1", Some("1.3.40")),
            ("1.4+really", Some("1.4")),
            ("2.90", None),
            ("v1.0-1", None),
        ] {
            assert_eq!(
                without_packaging(text.as_bytes()).and_then(|r| text.get(r)),
                cut,
                "{text}"
            );
        }
    }

    #[test]
    fn a_pre_release_is_not_reported_as_its_release() {
        // How real builds print a pre-release: Sylpheed's banner, Transmission's long
        // version beside its banner's format, and Debian's asterisk taking its version from
        // a `~rc` package.
        let cases: [(&str, &[&str], &str); 3] = [
            (
                "usr/bin/sylpheed",
                &["--version", "Sylpheed version 3.8.0beta1", "--status-full"],
                "3.8.0beta1",
            ),
            (
                "usr/bin/transmission-cli",
                &["{:.1Lf} {:s}", "4.1.0-beta.2 (ac5c9e082d)", "%s %s"],
                "4.1.0-beta.2",
            ),
            (
                "usr/sbin/asterisk",
                &[
                    "ast_uuid_init",
                    "OPTIONAL_API, TEST_FRAMEWORK",
                    "16.28.0~rc1-0+deb11u4",
                    "xml.c",
                ],
                "16.28.0rc1",
            ),
        ];
        for (path, strings, version) in cases {
            let found = detect(path, &binary(strings));
            assert!(
                found.iter().any(|(_, v, ..)| v == version),
                "{path}: {found:?}"
            );
            assert!(found.iter().all(|(_, v, ..)| v == version), "{found:?}");
        }
        // What follows a version without being a tag leaves it alone.
        for (after, tag) in [
            (&b"beta1"[..], Some("beta1")),
            (b"-beta.2 (ac5c9e082d)", Some("-beta.2")),
            (b"~pre1-1-debian", Some("pre1")),
            (b"-rc93", Some("-rc93")),
            (b"dev.10", Some("dev.10")),
            (b"-beta", Some("-beta")),
            (b"-alpha-linux", None),
            (b"-rc.d", None),
            (b"-dev", None),
            (b"~dfsg-1", None),
            (b"rc1x", None),
            (b"betas", None),
            (b" beta1", None),
            (b"", None),
        ] {
            assert_eq!(
                prerelease_tag(after),
                tag,
                "{}",
                String::from_utf8_lossy(after)
            );
        }
        // In the CPE the tag is the update, as NVD writes pre-releases.
        for (version, name) in [
            ("4.1.0-beta.2", "cpe:2.3:a:v:p:4.1.0:beta2:*:*:*:*:*:*"),
            ("1.3.8rc4", "cpe:2.3:a:v:p:1.3.8:rc4:*:*:*:*:*:*"),
            ("1.1.1w", "cpe:2.3:a:v:p:1.1.1w:*:*:*:*:*:*:*"),
            ("4.4.3-P1", "cpe:2.3:a:v:p:4.4.3-p1:*:*:*:*:*:*:*"),
            ("2.4", "cpe:2.3:a:v:p:2.4:*:*:*:*:*:*:*"),
        ] {
            assert_eq!(cpe("a", "v", "p", version), name);
        }
    }

    #[test]
    fn a_version_on_a_comment_line_after_a_files_header_is_a_mention() {
        // nmap's script quoting a broker's reply in its documentation, and its fingerprint
        // database's comment on where a probe came from.
        let script = b"local mqtt = require \"mqtt\"\n\ndescription = [[\nDumps messages.\n]]\n\
            \n---\n-- @output\n-- 1883/tcp open  mosquitto version 1.4.8 syn-ack\n";
        let probes = b"Probe TCP NULL q||\ntotalwaittime 6000\n\
            # a broker answering mosquitto version 1.4.8\nmatch mqtt m|^ |\n";
        // A comment whose first word only starts like a preprocessor directive.
        let interfaces = b"auto lo\n# iface eth0 is where mosquitto version 1.4.8 listened\n\
            # elsewhere: mosquitto version 1.4.8\n# ifdefs: mosquitto version 1.4.8\n";
        let t = tree(&[
            ("usr/share/nmap/scripts/mqtt-subscribe.nse", &script[..]),
            ("usr/share/nmap/nmap-service-probes", &probes[..]),
            ("etc/network/interfaces.d/broker", &interfaces[..]),
        ]);
        assert!(inventory(&t).is_empty(), "{:?}", inventory(&t));
        // The same words in a file's header, in code, in a preprocessor directive (not a
        // comment) and in the product's own file are the product.
        for (path, text) in [
            (
                "usr/lib/x/a.sh",
                &b"#!/bin/sh\n# mosquitto version 1.4.8 wrapper\nexec true\n"[..],
            ),
            (
                "usr/lib/x/b.sh",
                b"set -e\necho 'mosquitto version 1.4.8'\n",
            ),
            (
                "usr/include/x/c.h",
                b"int x;\n# define B \"mosquitto version 1.4.8\"\n",
            ),
            (
                "usr/include/x/d.h",
                b"int x;\n#ifndef V\n#  define V \"mosquitto version 1.4.8\"\n#endif\n",
            ),
            ("usr/sbin/mosquitto", b"set -e\n# mosquitto version 1.4.8\n"),
        ] {
            let found = inventory(&tree(&[(path, text)]));
            assert!(
                found
                    .iter()
                    .any(|c| c.product == "mosquitto" && c.version == "1.4.8"),
                "{path}: {found:?}"
            );
        }
        // A binary's bytes are never read as lines.
        let mut program = b"x\0\n-- ".to_vec();
        program.extend_from_slice(b"mosquitto version 1.4.8\0");
        let found = inventory(&tree(&[("usr/lib/x/libm.so", &program)]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(!line_comment(b"#define VERSION \"1.2\""));
        assert!(line_comment(b"  ;; 1.2"));
    }

    #[test]
    fn prose_about_a_release_is_not_the_products_banner() {
        // nmap's scripts describe the releases they test, in strings of their code.
        let script =
            b"description = [[\nClamAV 0.99.2, and possibly other previous versions, allow\n\
            affects Exim version 4.72 and prior.\n]]\n";
        let t = tree(&[("usr/share/nmap/scripts/x.nse", &script[..])]);
        assert!(inventory(&t).is_empty(), "{:?}", inventory(&t));
        // clamd's VERSION reply and Exim's `-bV` line are the products speaking.
        for (text, product, version) in [
            (
                "ClamAV 0.103.8/26820/Mon Feb 27 08:21:57 2023",
                "clamav",
                "0.103.8",
            ),
            (
                "Exim version 4.96 #2 built 13-Mar-2023 18:38:55",
                "exim",
                "4.96",
            ),
        ] {
            let found = detect("usr/lib/x/tool", &binary(&[text]));
            assert!(
                found.iter().any(|f| f.0 == product && f.1 == version),
                "{text}: {found:?}"
            );
        }
    }

    #[test]
    fn where_x86_builds_move_the_version_it_stays_beside_the_code_that_uses_it() {
        // Strings in the order Debian's and Ubuntu's amd64 and i386 builds hold them, where
        // the rules written from the other architectures' layouts found nothing.
        let cases: &[(&str, &[&str], &str, &str)] = &[
            // ZNC's module loader: the entry symbol's name, then the version it compares.
            (
                "usr/bin/znc",
                &[
                    "Unknown error",
                    "ZNCModuleEntry",
                    "1.10.3+deb1+b1",
                    "Generate this output",
                ],
                "znc",
                "1.10.3",
            ),
            // GetTag() without the version, beside the version it adds otherwise.
            (
                "usr/bin/znc",
                &["makepem", "1.9.0", "ZNC - ", "/modules"],
                "znc",
                "1.9.0",
            ),
            // hwloc's report of the operating system's bad topology, before and after 2.12.
            (
                "usr/lib/x86_64-linux-gnu/libhwloc.so.15.6.1",
                &[
                    "%s (cpuset %s%s%s)",
                    "2.9.0",
                    "* Failed with: %s",
                    "* while inserting %s at %s",
                ],
                "hwloc",
                "2.9.0",
            ),
            (
                "usr/lib/i386-linux-gnu/libhwloc.so.15.8.0",
                &[
                    "groupkind %u-%u ",
                    "2.12.0",
                    "* Failed with error: %s",
                    "* while inserting %s",
                ],
                "hwloc",
                "2.12.0",
            ),
            // MySQL's print_version(): the version, the machine and the system, then the
            // format string.
            (
                "usr/bin/mysqlslap",
                &[
                    "-2ubuntu3",
                    "8.0.36",
                    "x86_64",
                    "Linux",
                    "%s  Ver %s for %s on %s (%s)",
                ],
                "mysql",
                "8.0.36",
            ),
            // tcpreplay's build string, printed after its release by `--version`.
            (
                "usr/bin/tcpprep",
                &["read_hexstring", "git:v4.4.4", "dualmac2hex"],
                "tcpreplay",
                "4.4.4",
            ),
            // Lynx's own numbering of a development release, wherever it sits.
            (
                "usr/bin/lynx",
                &["Can't open temporary file!", "2.9.0dev.12", "<h2>%s</h2>"],
                "lynx",
                "2.9.0dev.12",
            ),
            // libgd's version after the TIFF writer's message (i386).
            (
                "usr/lib/i386-linux-gnu/libgd.so.3.0.8",
                &["Can't fetch TIFF width ", "2.3.0", "Could not create WBMP"],
                "libgd",
                "2.3.0",
            ),
        ];
        for (path, strings, product, version) in cases {
            let found = detect(path, &binary(strings));
            assert_eq!(found.len(), 1, "{path}: {found:?}");
            assert_eq!(
                (found[0].0.as_str(), found[0].1.as_str(), found[0].2),
                (*product, *version, Relation::Is),
                "{path}"
            );
        }
        // Ubuntu's libgd puts libpng's header version (gd-png's) before the WBMP writer's
        // message and its own elsewhere: libpng's is not libgd's version.
        let gd = binary(&[
            "iconv_close() error",
            "};",
            "1.6.37",
            "Could not create WBMP",
        ]);
        let found = detect("usr/lib/x86_64-linux-gnu/libgd.so.3.0.8", &gd);
        assert!(found.iter().all(|f| f.1 != "1.6.37"), "{found:?}");
        // Lynx's shape in another program is not Lynx.
        assert!(detect("usr/bin/other", &binary(&["2.9.0dev.12"])).is_empty());
        // gdb's configured shell scripts.
        let gcore = b"#!/bin/sh\nPKGVERSION=\"(Debian 18.1-3) \"\nVERSION=\"18.1\"\nprefix=core\n";
        let found = detect("usr/bin/gcore", gcore);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0.as_str(), found[0].1.as_str()), ("gdb", "18.1"));
        // Arm and i386 builds of ZNC hold only the distribution's suffix beside the entry
        // symbol: nothing is read from it.
        let znc = binary(&[
            "Unable to open module {1}: {2}",
            "ZNCModuleEntry",
            "Could not find ZNCModuleEntry in module {1}",
            "+deb2+b3",
        ]);
        assert!(detect("usr/bin/znc", &znc).is_empty());
    }

    #[test]
    fn a_source_tree_in_a_path_names_the_release() {
        // An assertion's __FILE__ in Ubuntu's gdb, a snapshot release.
        let gdb = binary(&[
            "Self test failed: %s",
            "/build/gdb-1WjiBe/gdb-15.0.50.20240403/gdb/gdb.c",
        ]);
        let found = detect("usr/bin/gdb", &gdb);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].1.as_str(), found[0].2),
            ("15.0.50.20240403", Relation::Is)
        );
        // A recorded compiler flag, with Debian's suffix on the directory.
        let lynx =
            binary(&["'-g -O2 -ffile-prefix-map=/build/lynx-Zq3Xa1/lynx-2.9.2+dfsg=. -Wall'"]);
        let found = detect("usr/bin/lynx", &lynx);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "2.9.2");
        // Debian went back from 1.4 to 1.3.40 and says so with `+really`: the tree holds
        // 1.3.40.
        let gm = binary(&[
            "-ffile-prefix-map=/build/reproducible-path/graphicsmagick-1.4+really1.3.40=.",
        ]);
        let found = detect("usr/lib/libGraphicsMagick-Q16.so.3.24.2", &gm);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "1.3.40");
        // Fedora's docker-init links glibc statically: an embedded copy, named by its tree.
        let init =
            binary(&["/builddir/build/BUILD/glibc-2.38/build-aarch64-redhat-linux/intl/plural.c"]);
        let found = detect("usr/libexec/docker/docker-init", &init);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].0.as_str(), found[0].1.as_str(), found[0].2),
            ("glibc", "2.38", Relation::Contains)
        );
        // Versioned interfaces, toolchains and scratch copies are not source trees.
        for path in [
            "/usr/include/glib-2.0/glib/gtypes.h",
            "/usr/lib/x86_64-linux-gnu/gstreamer-1.0/gst-plugin-scanner",
            "/usr/lib/mipsel-linux-gnu/gstreamer1.0/gstreamer-1.0/gst-ptp-helper",
            "/usr/lib/go-1.19/src/runtime/proc.go",
            "X-Poedit-Basepath: /tmp/gimp-2.7.1/po",
            "https://doc.qt.io/archives/qt-4.8/qthelpproject.html",
            "/usr/share/gtk-3.0/settings.ini",
        ] {
            let found = detect("usr/bin/program", &binary(&[path]));
            assert!(found.is_empty(), "{path}: {found:?}");
        }
    }

    #[test]
    fn a_bare_version_far_from_its_format_string_in_the_products_own_file() {
        // Another build laid dnsmasq's strings out differently: the version is 30 strings
        // from the format string that prints it. In dnsmasq's own file, it is the only
        // string shaped as a version, so it is dnsmasq's.
        let mut strings = vec!["Dnsmasq version %s  %s"];
        let filler: Vec<String> = (0..30).map(|i| format!("option-{i}")).collect();
        strings.extend(filler.iter().map(String::as_str));
        strings.push("2.90");
        let d = binary(&strings);
        let found = detect("usr/sbin/dnsmasq", &d);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].1.as_str(), found[0].2), ("2.90", Relation::Is));
        // Two different version-shaped strings: no way to tell which, so neither.
        let mut two = strings.clone();
        two.push("1.4");
        assert!(detect("usr/sbin/dnsmasq", &binary(&two)).is_empty());
        // The same version twice is still one.
        let mut again = strings.clone();
        again.push("2.90");
        assert_eq!(detect("usr/sbin/dnsmasq", &binary(&again))[0].1, "2.90");
        // In another program, a far string is nobody's version.
        assert!(detect("usr/bin/other", &d).is_empty());
    }

    #[test]
    fn the_only_bare_number_must_be_a_string_and_not_another_librarys() {
        let far = |extra: &[u8]| {
            let mut strings = vec!["Dnsmasq version %s  %s"];
            let filler: Vec<String> = (0..30).map(|i| format!("option-{i}")).collect();
            strings.extend(filler.iter().map(String::as_str));
            let mut d = binary(&strings);
            d.extend_from_slice(extra);
            d
        };
        // Printable bytes inside machine code, not ended by a NUL, are no string constant.
        assert!(detect("usr/sbin/dnsmasq", &far(b"\x0f512.1\xc0\xe8")).is_empty());
        assert_eq!(
            detect("usr/sbin/dnsmasq", &far(b"\x002.90\x00"))[0].1,
            "2.90"
        );
        // A program calling zlib's inflateInit_ holds ZLIB_VERSION: its one bare number
        // may be zlib's, so it dates nothing.
        assert!(detect("usr/sbin/dnsmasq", &far(b"\x001.3.1\x00inflateInit_\x00")).is_empty());
        // An address is not a version: the release beside it still counts.
        assert_eq!(
            detect(
                "usr/sbin/dnsmasq",
                &far(b"\x000.0.0.0\x00127.0.0.1\x002.90\x00")
            )[0]
            .1,
            "2.90"
        );
        assert!(is_address(b"239.255.255.250") && !is_address(b"1.2.13") && !is_address(b"v1.0"));
    }

    #[test]
    fn a_shape_no_bare_number_has_is_found_anywhere_in_the_products_file() {
        // libbz2 states "1.0.8, 13-Jul-2019" (BZ_VERSION); another build put it far from
        // the anchor. It is the one string of that shape, beside other dotted numbers.
        let mut strings = vec!["bzip2/libbzip2: internal error number %d."];
        let filler: Vec<String> = (0..30).map(|i| format!("option-{i}")).collect();
        strings.extend(filler.iter().map(String::as_str));
        strings.extend(["1.2.13", "1.0.8, 13-Jul-2019", "OK"]);
        let found = detect("usr/lib/libbz2.so.1.0.4", &binary(&strings));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "1.0.8");
    }

    #[test]
    fn a_lone_number_gives_way_to_stronger_evidence_elsewhere_in_the_image() {
        // lxc-monitor's only bare number is a cgroup format version; the library of the
        // same image states the release.
        let mut monitor = vec!["lxc.lxcpath"];
        let filler: Vec<String> = (0..30).map(|i| format!("option-{i}")).collect();
        monitor.extend(filler.iter().map(String::as_str));
        monitor.push("1.0.0");
        let t = tree(&[
            ("usr/bin/lxc-monitor", &binary(&monitor)),
            ("usr/lib/liblxc.so.1", &binary(&["lxc.lxcpath", "4.0.6"])),
        ]);
        let versions: Vec<String> = inventory(&t)
            .into_iter()
            .filter(|c| c.product == "lxc")
            .map(|c| c.version)
            .collect();
        assert_eq!(versions, ["4.0.6"]);
        // Alone, the lone number is all there is.
        let alone = tree(&[("usr/bin/lxc-monitor", &binary(&monitor))]);
        assert_eq!(inventory(&alone)[0].version, "1.0.0");
    }

    #[test]
    fn a_two_digit_release_is_a_string() {
        // ngIRCd 28 prints "%s %s-%s" with its release, the string "28", beside it.
        let mut d = binary(&["linux-gnu", "ngIRCd", "%s %s-%s"]);
        d.extend_from_slice(b"\x0028\x00--config\x00");
        let found = detect("usr/sbin/ngircd", &d);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "28");
    }

    #[test]
    fn a_fallback_rule_counts_only_without_other_evidence() {
        // spice-server 0.15.2: its newest symbol version is still SPICE_SERVER_0.14.3 (the
        // last release that added API); the logged SPICE_SERVER_VERSION is the release.
        let path = "usr/lib/aarch64-linux-gnu/libspice-server.so.1.14.3";
        let symbols = ["SPICE_SERVER_0.14.3", "GLIBC_2.17", "GCC_3.5"];
        let mut lib = binary(&symbols);
        lib.extend(binary(&["0.15.2", "starting %s", "do_spice_init"]));
        let found = detect(path, &lib);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "0.15.2");
        // With nothing else, the symbol version is the best there is.
        let found = detect(path, &binary(&symbols));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "0.14.3");
    }

    #[test]
    fn a_near_rule_can_require_its_anchor_to_be_the_whole_string() {
        let table = compile(&[(
            "test.yaml",
            "- cpe: gnu:cpio\n  rules:\n    - {find: \"GNU cpio\", regex: '^GNU cpio$', near: '\\d+\\.\\d+', within: 2}\n",
        )])
        .expect("table");
        let versions = |data: &[u8]| -> Vec<String> {
            scan_bytes(&table, data, &|_| false)
                .into_iter()
                .map(|h| h.version)
                .collect()
        };
        // The version constant next to PACKAGE_NAME, with one- and two-byte runs of machine
        // code between them that are no strings.
        assert_eq!(
            versions(b"\x00GNU cpio\x00-\xe9\xf0A\x00\x2d\xe9\xf0Ab\x002.13\x00"),
            ["2.13"]
        );
        // The anchor inside a longer string is not the product's name.
        assert!(versions(b"\x00see GNU cpio manual\x002.13\x00").is_empty());
    }

    #[test]
    fn a_versioned_file_name_is_the_fallback_version() {
        let table = compile(&[(
            "test.yaml",
            "- cpe: xmlsoft:libxml2\n  files: [libxml2.so*]\n  rules:\n    - {name: 'libxml2\\.so\\.(\\d+\\.\\d+\\.\\d+)'}\n    - {find: \"libxml2-\", regex: 'libxml2-(\\d+\\.\\d+\\.\\d+)'}\n",
        )])
        .expect("table");
        let found = |path: &str, data: &[u8]| -> Vec<(String, Relation)> {
            let p = Path::new(path);
            let mut hits = scan_bytes(&table, data, &|prod| is_product_file(prod, p));
            hits.extend(name_hits(&table, p));
            classify(&table, p, data, hits)
                .into_iter()
                .map(|(_, v, r, _)| (v, r))
                .collect()
        };
        assert_eq!(
            found("usr/lib/libxml2.so.2.9.4", b"\x00xmlGetGlobalState\x00"),
            [("2.9.4".to_owned(), Relation::Is)]
        );
        // The product's own statement of its version wins over the name.
        assert_eq!(
            found("usr/lib/libxml2.so.2.9.4", b"\x00/libxml2-2.9.14/\x00"),
            [("2.9.14".to_owned(), Relation::Is)]
        );
        assert!(found("usr/lib/libxml2.so.2", b"\x00\x00").is_empty());
        assert!(
            compile(&[(
                "bad.yaml",
                "- cpe: a:b\n  rules:\n    - {name: 'x', find: 'y'}\n"
            )])
            .is_err()
        );
    }

    #[test]
    fn inventory_prefers_the_package_database_and_drops_the_trap() {
        let status = b"Package: dnsmasq-full\nVersion: 2.80-16.3\nArchitecture: x86_64\nStatus: install user installed\n\nPackage: libopenssl1.1\nVersion: 1.1.1n-1\nArchitecture: x86_64\nStatus: install user installed\n";
        let t = tree(&[
            ("/usr/lib/opkg/status", status),
            (
                "/usr/sbin/dnsmasq",
                &binary(&["2.80", "Dnsmasq version %s  %s"]),
            ),
            (
                "/usr/lib/libcrypto.so.1.1",
                &binary(&["OpenSSL 1.1.1n  15 Mar 2022", "OPENSSLDIR: \"/etc/ssl\""]),
            ),
            (
                "/usr/sbin/hostapd",
                &binary(&["hostapd v2.10", "OpenSSL 1.1.1k  25 Mar 2021"]),
            ),
        ]);
        let inv = inventory(&t);
        let dns: Vec<_> = inv.iter().filter(|c| c.product == "dnsmasq").collect();
        assert_eq!(dns.len(), 1, "{inv:#?}");
        assert_eq!(dns[0].relation, Relation::Package);
        assert_eq!(
            dns[0].cpe.as_deref(),
            Some("cpe:2.3:a:thekelleys:dnsmasq:2.80:*:*:*:*:*:*:*")
        );
        assert!(
            dns[0]
                .occurrences
                .iter()
                .any(|o| o.path == "/usr/sbin/dnsmasq")
        );
        let ssl: Vec<_> = inv.iter().filter(|c| c.product == "openssl").collect();
        assert_eq!(ssl.len(), 2, "{ssl:#?}");
        assert!(
            ssl.iter()
                .any(|c| c.version == "1.1.1n-1" && c.relation == Relation::Package)
        );
        assert!(
            ssl.iter()
                .any(|c| c.version == "1.1.1k" && c.relation == Relation::HeaderOnly)
        );
    }

    #[test]
    fn kernel_banners_need_the_builder_part() {
        let mut out = Vec::new();
        let data = b"\x00Linux version %s\x00Linux version 2.6.31--LSDK-9.2.0.312 (root@host) (gcc version 4.3.3) #1 Mon\x00";
        kernel_banners(data, "image > gzip@64", &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].version, "2.6.31--LSDK-9.2.0.312");
        let c = kernel_components(&out);
        assert_eq!(
            c[0].cpe.as_deref(),
            Some("cpe:2.3:o:linux:linux_kernel:2.6.31:*:*:*:*:*:*:*")
        );
    }

    #[test]
    fn helpers() {
        assert!(glob("libcrypto.so*", "libcrypto.so.3"));
        assert!(!glob("libcrypto.so*", "libcrypto.a"));
        assert!(glob("dnsmasq", "dnsmasq"));
        assert!(glob("*ssh*", "openssh-ssh"));
        assert_eq!(upstream_version("1:2.80-16.3"), "2.80");
        assert_eq!(upstream_version("2022.83-1+deb12u1"), "2022.83");
        assert_eq!(cpe_escape("8.0p1"), "8.0p1");
        assert_eq!(cpe_escape("1.0+git"), "1.0\\+git");
        assert!(same_version("5.2.0-stable", "5.2.0"));
        assert!(!same_version("5.2.0", "5.2.01"));
    }
}
