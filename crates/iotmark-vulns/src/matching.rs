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

use serde::Serialize;

use crate::component::Component;
use crate::cpe::{Cpe, Part};
use crate::model::{
    Advisory, Applicability, Configuration, CpeMatch, Cvss, CvssVersion, Event, KnownExploited,
    Operator, Origin, PackageRule, RangeKind, Rating, Source, VendorProductRule, VexStatement,
    VexStatus,
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
    pub component: ComponentRef,
    pub status: Status,
    /// Why the status is what it is, in a sentence a reader can check.
    pub reason: String,
    /// The records and rules the match rests on.
    pub matched_by: Vec<MatchedBy>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub summary: String,
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
    /// The component's CPEs, each with its version as upstream writes it, so a distribution
    /// version in a manufacturer's CPE (`7.88.1-10+deb12u8`) is held as `7.88.1`.
    cpes: Vec<Cpe>,
    /// That upstream version of each CPE (from the CPE, else the package version).
    upstreams: Vec<Option<String>>,
    purl: Option<Purl>,
    scheme: Scheme,
    keys: BTreeSet<String>,
}

impl<'a> Prepared<'a> {
    fn new(component: &'a Component) -> Prepared<'a> {
        let purl = component.purl.as_deref().and_then(Purl::parse);
        let scheme = purl
            .as_ref()
            .map_or(Scheme::Generic, |p| Scheme::for_purl_type(&p.kind));
        let mut prepared = Prepared {
            component,
            cpes: Vec::new(),
            upstreams: Vec::new(),
            purl,
            scheme,
            keys: crate::keys::component_keys(component),
        };
        for cpe in component.cpes.iter().filter_map(|c| Cpe::parse(c).ok()) {
            let upstream = prepared.upstream_version(Some(&cpe));
            let mut cpe = cpe;
            if let (crate::cpe::Value::Text(v), Some(u)) = (&mut cpe.version, &upstream) {
                v.clone_from(u);
            }
            prepared.cpes.push(cpe);
            prepared.upstreams.push(upstream);
        }
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

/// An advisory made ready for matching: its canonical ID, lookup keys and CPE names parsed
/// once, however many components and SBOMs it is held against.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub advisory: Advisory,
    id: String,
    keys: Vec<String>,
    /// Per applicability, per node, per match: the parsed criteria (`None` when it does not
    /// parse; empty for other kinds of applicability).
    criteria: Vec<Vec<Vec<Option<Cpe>>>>,
}

impl Compiled {
    pub fn new(advisory: Advisory) -> Compiled {
        let criteria = advisory
            .applies_to
            .iter()
            .map(|a| match a {
                Applicability::Configuration(c) => c
                    .nodes
                    .iter()
                    .map(|n| {
                        n.matches
                            .iter()
                            .map(|m| Cpe::parse(&m.criteria).ok())
                            .collect()
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        Compiled {
            id: canonical_id(&advisory),
            keys: crate::keys::advisory_keys(&advisory).into_iter().collect(),
            criteria,
            advisory,
        }
    }

    /// The keys the advisory is filed under.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
}

/// Advisories compiled and filed by key in memory: loaded once (by a monitor that matches
/// many SBOMs, or a benchmark), then each SBOM is matched without the store.
#[derive(Debug, Default)]
pub struct Index {
    compiled: Vec<Compiled>,
    by_key: std::collections::HashMap<String, Vec<u32>>,
}

impl Index {
    pub fn new(advisories: impl IntoIterator<Item = Advisory>) -> Index {
        let mut index = Index::default();
        for advisory in advisories.into_iter().filter(|a| !a.withdrawn) {
            let compiled = Compiled::new(advisory);
            let at = u32::try_from(index.compiled.len()).unwrap_or(u32::MAX);
            for key in &compiled.keys {
                index.by_key.entry(key.clone()).or_default().push(at);
            }
            index.compiled.push(compiled);
        }
        index
    }

    pub fn len(&self) -> usize {
        self.compiled.len()
    }

    pub fn is_empty(&self) -> bool {
        self.compiled.is_empty()
    }

    /// The advisories filed under any key of `components`, each once.
    pub fn candidates(&self, components: &[Component]) -> Vec<&Compiled> {
        let mut seen = vec![false; self.compiled.len()];
        let mut out = Vec::new();
        for c in components {
            for key in crate::keys::component_keys(c) {
                for &at in self.by_key.get(&key).into_iter().flatten() {
                    let at = at as usize;
                    if let Some(slot) = seen.get_mut(at)
                        && !*slot
                    {
                        *slot = true;
                        out.push(&self.compiled[at]);
                    }
                }
            }
        }
        out
    }
}

/// Matches `components` against `advisories` (typically the store's candidates for them),
/// then applies back-ports, VEX statements (`vex`: from files and the triage kept in the
/// store; later statements win over earlier ones about the same pair) and KEV.
pub fn match_components(
    components: &[Component],
    advisories: &[Advisory],
    known_exploited: &BTreeMap<String, KnownExploited>,
    vex: &[VexStatement],
) -> Vec<Finding> {
    let compiled: Vec<Compiled> = advisories
        .iter()
        .filter(|a| !a.withdrawn)
        .cloned()
        .map(Compiled::new)
        .collect();
    let refs: Vec<&Compiled> = compiled.iter().collect();
    match_compiled(components, &refs, known_exploited, vex)
}

/// [`match_components`] over advisories already compiled (an [`Index`]'s candidates).
pub fn match_compiled(
    components: &[Component],
    advisories: &[&Compiled],
    known_exploited: &BTreeMap<String, KnownExploited>,
    vex: &[VexStatement],
) -> Vec<Finding> {
    let prepared: Vec<Prepared<'_>> = components.iter().map(Prepared::new).collect();
    let parts: BTreeSet<PartKey> = prepared
        .iter()
        .flat_map(|p| p.cpes.iter().map(|c| PartKey::of(c.part)))
        .collect();
    let mut by_cpe: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, p) in prepared.iter().enumerate() {
        for cpe in &p.cpes {
            if let (Some(vendor), Some(product)) = (cpe.vendor(), cpe.product()) {
                let key = format!(
                    "cpe:{}:{}",
                    vendor.to_ascii_lowercase(),
                    product.to_ascii_lowercase()
                );
                let entry = by_cpe.entry(key).or_default();
                if entry.last() != Some(&index) {
                    entry.push(index);
                }
            }
        }
    }
    let context = Context {
        all: &prepared,
        by_cpe: &by_cpe,
        parts: &parts,
    };
    // Each advisory is held only against the components filed under one of its keys.
    let mut by_key: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
    for (index, p) in prepared.iter().enumerate() {
        for key in &p.keys {
            by_key.entry(key.as_str()).or_default().push(index);
        }
    }
    let mut pairs: std::collections::HashMap<(usize, &str), Pair<'_>> =
        std::collections::HashMap::new();
    for compiled in advisories {
        let advisory = &compiled.advisory;
        let vulnerability = compiled.id.as_str();
        let mut indices: Vec<usize> = compiled
            .keys
            .iter()
            .filter_map(|k| by_key.get(k.as_str()))
            .flatten()
            .copied()
            .collect();
        indices.sort_unstable();
        indices.dedup();
        let parsed = &compiled.criteria;
        for index in indices {
            let component = &prepared[index];
            for (applicability, parsed) in advisory.applies_to.iter().zip(parsed) {
                let outcome = evaluate(&context, component, advisory, applicability, parsed);
                if matches!(outcome, Outcome::Miss) {
                    continue;
                }
                let pair = pairs.entry((index, vulnerability)).or_default();
                if !pair.advisories.iter().any(|a| std::ptr::eq(*a, advisory)) {
                    pair.advisories.push(advisory);
                }
                match outcome {
                    Outcome::Hit(hit) => pair.hits.push(hit),
                    Outcome::DistributionFixed(evidence) => {
                        pair.distro_fixed.get_or_insert(evidence);
                    }
                    Outcome::Miss => {}
                }
            }
        }
    }
    // In component and vulnerability order, so equal-urgency findings come out the same
    // way every run.
    let mut pairs: Vec<((usize, &str), Pair<'_>)> = pairs
        .into_iter()
        .filter(|(_, pair)| !pair.hits.is_empty())
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut findings: Vec<Finding> = pairs
        .into_iter()
        .map(|((index, vulnerability), pair)| {
            finish(
                &prepared[index],
                vulnerability.to_owned(),
                pair,
                known_exploited,
                vex,
            )
        })
        .collect();
    findings.sort_by(urgency);
    findings
}

/// Most urgent first: open before settled, known exploited first, then by rating, then by
/// ID and component.
fn urgency(a: &Finding, b: &Finding) -> Ordering {
    (!a.status.is_open(), a.status)
        .cmp(&(!b.status.is_open(), b.status))
        .then_with(|| {
            b.known_exploited
                .is_some()
                .cmp(&a.known_exploited.is_some())
        })
        .then_with(|| b.rating.cmp(&a.rating))
        .then_with(|| a.vulnerability.cmp(&b.vulnerability))
        .then_with(|| a.component.reference.cmp(&b.component.reference))
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
    /// Components by `cpe:VENDOR:PRODUCT`, so a platform node looks only at its candidates.
    by_cpe: &'c BTreeMap<String, Vec<usize>>,
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

/// `parsed` holds a configuration's CPEs, node by node, already parsed (`None` for one
/// that does not parse, which then matches nothing).
fn evaluate(
    context: &Context<'_, '_>,
    component: &Prepared<'_>,
    advisory: &Advisory,
    applicability: &Applicability,
    parsed: &[Vec<Option<Cpe>>],
) -> Outcome {
    match applicability {
        Applicability::Configuration(configuration) => {
            configuration_hit(context, component, advisory, configuration, parsed)
        }
        Applicability::Package(rule) => package_outcome(component, advisory, rule),
        Applicability::VendorProduct(rule) => vendor_product_hit(component, advisory, rule),
    }
}

fn configuration_hit(
    context: &Context<'_, '_>,
    component: &Prepared<'_>,
    advisory: &Advisory,
    configuration: &Configuration,
    parsed: &[Vec<Option<Cpe>>],
) -> Outcome {
    if component.cpes.is_empty() {
        return Outcome::Miss;
    }
    let mut rule = None;
    let mut fixed_in = None;
    let mut truth = match configuration.operator {
        Operator::And => Truth::True,
        Operator::Or => Truth::False,
    };
    for (node, criteria) in configuration.nodes.iter().zip(parsed) {
        let mut value = match node.operator {
            Operator::And => Truth::True,
            Operator::Or => Truth::False,
        };
        for (m, criteria) in node.matches.iter().zip(criteria) {
            let t = if let Some(criteria) = criteria
                && m.vulnerable
            {
                let hit = cpe_match_component(component, m, criteria);
                if hit == Truth::True && rule.is_none() {
                    rule = Some(describe_cpe_match(m));
                    fixed_in = m
                        .bounds
                        .end
                        .as_ref()
                        .filter(|end| !end.inclusive)
                        .map(|end| end.version.clone());
                }
                hit
            } else if let Some(criteria) = criteria {
                platform_present(context, m, criteria)
            } else if m.vulnerable {
                // A name that does not parse names nothing we ship.
                Truth::False
            } else {
                Truth::Unknown
            };
            value = match node.operator {
                Operator::And => value.and(t),
                Operator::Or => value.or(t),
            };
        }
        if node.negate {
            value = value.not();
        }
        truth = match configuration.operator {
            Operator::And => truth.and(value),
            Operator::Or => truth.or(value),
        };
    }
    if configuration.negate {
        truth = truth.not();
    }
    match (truth, rule) {
        (Truth::True | Truth::Unknown, Some(rule)) => Outcome::Hit(Hit {
            truth,
            matched: MatchedBy {
                source: advisory.source,
                advisory: advisory.id.clone(),
                rule,
            },
            fixed_in,
        }),
        _ => Outcome::Miss,
    }
}

/// Whether the component is what a vulnerable `cpeMatch` names, at a version within its
/// bounds. The vendor is part of the name: `openssl:openssl` never matches another
/// vendor's `openssl`.
fn cpe_match_component(component: &Prepared<'_>, m: &CpeMatch, criteria: &Cpe) -> Truth {
    for at in 0..component.cpes.len() {
        if cpe_within(criteria, m, at, component) {
            return Truth::True;
        }
    }
    Truth::False
}

/// Whether the component's `at`-th CPE is what `criteria` names, at a version within the
/// match's bounds. Vendor and product are compared first: most of a record's names are
/// other products.
fn cpe_within(criteria: &Cpe, m: &CpeMatch, at: usize, component: &Prepared<'_>) -> bool {
    let (Some(cpe), Some(Some(upstream))) = (component.cpes.get(at), component.upstreams.get(at))
    else {
        return false;
    };
    let differs = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (Some(a), Some(b)) => !a.eq_ignore_ascii_case(b),
        _ => false,
    };
    if differs(criteria.product(), cpe.product()) || differs(criteria.vendor(), cpe.vendor()) {
        return false;
    }
    criteria.matches(cpe) && version::in_bounds(Scheme::Generic, upstream, &m.bounds)
}

/// Whether some component is the platform a `cpeMatch` names.
fn platform_present(context: &Context<'_, '_>, m: &CpeMatch, criteria: &Cpe) -> Truth {
    // A platform named by vendor and product is looked for among the components filed
    // under that name; one with a wildcard in either is held against them all.
    let candidates: Box<dyn Iterator<Item = &Prepared<'_>>> =
        match (criteria.vendor(), criteria.product()) {
            (Some(vendor), Some(product)) => Box::new(
                context
                    .by_cpe
                    .get(&format!(
                        "cpe:{}:{}",
                        vendor.to_ascii_lowercase(),
                        product.to_ascii_lowercase()
                    ))
                    .into_iter()
                    .flatten()
                    .map(|&i| &context.all[i]),
            ),
            _ => Box::new(context.all.iter()),
        };
    if candidates
        .into_iter()
        .any(|p| (0..p.cpes.len()).any(|at| cpe_within(criteria, m, at, p)))
    {
        return Truth::True;
    }
    if context.parts.contains(&PartKey::of(criteria.part)) {
        Truth::False
    } else {
        Truth::Unknown
    }
}

fn describe_cpe_match(m: &CpeMatch) -> String {
    let mut rule = m.criteria.clone();
    if let Some(start) = &m.bounds.start {
        rule.push_str(&format!(
            " from {}{}",
            start.version,
            if start.inclusive { "" } else { " (excluded)" }
        ));
    }
    if let Some(end) = &m.bounds.end {
        rule.push_str(&format!(
            " up to {}{}",
            end.version,
            if end.inclusive {
                " (included)"
            } else {
                " (excluded)"
            }
        ));
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
    if !component.keys.contains(&crate::keys::osv_key(
        &rule.package.ecosystem,
        &rule.package.name,
    )) {
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
    vulnerability: String,
    pair: Pair<'_>,
    known_exploited: &BTreeMap<String, KnownExploited>,
    vex: &[VexStatement],
) -> Finding {
    let c = component.component;
    let mut aliases: BTreeSet<String> = BTreeSet::new();
    for a in &pair.advisories {
        aliases.insert(a.id.clone());
        aliases.extend(a.aliases.iter().cloned());
    }
    aliases.remove(&vulnerability);
    let names: BTreeSet<&str> = std::iter::once(vulnerability.as_str())
        .chain(aliases.iter().map(String::as_str))
        .collect();
    let mut matched_by: Vec<MatchedBy> = pair.hits.iter().map(|h| h.matched.clone()).collect();
    matched_by.sort();
    matched_by.dedup();
    let fixed_in: Vec<String> = pair
        .hits
        .iter()
        .filter_map(|h| h.fixed_in.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let certain = pair.hits.iter().any(|h| h.truth == Truth::True);
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
        .map(|a| a.summary.as_str())
        .find(|s| !s.is_empty())
        .unwrap_or("")
        .to_owned();
    let kev = names.iter().find_map(|n| known_exploited.get(*n)).cloned();

    let statement = applicable_statement(component, &names, vex);
    let backport = c
        .fixes
        .iter()
        .find(|f| names.contains(f.vulnerability.as_str()));
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
        vulnerability,
        aliases: aliases.into_iter().collect(),
        component: ComponentRef {
            reference: c.reference.clone(),
            name: c.name.clone(),
            version: c.version.clone(),
            purl: c.purl.clone(),
        },
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
    names: &BTreeSet<&str>,
    vex: &'v [VexStatement],
) -> Option<&'v VexStatement> {
    vex.iter()
        .rev()
        .find(|s| names.contains(s.vulnerability.as_str()) && covers(component, s))
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
