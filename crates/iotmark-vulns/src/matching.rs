//! Matching: which advisories apply to which components, and what is known about each pair
//! (a back-ported fix, a VEX statement, KEV).
//!
//! Each source's rules are evaluated with their own semantics:
//! - an NVD configuration is an AND/OR tree: the component must match a vulnerable CPE
//!   (vendor and product included, the version within every bound); a platform the
//!   vulnerable software must run on is looked for among the other components. When the
//!   SBOM does not say which platform it runs on (no component of that CPE part at all),
//!   the platform is unknown and the match is reported as *conditional*, not dropped and
//!   not counted as affected (three-valued logic over the tree);
//! - an OSV package range in its ecosystem's version order, a GIT range through its
//!   `versions` list (tags read as versions);
//! - a CVE 5 vendor/product with its version entries;
//! - a CSAF product by purl, with the versions it lists.
//!
//! A distribution package is held against NVD's upstream ranges by its upstream version;
//! then, when the component's own changelog (back-port pedigree in the SBOM) or the
//! distribution's advisory in the store says its revision fixes the vulnerability, the
//! match is reported as fixed with that line of evidence.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use std::sync::Arc;

use foldhash::HashMap;

use serde::Serialize;

use crate::component::Component;
use crate::cpe::{Cpe, Part, Value};
use crate::model::{
    Advisory, Applicability, CpeMatch, Cvss, CvssVersion, Event, KnownExploited, Operator, Origin,
    PackageRule, RangeKind, Rating, Source, VendorProductRule, VexStatement, VexStatus,
};
use crate::purl::Purl;
use crate::version::{self, Scheme};

/// What is known about one vulnerability in one component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The vulnerability: its CVE ID when any matching record names one.
    pub vulnerability: String,
    /// Other IDs of the same vulnerability (OSV, GHSA, DSA, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Shared by the component's findings.
    pub component: Arc<ComponentRef>,
    pub status: Status,
    /// Why the status is what it is, in a sentence a reader can check.
    pub reason: String,
    /// The records and rules the match rests on.
    pub matched_by: Vec<MatchedBy>,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub summary: std::sync::Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_v31: Option<Cvss>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cvss_v40: Option<Cvss>,
    /// The highest rating any score gives; `none` when no source scored it yet.
    pub rating: Rating,
    /// CISA KEV: known to be exploited, with the catalog's due date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_exploited: Option<KnownExploited>,
    /// Versions the matched rules name as fixing it (NVD's excluded end, OSV's `fixed`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed_in: Vec<String>,
    /// The VEX statement or triage decision that set the status, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex: Option<Origin>,
}

/// The component a finding is about, as the SBOM names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentRef {
    pub reference: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// The standing of one vulnerability in one component, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The component's version is vulnerable and nothing says otherwise.
    Affected,
    /// A VEX statement says the vulnerability is being investigated.
    UnderInvestigation,
    /// Vulnerable only on a platform the SBOM does not say whether it has.
    Conditional,
    /// Fixed in the shipped version: a back-port, a distribution advisory or a VEX statement
    /// says so.
    Fixed,
    /// A VEX statement says the component is not affected, with its justification.
    NotAffected,
}

impl Status {
    /// Whether the finding counts against "no known exploitable vulnerabilities".
    pub fn is_open(self) -> bool {
        matches!(self, Status::Affected | Status::UnderInvestigation)
    }
}

/// One record and rule a finding rests on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MatchedBy {
    pub source: Source,
    pub advisory: String,
    /// The rule, as a reader can find it in the record (`cpe:2.3:a:haxx:curl:*:… from 7.69.0
    /// up to 8.7.1 (excluded)`).
    pub rule: String,
}

/// A rule's verdict on one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Truth {
    False,
    Unknown,
    True,
}

impl Truth {
    fn and(self, other: Truth) -> Truth {
        self.min(other)
    }
    fn or(self, other: Truth) -> Truth {
        self.max(other)
    }
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

/// A component prepared for matching: its CPEs parsed, its purl read, the version order its
/// packaging uses.
#[derive(Debug)]
struct Prepared<'a> {
    component: &'a Component,
    /// The component as its findings name it.
    named: Arc<ComponentRef>,
    /// The component's CPEs, each with its version as upstream writes it, so a distribution
    /// version in a manufacturer's CPE (`7.88.1-10+deb12u8`) is held as `7.88.1`.
    cpes: Vec<Cpe>,
    /// That upstream version of each CPE (from the CPE, else the package version).
    upstreams: Vec<Option<String>>,
    /// What matching reads of each CPE first, in a few bytes of its own.
    identities: Vec<Identity>,
    purl: Option<Purl>,
    scheme: Scheme,
    /// Its lookup keys, sorted.
    keys: Vec<String>,
}

/// A component CPE's part, and the number of its vendor and product among the index's
/// names: `None` when no advisory names that pair (or it is not plain text), so no
/// plain-text name can match it.
#[derive(Debug, Clone, Copy)]
struct Identity {
    name: Option<u32>,
    part: Part,
}

impl<'a> Prepared<'a> {
    fn new(component: &'a Component, names: &Names) -> Prepared<'a> {
        let purl = component.purl.as_deref().and_then(Purl::parse);
        let scheme = purl
            .as_ref()
            .map_or(Scheme::Generic, |p| Scheme::for_purl_type(&p.kind));
        let mut prepared = Prepared {
            component,
            named: Arc::new(ComponentRef {
                reference: component.reference.clone(),
                name: component.name.clone(),
                version: component.version.clone(),
                purl: component.purl.clone(),
            }),
            cpes: Vec::new(),
            upstreams: Vec::new(),
            identities: Vec::new(),
            purl,
            scheme,
            keys: Vec::new(),
        };
        for cpe in component.cpes.iter().filter_map(|c| Cpe::parse(c).ok()) {
            let upstream = prepared.upstream_version(Some(&cpe));
            let mut cpe = cpe;
            if let (crate::cpe::Value::Text(v), Some(u)) = (&mut cpe.version, &upstream) {
                v.clone_from(u);
            }
            prepared.identities.push(Identity {
                name: names.find(&cpe),
                part: cpe.part,
            });
            prepared.cpes.push(cpe);
            prepared.upstreams.push(upstream);
        }
        prepared.keys = crate::keys::keys_of(&prepared.cpes, prepared.purl.as_ref());
        prepared
    }

    /// The version to hold against upstream (NVD, CVE 5, OSS-Fuzz) ranges: the CPE's when
    /// it has one, else the package version without its distribution revision.
    fn upstream_version(&self, cpe: Option<&Cpe>) -> Option<String> {
        if let Some(v) = cpe.and_then(Cpe::version) {
            // A CPE carries the upstream version (`4.4.3-P1` is ISC's own); one that
            // repeats the package's version, distribution revision and all, is cut to the
            // upstream part.
            if self.component.version.as_deref() == Some(v) {
                return Some(version::upstream(self.scheme, v).to_owned());
            }
            return Some(v.to_owned());
        }
        let v = self.component.version.as_deref()?;
        Some(version::upstream(self.scheme, v).to_owned())
    }

    /// The distribution release the purl names (`debian-12` → `12`), for OSV ecosystems
    /// that carry one (`Debian:12`).
    fn release(&self) -> Option<&str> {
        let distro = self.purl.as_ref()?.qualifiers.get("distro")?;
        Some(distro.rsplit_once('-').map_or(distro.as_str(), |(_, r)| r))
    }
}

/// One rule that held for a component.
#[derive(Debug)]
struct Hit {
    truth: Truth,
    matched: MatchedBy,
    fixed_in: Option<String>,
}

/// Everything learnt about one (component, vulnerability) pair before the status is set.
#[derive(Debug, Default)]
struct Pair<'a> {
    advisories: Vec<&'a Advisory>,
    hits: Vec<Hit>,
    /// A distribution advisory for this very package says the shipped version is fixed.
    distro_fixed: Option<String>,
}

impl<'a> Pair<'a> {
    fn add(&mut self, advisory: &'a Advisory, outcome: Outcome) {
        if !self.advisories.iter().any(|a| std::ptr::eq(*a, advisory)) {
            self.advisories.push(advisory);
        }
        match outcome {
            Outcome::Hit(hit) => self.hits.push(hit),
            Outcome::DistributionFixed(evidence) => {
                self.distro_fixed.get_or_insert(evidence);
            }
            Outcome::Miss => {}
        }
    }
}

/// An advisory made ready for matching: its canonical ID and lookup keys. Its NVD
/// configurations are compiled into [`Rules`], kept apart (see there).
#[derive(Debug, Clone)]
struct Compiled {
    advisory: Advisory,
    id: String,
    keys: Vec<String>,
}

/// Where an advisory's NVD configurations sit in the index's [`Arena`], and whether it has
/// rules of other kinds (OSV and CSAF packages, CVE 5 vendor and product), which are
/// evaluated from the record itself.
#[derive(Debug, Clone, Copy)]
struct Rules {
    first: u32,
    steps: u32,
    others: bool,
}

/// Every advisory's NVD configurations, their CPE names parsed and numbered, laid out flat
/// in the order they are evaluated, record after record, with the versions of their bounds
/// in one text beside them. Matching walks the records in the order they are held, so it
/// reads this memory front to back instead of following each record's allocations.
#[derive(Debug, Default)]
struct Arena {
    steps: Vec<Step>,
    versions: String,
}

#[derive(Debug, Clone)]
enum Step {
    /// A configuration, the `at`-th of the record's rules: the steps of its `nodes` nodes
    /// follow.
    Configuration {
        operator: Operator,
        negate: bool,
        nodes: u32,
        at: u32,
    },
    /// A node: its `matches` matches follow.
    Node {
        operator: Operator,
        negate: bool,
        matches: u32,
    },
    Match(TreeMatch),
}

#[derive(Debug, Clone)]
struct TreeMatch {
    /// `None` when the name does not parse.
    criterion: Option<Criterion>,
    vulnerable: bool,
    start: Option<ArenaBound>,
    end: Option<ArenaBound>,
}

/// A bound's version, as a span of the arena's `versions`.
#[derive(Debug, Clone, Copy)]
struct ArenaBound {
    at: u32,
    len: u32,
    inclusive: bool,
}

/// One `cpeMatch` name, parsed.
#[derive(Debug, Clone)]
struct Criterion {
    part: Part,
    /// The number of its vendor and product among the index's names, when both are plain
    /// text (not a wildcard pattern).
    name: Option<u32>,
    /// Its version, when the name is plain (see `full`).
    version: Word,
    /// The whole name, when it says more than its part, vendor, product and version: a
    /// pattern in any of these, or any other attribute that is not ANY. Nearly every NVD
    /// name says no more, and then matches a component's CPE of the same vendor and
    /// product, a part it covers and the same version (or any, for ANY), whatever else
    /// that CPE says.
    full: Option<Box<Cpe>>,
}

/// A plain name's version: ANY, NA or a literal.
#[derive(Debug, Clone)]
enum Word {
    Any,
    Na,
    Text(Box<str>),
}

impl Arena {
    /// Lays out `advisory`'s configurations after those already held.
    fn add(&mut self, advisory: &Advisory, names: &mut Names) -> Rules {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let first = count(self.steps.len());
        let mut others = false;
        for (at, applicability) in advisory.applies_to.iter().enumerate() {
            let Applicability::Configuration(configuration) = applicability else {
                others = true;
                continue;
            };
            self.steps.push(Step::Configuration {
                operator: configuration.operator,
                negate: configuration.negate,
                nodes: count(configuration.nodes.len()),
                at: count(at),
            });
            for node in &configuration.nodes {
                self.steps.push(Step::Node {
                    operator: node.operator,
                    negate: node.negate,
                    matches: count(node.matches.len()),
                });
                for m in &node.matches {
                    let start = self.bound(m.bounds.start.as_ref());
                    let end = self.bound(m.bounds.end.as_ref());
                    self.steps.push(Step::Match(TreeMatch {
                        criterion: Criterion::parse(&m.criteria, names),
                        vulnerable: m.vulnerable,
                        start,
                        end,
                    }));
                }
            }
        }
        Rules {
            first,
            steps: count(self.steps.len()) - first,
            others,
        }
    }

    fn bound(&mut self, bound: Option<&crate::model::Bound>) -> Option<ArenaBound> {
        let bound = bound?;
        let at = u32::try_from(self.versions.len()).ok()?;
        self.versions.push_str(&bound.version);
        Some(ArenaBound {
            at,
            len: u32::try_from(bound.version.len()).ok()?,
            inclusive: bound.inclusive,
        })
    }

    fn steps(&self, rules: Rules) -> &[Step] {
        let first = rules.first as usize;
        self.steps
            .get(first..first + rules.steps as usize)
            .unwrap_or_default()
    }

    /// A bound's version and whether it is included.
    fn version(&self, bound: Option<ArenaBound>) -> Option<(&str, bool)> {
        let bound = bound?;
        let at = bound.at as usize;
        let text = self.versions.get(at..at + bound.len as usize)?;
        Some((text, bound.inclusive))
    }
}

impl Criterion {
    fn parse(text: &str, names: &mut Names) -> Option<Criterion> {
        let cpe = Cpe::parse(text).ok()?;
        let name = names.intern(&cpe);
        let version = match &cpe.version {
            Value::Any => Some(Word::Any),
            Value::Na => Some(Word::Na),
            Value::Text(text) => Some(Word::Text(text.as_str().into())),
            Value::Pattern(_) => None,
        };
        let plain = name.is_some()
            && version.is_some()
            && [
                &cpe.update,
                &cpe.edition,
                &cpe.language,
                &cpe.sw_edition,
                &cpe.target_sw,
                &cpe.target_hw,
                &cpe.other,
            ]
            .iter()
            .all(|v| matches!(v, Value::Any));
        Some(Criterion {
            part: cpe.part,
            name,
            version: version.unwrap_or(Word::Any),
            full: (!plain).then(|| Box::new(cpe)),
        })
    }
}

/// CPE vendor and product pairs, numbered as the index meets them, so matching compares
/// two numbers where it would read two strings from wherever each record keeps them.
#[derive(Debug, Default)]
struct Names(HashMap<String, u32>);

impl Names {
    /// The number of `cpe`'s vendor and product, given a new one when the pair is new;
    /// `None` unless both are plain text.
    fn intern(&mut self, cpe: &Cpe) -> Option<u32> {
        let key = Names::key(cpe)?;
        let next = u32::try_from(self.0.len()).unwrap_or(u32::MAX);
        Some(*self.0.entry(key).or_insert(next))
    }

    fn find(&self, cpe: &Cpe) -> Option<u32> {
        self.0.get(&Names::key(cpe)?).copied()
    }

    /// Lower case, as CPE name matching compares text.
    fn key(cpe: &Cpe) -> Option<String> {
        match (&cpe.vendor, &cpe.product) {
            (Value::Text(vendor), Value::Text(product)) => Some(format!(
                "{}:{}",
                vendor.to_ascii_lowercase(),
                product.to_ascii_lowercase()
            )),
            _ => None,
        }
    }
}

impl Compiled {
    fn new(advisory: Advisory) -> Compiled {
        Compiled {
            id: canonical_id(&advisory),
            keys: crate::keys::advisory_keys(&advisory).into_iter().collect(),
            advisory,
        }
    }
}

/// Advisories compiled and filed by key in memory: loaded once (by a monitor that matches
/// many SBOMs, or a benchmark), then each SBOM is matched without the store.
#[derive(Debug, Default)]
pub struct Index {
    compiled: Vec<Compiled>,
    /// Each advisory's rules, by the same position.
    rules: Vec<Rules>,
    arena: Arena,
    by_key: HashMap<String, Vec<u32>>,
    names: Names,
    /// Each advisory's canonical ID's place among all the IDs held (equal IDs, equal
    /// places), so findings are put in order without reading their IDs.
    ranks: Vec<u32>,
}

impl Index {
    pub fn new(advisories: impl IntoIterator<Item = Advisory>) -> Index {
        let mut index = Index::default();
        for advisory in advisories.into_iter().filter(|a| !a.withdrawn) {
            let rules = index.arena.add(&advisory, &mut index.names);
            index.rules.push(rules);
            let compiled = Compiled::new(advisory);
            let at = u32::try_from(index.compiled.len()).unwrap_or(u32::MAX);
            for key in &compiled.keys {
                index.by_key.entry(key.clone()).or_default().push(at);
            }
            index.compiled.push(compiled);
        }
        let mut by_id: Vec<usize> = (0..index.compiled.len()).collect();
        by_id.sort_unstable_by(|&a, &b| index.compiled[a].id.cmp(&index.compiled[b].id));
        index.ranks = vec![0; index.compiled.len()];
        let mut rank = 0;
        for (n, &at) in by_id.iter().enumerate() {
            if n > 0 && index.compiled[by_id[n - 1]].id != index.compiled[at].id {
                rank += 1;
            }
            index.ranks[at] = rank;
        }
        index
    }

    pub fn len(&self) -> usize {
        self.compiled.len()
    }

    pub fn is_empty(&self) -> bool {
        self.compiled.is_empty()
    }

    /// Matches `components` against the advisories held, then applies back-ports, VEX
    /// statements (`vex`: from files and the triage kept in the store; later statements win
    /// over earlier ones about the same pair) and KEV. Findings come most urgent first.
    pub fn check(
        &self,
        components: &[Component],
        known_exploited: &BTreeMap<String, KnownExploited>,
        vex: &[VexStatement],
    ) -> Vec<Finding> {
        let prepared: Vec<Prepared<'_>> = in_parallel(shares(components), |components| {
            components
                .iter()
                .map(|c| Prepared::new(c, &self.names))
                .collect()
        });
        let parts: BTreeSet<PartKey> = prepared
            .iter()
            .flat_map(|p| p.cpes.iter().map(|c| PartKey::of(c.part)))
            .collect();
        let mut by_name: HashMap<u32, Vec<usize>> = HashMap::default();
        for (index, p) in prepared.iter().enumerate() {
            for name in p.identities.iter().filter_map(|i| i.name) {
                let entry = by_name.entry(name).or_default();
                if entry.last() != Some(&index) {
                    entry.push(index);
                }
            }
        }
        let context = Context {
            all: &prepared,
            arena: &self.arena,
            by_name: &by_name,
            parts: &parts,
        };
        // Every (advisory, component) pair filed under a shared key, walked in the order
        // the advisories are held: the index is built record after record, so this reads
        // its memory front to back instead of jumping about it once per component.
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (index, component) in prepared.iter().enumerate() {
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for key in &component.keys {
                if let Some(filed) = self.by_key.get(key.as_str()) {
                    pairs.extend(filed.iter().map(|&at| (at, index)));
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut outcomes: Vec<(u32, u32, Outcome)> = in_parallel(shares(&pairs), |pairs| {
            let mut outcomes = Vec::new();
            for &(at, index) in pairs {
                let rules = self.rules[at as usize];
                let component = &prepared[index as usize];
                let mut found = |outcome| outcomes.push((index, at, outcome));
                let steps = self.arena.steps(rules);
                configurations_hit(&context, component, &self.compiled, at, steps, &mut found);
                if rules.others {
                    others_hit(component, &self.compiled[at as usize].advisory, &mut found);
                }
            }
            outcomes
        });
        // One finding per component and vulnerability, its records in the order they are
        // held.
        outcomes.sort_by_key(|&(index, at, _)| (index, self.ranks[at as usize]));
        let group = |index: u32, at: u32| (index, self.ranks[at as usize]);
        let together =
            |a: &(u32, u32, Outcome), b: &(u32, u32, Outcome)| group(a.0, a.1) == group(b.0, b.1);
        let mut findings: Vec<(Finding, u32, u32)> =
            in_parallel(owned_shares(outcomes, together), |share| {
                let mut findings = Vec::new();
                // One pair's buffers, reused for the next.
                let mut pair = Pair::default();
                let mut share = share.into_iter().peekable();
                while let Some(first) = share.next() {
                    let (index, at) = (first.0, first.1);
                    pair.advisories.clear();
                    pair.distro_fixed = None;
                    pair.add(&self.compiled[at as usize].advisory, first.2);
                    while let Some(next) =
                        share.next_if(|next| group(next.0, next.1) == group(index, at))
                    {
                        pair.add(&self.compiled[next.1 as usize].advisory, next.2);
                    }
                    if pair.hits.is_empty() {
                        continue;
                    }
                    let finding = finish(
                        &prepared[index as usize],
                        &self.compiled[at as usize].id,
                        &mut pair,
                        known_exploited,
                        vex,
                    );
                    findings.push((finding, self.ranks[at as usize], index));
                }
                findings
            });
        // Most urgent first: open before settled, known exploited first, then by rating,
        // then by ID and component reference; sorted on numbers, the IDs by their ranks.
        let mut references: Vec<usize> = (0..components.len()).collect();
        references.sort_by(|&a, &b| components[a].reference.cmp(&components[b].reference));
        let mut reference_rank = vec![0u32; components.len()];
        for (rank, &at) in references.iter().enumerate() {
            reference_rank[at] = u32::try_from(rank).unwrap_or(u32::MAX);
        }
        findings.sort_unstable_by_key(|(finding, rank, index)| {
            (
                !finding.status.is_open(),
                finding.status,
                finding.known_exploited.is_none(),
                std::cmp::Reverse(finding.rating),
                *rank,
                reference_rank[*index as usize],
                *index,
            )
        });
        findings
            .into_iter()
            .map(|(finding, _, _)| finding)
            .collect()
    }
}

/// Matches `components` against `advisories` (typically the store's candidates for them):
/// [`Index::check`] over an index of just these.
pub fn match_components(
    components: &[Component],
    advisories: &[Advisory],
    known_exploited: &BTreeMap<String, KnownExploited>,
    vex: &[VexStatement],
) -> Vec<Finding> {
    Index::new(advisories.iter().cloned()).check(components, known_exploited, vex)
}

/// `work` over each share on a thread of its own, the results in the shares' order. A
/// matching job is tens of thousands of independent evaluations.
fn in_parallel<S: Send, R: Send>(shares: Vec<S>, work: impl Fn(S) -> Vec<R> + Sync) -> Vec<R> {
    if shares.len() < 2 {
        return shares.into_iter().flat_map(work).collect();
    }
    std::thread::scope(|scope| {
        let work = &work;
        let running: Vec<_> = shares
            .into_iter()
            .map(|share| scope.spawn(move || work(share)))
            .collect();
        running
            .into_iter()
            .flat_map(|thread| match thread.join() {
                Ok(results) => results,
                // A panic in matching is a bug; carry it to the caller as it is.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// How many items a thread takes: one share per processor, but a small job stays in one
/// share, on the calling thread.
fn share_len(items: usize) -> usize {
    const SMALLEST_SHARE: usize = 4096;
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    items.div_ceil(threads).max(SMALLEST_SHARE)
}

/// `items` in shares of [`share_len`].
fn shares<T>(items: &[T]) -> Vec<&[T]> {
    items.chunks(share_len(items.len())).collect()
}

/// Owned `items` in shares of about [`share_len`], in order, never parting two items that
/// belong `together`.
fn owned_shares<T>(mut items: Vec<T>, together: impl Fn(&T, &T) -> bool) -> Vec<Vec<T>> {
    let len = share_len(items.len());
    let mut out = Vec::new();
    while items.len() > len {
        let mut cut = len;
        while cut < items.len() && together(&items[cut - 1], &items[cut]) {
            cut += 1;
        }
        if cut == items.len() {
            break;
        }
        let rest = items.split_off(cut);
        out.push(std::mem::replace(&mut items, rest));
    }
    out.push(items);
    out
}

/// The ID a finding is known by: the CVE when the record is one or names one.
fn canonical_id(advisory: &Advisory) -> String {
    if advisory.id.starts_with("CVE-") {
        return advisory.id.clone();
    }
    advisory
        .aliases
        .iter()
        .find(|a| a.starts_with("CVE-"))
        .unwrap_or(&advisory.id)
        .clone()
}

/// CPE parts in a form that orders (the parser's enum need not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PartKey {
    Application,
    OperatingSystem,
    Hardware,
    Any,
}

impl PartKey {
    fn of(part: Part) -> PartKey {
        match part {
            Part::Application => PartKey::Application,
            Part::OperatingSystem => PartKey::OperatingSystem,
            Part::Hardware => PartKey::Hardware,
            Part::Any => PartKey::Any,
        }
    }
}

struct Context<'c, 'a> {
    all: &'c [Prepared<'a>],
    arena: &'c Arena,
    /// Components by the number of their CPE vendor and product, so a platform node looks
    /// only at its candidates.
    by_name: &'c HashMap<u32, Vec<usize>>,
    /// The CPE parts the SBOM lists any component of: a platform of a part it lists is
    /// known absent when no component matches it; of a part it never lists, unknown.
    parts: &'c BTreeSet<PartKey>,
}

enum Outcome {
    Hit(Hit),
    /// The distribution's own advisory for this package says the shipped version is fixed.
    DistributionFixed(String),
    Miss,
}

/// Evaluates the record's OSV and CSAF package rules and CVE 5 vendor and product rules.
fn others_hit(component: &Prepared<'_>, advisory: &Advisory, found: &mut impl FnMut(Outcome)) {
    for applicability in &advisory.applies_to {
        let outcome = match applicability {
            Applicability::Configuration(_) => continue,
            Applicability::Package(rule) => package_outcome(component, advisory, rule),
            Applicability::VendorProduct(rule) => vendor_product_hit(component, advisory, rule),
        };
        if !matches!(outcome, Outcome::Miss) {
            found(outcome);
        }
    }
}

/// Evaluates the record's NVD configurations (its `steps`), each an AND/OR tree in
/// three-valued logic; reports a hit for each that holds or may hold.
fn configurations_hit(
    context: &Context<'_, '_>,
    component: &Prepared<'_>,
    compiled: &[Compiled],
    position: u32,
    steps: &[Step],
    found: &mut impl FnMut(Outcome),
) {
    if component.cpes.is_empty() {
        return;
    }
    let identity = |operator: Operator| match operator {
        Operator::And => Truth::True,
        Operator::Or => Truth::False,
    };
    let combine = |operator: Operator, a: Truth, b: Truth| match operator {
        Operator::And => a.and(b),
        Operator::Or => a.or(b),
    };
    let mut steps = steps.iter();
    while let Some(Step::Configuration {
        operator,
        negate,
        nodes,
        at,
    }) = steps.next()
    {
        // Where the first vulnerable name the component matched sits: (node, match).
        let mut first_hit = None;
        let mut truth = identity(*operator);
        for n in 0..*nodes as usize {
            let Some(Step::Node {
                operator: node_operator,
                negate: node_negate,
                matches,
            }) = steps.next()
            else {
                return;
            };
            let mut value = identity(*node_operator);
            for m in 0..*matches as usize {
                let Some(Step::Match(tree_match)) = steps.next() else {
                    return;
                };
                let t = match (&tree_match.criterion, tree_match.vulnerable) {
                    (Some(criterion), true) => {
                        let hit = cpe_match_component(context, component, criterion, tree_match);
                        if hit == Truth::True && first_hit.is_none() {
                            first_hit = Some((n, m));
                        }
                        hit
                    }
                    (Some(criterion), false) => platform_present(context, criterion, tree_match),
                    // A name that does not parse names nothing we ship.
                    (None, true) => Truth::False,
                    (None, false) => Truth::Unknown,
                };
                value = combine(*node_operator, value, t);
            }
            if *node_negate {
                value = value.not();
            }
            truth = combine(*operator, truth, value);
        }
        if *negate {
            truth = truth.not();
        }
        if let Some((n, m)) = first_hit
            && truth != Truth::False
            && let Some(advisory) = compiled.get(position as usize).map(|c| &c.advisory)
            && let Some(hit) = configuration_hit(advisory, *at as usize, n, m, truth)
        {
            found(Outcome::Hit(hit));
        }
    }
}

/// The hit of a configuration that holds (or may), in the record's own words: the first
/// vulnerable name the component matched, the `m`-th of the `n`-th node of the record's
/// `at`-th rule. Read only for a hit.
fn configuration_hit(
    advisory: &Advisory,
    at: usize,
    n: usize,
    m: usize,
    truth: Truth,
) -> Option<Hit> {
    let Some(Applicability::Configuration(configuration)) = advisory.applies_to.get(at) else {
        return None;
    };
    let cpe_match = configuration.nodes.get(n)?.matches.get(m)?;
    Some(Hit {
        truth,
        matched: MatchedBy {
            source: advisory.source,
            advisory: advisory.id.clone(),
            rule: describe_cpe_match(cpe_match),
        },
        fixed_in: cpe_match
            .bounds
            .end
            .as_ref()
            .filter(|end| !end.inclusive)
            .map(|end| end.version.clone()),
    })
}

/// Whether the component is what a vulnerable `cpeMatch` names, at a version within its
/// bounds. The vendor is part of the name: `openssl:openssl` never matches another
/// vendor's `openssl`.
fn cpe_match_component(
    context: &Context<'_, '_>,
    component: &Prepared<'_>,
    criterion: &Criterion,
    tree_match: &TreeMatch,
) -> Truth {
    for at in 0..component.cpes.len() {
        if cpe_within(context.arena, criterion, tree_match, at, component) {
            return Truth::True;
        }
    }
    Truth::False
}

/// Whether the component's `at`-th CPE is what `criterion` names, at a version within the
/// match's bounds. Vendor and product are compared first, as numbers: most of a record's
/// names are other products.
fn cpe_within(
    arena: &Arena,
    criterion: &Criterion,
    tree_match: &TreeMatch,
    at: usize,
    component: &Prepared<'_>,
) -> bool {
    let Some(identity) = component.identities.get(at) else {
        return false;
    };
    if let Some(wanted) = criterion.name
        && identity.name != Some(wanted)
    {
        // Plain-text vendor and product: the component's must be the same text, which
        // then has the same number.
        return false;
    }
    let named = match &criterion.full {
        Some(criteria) => component
            .cpes
            .get(at)
            .is_some_and(|cpe| criteria.matches(cpe)),
        // CPE name matching on the part and the version; every other attribute is ANY,
        // which covers whatever the component's says.
        None => {
            let part = criterion.part == Part::Any
                || (identity.part != Part::Any && criterion.part == identity.part);
            part && match &criterion.version {
                Word::Any => true,
                Word::Na => component
                    .cpes
                    .get(at)
                    .is_some_and(|cpe| matches!(cpe.version, Value::Na)),
                Word::Text(version) => component.cpes.get(at).is_some_and(|cpe| {
                    matches!(&cpe.version, Value::Text(v) if crate::cpe::eq_ignore_case(version, v))
                }),
            }
        }
    };
    named
        && component
            .upstreams
            .get(at)
            .and_then(Option::as_deref)
            .is_some_and(|upstream| {
                version::within(
                    Scheme::Generic,
                    upstream,
                    arena.version(tree_match.start),
                    arena.version(tree_match.end),
                )
            })
}

/// Whether some component is the platform a `cpeMatch` names.
fn platform_present(
    context: &Context<'_, '_>,
    criterion: &Criterion,
    tree_match: &TreeMatch,
) -> Truth {
    let present = |p: &Prepared<'_>| {
        (0..p.cpes.len()).any(|at| cpe_within(context.arena, criterion, tree_match, at, p))
    };
    // A platform named by vendor and product is looked for among the components of that
    // name; one with a wildcard in either is held against them all.
    let found = match criterion.name {
        Some(name) => context
            .by_name
            .get(&name)
            .into_iter()
            .flatten()
            .any(|&i| present(&context.all[i])),
        None => context.all.iter().any(present),
    };
    if found {
        return Truth::True;
    }
    if context.parts.contains(&PartKey::of(criterion.part)) {
        Truth::False
    } else {
        Truth::Unknown
    }
}

fn describe_cpe_match(m: &CpeMatch) -> String {
    use std::fmt::Write;
    let mut rule = String::with_capacity(m.criteria.len() + 64);
    rule.push_str(&m.criteria);
    if let Some(start) = &m.bounds.start {
        let excluded = if start.inclusive { "" } else { " (excluded)" };
        let _ = write!(rule, " from {}{excluded}", start.version);
    }
    if let Some(end) = &m.bounds.end {
        let included = if end.inclusive {
            "included"
        } else {
            "excluded"
        };
        let _ = write!(rule, " up to {} ({included})", end.version);
    }
    rule
}

fn package_outcome(component: &Prepared<'_>, advisory: &Advisory, rule: &PackageRule) -> Outcome {
    let Some(version) = component.component.version.as_deref() else {
        return Outcome::Miss;
    };
    if !same_package(component, rule) {
        return Outcome::Miss;
    }
    let ecosystem_scheme = Scheme::for_ecosystem(&rule.package.ecosystem);
    let purl_rule = rule.package.purl.is_some() && rule.ranges.is_empty();
    // A package of the component's own distribution is held in its own version order;
    // anything else (OSS-Fuzz's upstream projects) by the upstream version.
    let (scheme, version) = if purl_rule {
        (component.scheme, version.to_owned())
    } else if ecosystem_scheme == component.scheme && ecosystem_scheme != Scheme::Generic {
        (ecosystem_scheme, version.to_owned())
    } else {
        let Some(Some(upstream)) = component
            .upstreams
            .first()
            .cloned()
            .or_else(|| Some(component.upstream_version(None)))
        else {
            return Outcome::Miss;
        };
        (ecosystem_scheme, upstream)
    };
    let listed = |list: &[String]| {
        list.iter().any(|v| {
            version::compare(scheme, &version, v) == Ordering::Equal
                || tag_version(v)
                    .is_some_and(|t| version::compare(scheme, &version, &t) == Ordering::Equal)
        })
    };
    if listed(&rule.unaffected) {
        return Outcome::Miss;
    }
    let mut affected_by = None;
    let mut fixed_in = None;
    for range in &rule.ranges {
        if range.kind == RangeKind::Git {
            continue; // commits: only the `versions` list can say
        }
        let range_scheme = if range.kind == RangeKind::Semver {
            Scheme::Semver
        } else {
            scheme
        };
        if version::affected_by_events(range_scheme, &version, &range.events) {
            affected_by = Some(describe_events(&range.events));
            fixed_in = range.events.iter().find_map(|e| match e {
                Event::Fixed(v) if version::compare(range_scheme, v, &version).is_gt() => {
                    Some(v.clone())
                }
                _ => None,
            });
            break;
        }
    }
    if affected_by.is_none() && listed(&rule.versions) {
        affected_by = Some(format!("version {version} is listed as affected"));
    }
    let distribution = matches!(
        ecosystem_scheme,
        Scheme::Debian | Scheme::Opkg | Scheme::Alpine | Scheme::Rpm
    ) && ecosystem_scheme == component.scheme;
    match affected_by {
        Some(rule_text) => Outcome::Hit(Hit {
            truth: Truth::True,
            matched: MatchedBy {
                source: advisory.source,
                advisory: advisory.id.clone(),
                rule: format!(
                    "{} {}: {rule_text}",
                    rule.package.ecosystem, rule.package.name
                ),
            },
            fixed_in,
        }),
        None if distribution => {
            // The distribution's record for this package covers the shipped version and
            // does not call it affected: when it names a fix at or below it, that fix is
            // the back-port.
            let fixed = rule
                .ranges
                .iter()
                .flat_map(|r| &r.events)
                .find_map(|e| match e {
                    Event::Fixed(v) if version::compare(scheme, v, &version).is_le() => Some(v),
                    _ => None,
                });
            match fixed {
                Some(fixed) => Outcome::DistributionFixed(format!(
                    "{} {} ({}) fixes it in {fixed}; the shipped version is {version}",
                    advisory.id, rule.package.name, rule.package.ecosystem
                )),
                None => Outcome::Miss,
            }
        }
        None => Outcome::Miss,
    }
}

/// Whether an OSV or CSAF package is the component's package: by purl, or by ecosystem and
/// name (and release, when both say one).
fn same_package(component: &Prepared<'_>, rule: &PackageRule) -> bool {
    if let (Some(rule_purl), Some(purl)) = (
        rule.package.purl.as_deref().and_then(Purl::parse),
        &component.purl,
    ) && rule_purl.package() == purl.package()
    {
        return true;
    }
    let key = crate::keys::osv_key(&rule.package.ecosystem, &rule.package.name);
    if component.keys.binary_search(&key).is_err() {
        return false;
    }
    // `Debian:12` applies to Debian 12 only; an ecosystem without a release to any.
    match (rule.package.ecosystem.split_once(':'), component.release()) {
        (Some((_, release)), Some(ours)) => release.split(':').next() == Some(ours),
        _ => true,
    }
}

/// The version a release tag names (`curl-7_74_0` → `7.74.0`, `OpenSSL_1_1_1k` →
/// `1.1.1k`, `v2.9.10` → `2.9.10`): OSV's GIT ranges list tags, not versions.
pub fn tag_version(tag: &str) -> Option<String> {
    let bytes = tag.as_bytes();
    let start = (0..bytes.len()).find(|&i| {
        bytes[i].is_ascii_digit()
            && (i == 0
                || matches!(bytes[i - 1], b'-' | b'_' | b'/' | b'.')
                || (bytes[i - 1] == b'v' && (i == 1 || matches!(bytes[i - 2], b'-' | b'_' | b'/'))))
    })?;
    let version = tag[start..].replace('_', ".");
    (version != tag).then_some(version)
}

fn describe_events(events: &[Event]) -> String {
    events
        .iter()
        .map(|e| match e {
            Event::Introduced(v) => format!("introduced {v}"),
            Event::Fixed(v) => format!("fixed {v}"),
            Event::LastAffected(v) => format!("last affected {v}"),
            Event::Limit(v) => format!("limit {v}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn vendor_product_hit(
    component: &Prepared<'_>,
    advisory: &Advisory,
    rule: &VendorProductRule,
) -> Outcome {
    let word = |s: &str| s.trim().to_lowercase().replace(' ', "_");
    let Some(at) = component.cpes.iter().position(|c| {
        c.vendor()
            .is_some_and(|v| v.eq_ignore_ascii_case(&word(&rule.vendor)))
            && c.product()
                .is_some_and(|p| p.eq_ignore_ascii_case(&word(&rule.product)))
    }) else {
        return Outcome::Miss;
    };
    let Some(Some(version)) = component.upstreams.get(at).cloned() else {
        return Outcome::Miss;
    };
    let mut verdict = None;
    for entry in &rule.versions {
        let scheme = match entry.version_type.as_deref() {
            Some("semver") => Scheme::Semver,
            Some("rpm") => Scheme::Rpm,
            Some("deb" | "dpkg") => Scheme::Debian,
            _ => Scheme::Generic,
        };
        let from_start = matches!(entry.version.as_str(), "0" | "*" | "");
        let covers = match (&entry.less_than, &entry.less_than_or_equal) {
            (Some(end), _) if end != "*" => {
                (from_start || version::compare(scheme, &version, &entry.version).is_ge())
                    && version::compare(scheme, &version, end).is_lt()
            }
            (_, Some(end)) if end != "*" => {
                (from_start || version::compare(scheme, &version, &entry.version).is_ge())
                    && version::compare(scheme, &version, end).is_le()
            }
            (Some(_), _) | (_, Some(_)) => {
                from_start || version::compare(scheme, &version, &entry.version).is_ge()
            }
            (None, None) => version::compare(scheme, &version, &entry.version).is_eq(),
        };
        if covers {
            let bound = entry
                .less_than
                .as_ref()
                .map(|e| format!(" before {e}"))
                .or_else(|| {
                    entry
                        .less_than_or_equal
                        .as_ref()
                        .map(|e| format!(" up to {e}"))
                })
                .unwrap_or_default();
            verdict = Some((
                entry.affected,
                format!("{}{bound}", entry.version),
                entry.less_than.clone(),
            ));
            // An entry that says "unaffected" for the version settles it.
            if !entry.affected {
                break;
            }
        }
    }
    let (affected, text, fixed_in) = match verdict {
        Some(v) => v,
        None if rule.default_affected == Some(true) => (
            true,
            "every version (defaultStatus affected)".to_owned(),
            None,
        ),
        None => return Outcome::Miss,
    };
    if !affected {
        return Outcome::Miss;
    }
    Outcome::Hit(Hit {
        truth: Truth::True,
        matched: MatchedBy {
            source: advisory.source,
            advisory: advisory.id.clone(),
            rule: format!("{} {} {text}", rule.vendor, rule.product),
        },
        fixed_in,
    })
}

fn finish(
    component: &Prepared<'_>,
    vulnerability: &str,
    pair: &mut Pair<'_>,
    known_exploited: &BTreeMap<String, KnownExploited>,
    vex: &[VexStatement],
) -> Finding {
    let c = component.component;
    let mut others: Vec<&str> = pair
        .advisories
        .iter()
        .flat_map(|a| std::iter::once(&a.id).chain(&a.aliases))
        .map(String::as_str)
        .filter(|id| *id != vulnerability)
        .collect();
    others.sort_unstable();
    others.dedup();
    let aliases: Vec<String> = others.iter().map(|id| (*id).to_owned()).collect();
    // Every name the vulnerability goes by, for KEV, VEX and back-ports.
    let mut names = others;
    names.push(vulnerability);
    names.sort_unstable();
    let certain = pair.hits.iter().any(|h| h.truth == Truth::True);
    let mut matched_by: Vec<MatchedBy> = Vec::with_capacity(pair.hits.len());
    let mut fixed_in: Vec<String> = Vec::new();
    for hit in pair.hits.drain(..) {
        matched_by.push(hit.matched);
        fixed_in.extend(hit.fixed_in);
    }
    matched_by.sort();
    matched_by.dedup();
    fixed_in.sort_unstable();
    fixed_in.dedup();
    let (cvss_v31, cvss_v40) = best_scores(&pair.advisories);
    let rating = pair
        .advisories
        .iter()
        .flat_map(|a| &a.severities)
        .map(|s| s.rating)
        .max()
        .unwrap_or(Rating::None);
    let summary = pair
        .advisories
        .iter()
        .map(|a| &a.summary)
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or_default();
    let kev = names.iter().find_map(|n| known_exploited.get(*n)).cloned();

    let statement = applicable_statement(component, &names, vex);
    let backport = c
        .fixes
        .iter()
        .find(|f| names.contains(&f.vulnerability.as_str()));
    let (status, reason, origin) = if let Some(s) = statement {
        let status = match s.status {
            VexStatus::NotAffected => Status::NotAffected,
            VexStatus::Fixed => Status::Fixed,
            VexStatus::UnderInvestigation => Status::UnderInvestigation,
            VexStatus::Affected => Status::Affected,
        };
        let mut reason = format!(
            "VEX {} at {} says {}",
            s.origin.document,
            s.origin.pointer,
            vex_status_words(s.status)
        );
        if let Some(j) = s.justification {
            reason.push_str(&format!(
                " ({})",
                serde_json::to_value(j)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            ));
        }
        if let Some(detail) = &s.detail {
            reason.push_str(&format!(": {detail}"));
        }
        (status, reason, Some(s.origin.clone()))
    } else if let Some(fix) = backport {
        (
            Status::Fixed,
            format!("back-ported: {}", fix.evidence),
            None,
        )
    } else if let Some(evidence) = &pair.distro_fixed {
        (Status::Fixed, format!("back-ported: {evidence}"), None)
    } else if certain {
        let version = c.version.as_deref().unwrap_or("(no version)");
        (
            Status::Affected,
            format!("{} {version} is within {}", c.name, matched_by[0].rule),
            None,
        )
    } else {
        (
            Status::Conditional,
            format!(
                "{} matches {}, but only on a platform the SBOM does not list",
                c.name, matched_by[0].rule
            ),
            None,
        )
    };
    Finding {
        vulnerability: vulnerability.to_owned(),
        aliases,
        component: Arc::clone(&component.named),
        status,
        reason,
        matched_by,
        summary,
        cvss_v31,
        cvss_v40,
        rating,
        known_exploited: kev,
        fixed_in,
        vex: origin,
    }
}

fn vex_status_words(status: VexStatus) -> &'static str {
    match status {
        VexStatus::NotAffected => "not affected",
        VexStatus::Affected => "affected",
        VexStatus::Fixed => "fixed",
        VexStatus::UnderInvestigation => "under investigation",
    }
}

/// The primary (first listed) CVSS v3.1 and v4.0 scores of the matching records, NVD's
/// first when NVD is among them.
fn best_scores(advisories: &[&Advisory]) -> (Option<Cvss>, Option<Cvss>) {
    let mut ordered: Vec<&&Advisory> = advisories.iter().collect();
    ordered.sort_by_key(|a| a.source != Source::Nvd);
    let pick = |version: CvssVersion| {
        ordered
            .iter()
            .flat_map(|a| &a.severities)
            .find(|s| s.version == version)
            .cloned()
    };
    (pick(CvssVersion::V31), pick(CvssVersion::V40))
}

/// The VEX statement about this vulnerability in this component, the last one given
/// winning: a statement names one vulnerability (by any of its IDs) and one product, by
/// purl (the package, and the version when the purl has one or the statement bounds it)
/// or by CPE (vendor, product and version, as CPE name matching says).
fn applicable_statement<'v>(
    component: &Prepared<'_>,
    names: &[&str],
    vex: &'v [VexStatement],
) -> Option<&'v VexStatement> {
    vex.iter()
        .rev()
        .find(|s| names.contains(&s.vulnerability.as_str()) && covers(component, s))
}

fn covers(component: &Prepared<'_>, statement: &VexStatement) -> bool {
    let id = statement.product.id.as_str();
    let bounds = &statement.product.bounds;
    if let Some(product) = Purl::parse(id) {
        let Some(purl) = &component.purl else {
            return false;
        };
        if product.package() != purl.package() {
            return false;
        }
        let Some(version) = component.component.version.as_deref() else {
            return product.version.is_none() && bounds.is_unbounded();
        };
        let exact = product
            .version
            .as_deref()
            .is_none_or(|v| version::compare(component.scheme, version, v).is_eq());
        return exact && version::in_bounds(component.scheme, version, bounds);
    }
    if let Ok(product) = Cpe::parse(id) {
        return component
            .cpes
            .iter()
            .zip(&component.upstreams)
            .any(|(cpe, upstream)| {
                product.matches(cpe)
                    && upstream
                        .as_deref()
                        .is_some_and(|v| version::in_bounds(Scheme::Generic, v, bounds))
            });
    }
    false
}
