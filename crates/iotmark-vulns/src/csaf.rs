//! CSAF 2.0 documents (OASIS Common Security Advisory Framework): a vendor's or
//! distribution's advisory, or a `csaf_vex` document, read into [`Advisory`] records (what
//! the matcher holds against components) and [`VexStatement`]s (what suppresses or confirms
//! a match).
//!
//! A CSAF document names its products once, in the `product_tree`, and refers to them by
//! `product_id` everywhere else. Only a product with a `product_identification_helper`
//! (a purl or a CPE) can be matched against a component, so products without one are
//! reported in [`Read::skipped`] with their ID rather than silently dropped. A product
//! defined by a relationship (`default_component_of`, `installed_on`, …) is the relationship's
//! component (`product_reference`) as shipped in another product: it takes the component's
//! helper, since the component is what a scan finds.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Read, ReadError};
use crate::model::{
    Advisory, Applicability, Bounds, Configuration, CpeMatch, Cvss, CvssVersion, Event, EventRange,
    Justification, Node, Operator, Origin, Package, PackageRule, ProductRef, RangeKind, Rating,
    Source, VexStatement, VexStatus,
};
use crate::purl::Purl;
use crate::vex::fields::{Place, parse, parse_version_range};
use crate::vex::parse_justification;

/// What one CSAF document says.
#[derive(Debug, Clone, PartialEq)]
pub struct Csaf {
    /// `document.tracking.id`.
    pub tracking_id: String,
    /// `document.category`: `csaf_vex`, `csaf_security_advisory`, or a profile of the
    /// vendor's own.
    pub category: String,
    /// One advisory per entry of `vulnerabilities[]` that names an ID.
    pub advisories: Vec<Advisory>,
    /// One statement per product and VEX status of every vulnerability.
    pub statements: Vec<VexStatement>,
    /// Products that cannot be matched and vulnerabilities that could not be read.
    pub skipped: Vec<ReadError>,
}

impl Csaf {
    /// The statements with the problems, in the shape the other VEX readers give.
    pub fn into_statements(self) -> Read<VexStatement> {
        Read {
            records: self.statements,
            skipped: self.skipped,
        }
    }
}

/// A product as the tree defines it.
#[derive(Debug, Clone)]
struct Product {
    /// The purl, or else the CPE, of its identification helper.
    id: Option<String>,
    purl: Option<String>,
    cpe: Option<String>,
    /// From an enclosing `product_version_range` branch.
    bounds: Bounds,
    /// Where it is defined, for problems.
    pointer: String,
}

/// The product status lists of CSAF 2.0 (section 3.2.3.9) and the VEX status each gives;
/// `recommended` says which version to move to, not how one is affected.
const STATUSES: [(&str, Option<VexStatus>); 8] = [
    ("first_affected", Some(VexStatus::Affected)),
    ("known_affected", Some(VexStatus::Affected)),
    ("last_affected", Some(VexStatus::Affected)),
    ("first_fixed", Some(VexStatus::Fixed)),
    ("fixed", Some(VexStatus::Fixed)),
    ("known_not_affected", Some(VexStatus::NotAffected)),
    ("under_investigation", Some(VexStatus::UnderInvestigation)),
    ("recommended", None),
];

/// Reads a CSAF 2.0 document. The document as a whole must be CSAF (an object with
/// `document.category`, `document.tracking.id` and `document.publisher.name`); a broken
/// vulnerability entry or an unmatchable product is skipped and reported.
pub fn read(name: &str, bytes: &[u8]) -> Result<Csaf, ReadError> {
    let value = parse(name, bytes)?;
    read_value(name, &value)
}

pub(crate) fn read_value(name: &str, value: &serde_json::Value) -> Result<Csaf, ReadError> {
    let root = Place::root(name, value);
    let document = root.object("document")?.ok_or_else(|| {
        root.error_at("document", "`document` is missing")
            .with_hint("a CSAF 2.0 document has `document`, `product_tree` and `vulnerabilities`")
    })?;
    let category = document.required_str("category")?.to_owned();
    if let Some(version) = document.str("csaf_version")?
        && version != "2.0"
    {
        return Err(document
            .error_at(
                "csaf_version",
                format!("CSAF version {version} is not read"),
            )
            .with_hint("iotmark reads CSAF 2.0"));
    }
    let publisher = document
        .object("publisher")?
        .ok_or_else(|| document.error_at("publisher", "`publisher` is missing"))?;
    let publisher = publisher.required_str("name")?.to_owned();
    let tracking = document
        .object("tracking")?
        .ok_or_else(|| document.error_at("tracking", "`tracking` is missing"))?;
    let tracking_id = tracking.required_str("id")?.to_owned();
    let published = tracking.timestamp("initial_release_date")?;
    let modified = tracking.timestamp("current_release_date")?;

    let mut skipped = Vec::new();
    let tree = Tree::read(&root, &mut skipped)?;
    let mut out = Csaf {
        tracking_id: tracking_id.clone(),
        category,
        advisories: Vec::new(),
        statements: Vec::new(),
        skipped: Vec::new(),
    };
    let context = Context {
        name,
        tracking_id: &tracking_id,
        publisher: &publisher,
        published,
        modified,
        tree: &tree,
    };
    let mut unmatchable = BTreeSet::new();
    for vulnerability in root.items("vulnerabilities")? {
        // A broken entry costs only its own statements.
        let mut statements = Vec::new();
        let mut problems = Vec::new();
        match context.vulnerability(
            &vulnerability,
            &mut statements,
            &mut unmatchable,
            &mut problems,
        ) {
            Ok(advisory) => {
                out.advisories.push(advisory);
                out.statements.append(&mut statements);
                skipped.append(&mut problems);
            }
            Err(e) => skipped.push(e),
        }
    }
    for id in unmatchable {
        let pointer = tree
            .products
            .get(&id)
            .map_or_else(|| "/product_tree".to_owned(), |p| p.pointer.clone());
        skipped.push(
            ReadError::new(
                name,
                pointer,
                format!("product `{id}` has no purl or CPE, so no component can match it"),
            )
            .with_hint("give the product a product_identification_helper with purl or cpe"),
        );
    }
    out.skipped = skipped;
    Ok(out)
}

/// The product tree, flattened: every product ID with what identifies it, and the groups.
struct Tree {
    products: BTreeMap<String, Product>,
    groups: BTreeMap<String, Vec<String>>,
}

impl Tree {
    fn read(root: &Place<'_>, skipped: &mut Vec<ReadError>) -> Result<Tree, ReadError> {
        let mut tree = Tree {
            products: BTreeMap::new(),
            groups: BTreeMap::new(),
        };
        let Some(product_tree) = root.object("product_tree")? else {
            return Ok(tree);
        };
        for branch in product_tree.items("branches")? {
            tree.branch(&branch, &Bounds::default(), skipped)?;
        }
        for full in product_tree.items("full_product_names")? {
            tree.full_product_name(&full, Bounds::default())?;
        }
        // A relationship may name a product another relationship defines: each waits for
        // its component, and is resolved as soon as the component is (CSAF forbids cycles,
        // test 6.1.3; a cycle is left waiting and reported).
        let relationships = product_tree.items("relationships")?;
        let mut waiting: BTreeMap<String, Vec<&Place<'_>>> = BTreeMap::new();
        let mut ready = Vec::new();
        for relationship in &relationships {
            let component = relationship.required_str("product_reference")?;
            if tree.products.contains_key(component) {
                ready.push(relationship);
            } else {
                waiting
                    .entry(component.to_owned())
                    .or_default()
                    .push(relationship);
            }
        }
        while let Some(relationship) = ready.pop() {
            let defined = tree.relationship(relationship)?;
            if let Some(more) = waiting.remove(&defined) {
                ready.extend(more);
            }
        }
        for (component, relationships) in waiting {
            for relationship in relationships {
                skipped.push(
                    relationship
                        .error(format!(
                            "the relationship's component `{component}` is not a product of the tree"
                        ))
                        .with_hint("product_reference must be a product_id defined in product_tree"),
                );
            }
        }
        for group in product_tree.items("product_groups")? {
            let id = group.required_str("group_id")?.to_owned();
            let members = group
                .strings("product_ids")?
                .into_iter()
                .map(|(_, s)| s.to_owned())
                .collect();
            tree.groups.insert(id, members);
        }
        Ok(tree)
    }

    fn branch(
        &mut self,
        branch: &Place<'_>,
        bounds: &Bounds,
        skipped: &mut Vec<ReadError>,
    ) -> Result<(), ReadError> {
        let mut bounds = bounds.clone();
        if branch.str("category")? == Some("product_version_range") {
            let range = branch.required_str("name")?;
            match parse_version_range(range).as_deref() {
                Ok([one]) => bounds = one.clone(),
                Ok(_) | Err(_) => {
                    // A range that cannot be held as one interval must not widen a statement
                    // to every version: its products are left without a helper.
                    skipped.push(
                        branch
                            .error(format!(
                                "the version range `{range}` is not one vers interval; \
                                 its products are not matched"
                            ))
                            .with_hint("write the range as vers:SCHEME/>=FIRST|<LAST"),
                    );
                    if let Some(product) = branch.object("product")? {
                        let id = product.required_str("product_id")?.to_owned();
                        self.products.insert(
                            id,
                            Product {
                                id: None,
                                purl: None,
                                cpe: None,
                                bounds: Bounds::default(),
                                pointer: product.pointer().to_owned(),
                            },
                        );
                    }
                    return Ok(());
                }
            }
        }
        if let Some(product) = branch.object("product")? {
            self.full_product_name(&product, bounds.clone())?;
        }
        for child in branch.items("branches")? {
            self.branch(&child, &bounds, skipped)?;
        }
        Ok(())
    }

    fn full_product_name(&mut self, full: &Place<'_>, bounds: Bounds) -> Result<(), ReadError> {
        let id = full.required_str("product_id")?.to_owned();
        let (purl, cpe) = match full.object("product_identification_helper")? {
            Some(helper) => (
                helper.str("purl")?.map(str::to_owned),
                helper.str("cpe")?.map(str::to_owned),
            ),
            None => (None, None),
        };
        self.products.insert(
            id,
            Product {
                id: purl.clone().or_else(|| cpe.clone()),
                purl,
                cpe,
                bounds,
                pointer: full.pointer().to_owned(),
            },
        );
        Ok(())
    }

    /// Defines the relationship's product, whose component is known; returns its ID.
    fn relationship(&mut self, relationship: &Place<'_>) -> Result<String, ReadError> {
        let component = relationship.required_str("product_reference")?;
        let component = self.products.get(component).cloned().ok_or_else(|| {
            relationship.error(format!("`{component}` is not a product of the tree"))
        })?;
        let full = relationship.object("full_product_name")?.ok_or_else(|| {
            relationship.error_at("full_product_name", "`full_product_name` is missing")
        })?;
        let id = full.required_str("product_id")?.to_owned();
        self.products.insert(
            id.clone(),
            Product {
                pointer: full.pointer().to_owned(),
                ..component
            },
        );
        Ok(id)
    }

    /// The product IDs a list of product and group IDs stands for.
    fn expand(&self, place: &Place<'_>) -> Result<Vec<String>, ReadError> {
        let mut ids: Vec<String> = place
            .strings("product_ids")?
            .into_iter()
            .map(|(_, s)| s.to_owned())
            .collect();
        for (item, group) in place.strings("group_ids")? {
            let members = self.groups.get(group).ok_or_else(|| {
                item.error(format!("product group `{group}` is not defined"))
                    .with_hint("define it in product_tree/product_groups")
            })?;
            ids.extend(members.iter().cloned());
        }
        Ok(ids)
    }
}

struct Context<'a> {
    name: &'a str,
    tracking_id: &'a str,
    publisher: &'a str,
    published: Option<jiff::Timestamp>,
    modified: Option<jiff::Timestamp>,
    tree: &'a Tree,
}

impl Context<'_> {
    /// One `vulnerabilities[]` entry: its statements are appended, its advisory returned.
    fn vulnerability(
        &self,
        vulnerability: &Place<'_>,
        statements: &mut Vec<VexStatement>,
        unmatchable: &mut BTreeSet<String>,
        problems: &mut Vec<ReadError>,
    ) -> Result<Advisory, ReadError> {
        let mut ids = Vec::new();
        if let Some(cve) = vulnerability.str("cve")? {
            ids.push(cve.to_owned());
        }
        for id in vulnerability.items("ids")? {
            let text = id.required_str("text")?;
            // Red Hat lists its Bugzilla number or URL here: a tracker entry, not a name a
            // VEX statement or another feed would use for the vulnerability.
            if looks_like_vulnerability_id(text) {
                ids.push(text.to_owned());
            }
        }
        let Some(id) = ids.first().cloned() else {
            return Err(vulnerability
                .error("the vulnerability has neither `cve` nor `ids`")
                .with_hint("name the vulnerability so statements about it can be matched"));
        };

        let mut justifications: BTreeMap<String, Justification> = BTreeMap::new();
        for flag in vulnerability.items("flags")? {
            let label = flag.required_str("label")?;
            let justification = parse_justification(label).ok_or_else(|| {
                flag.error(format!("`{label}` is not a CSAF flag label"))
                    .with_hint("labels are the five VEX justifications, e.g. component_not_present")
            })?;
            for product in self.tree.expand(&flag)? {
                justifications.insert(product, justification);
            }
        }
        let mut impacts: BTreeMap<String, String> = BTreeMap::new();
        for threat in vulnerability.items("threats")? {
            if threat.str("category")? != Some("impact") {
                continue;
            }
            let details = threat.required_str("details")?;
            for product in self.tree.expand(&threat)? {
                impacts.insert(product, details.to_owned());
            }
        }
        let mut actions: BTreeMap<String, String> = BTreeMap::new();
        for remediation in vulnerability.items("remediations")? {
            let details = remediation.required_str("details")?;
            for product in self.tree.expand(&remediation)? {
                actions.entry(product).or_insert_with(|| details.to_owned());
            }
        }

        let timestamp = vulnerability
            .timestamp("release_date")?
            .or(self.modified)
            .or(self.published);
        let mut affected: Vec<&Product> = Vec::new();
        let mut unaffected: Vec<&Product> = Vec::new();
        if let Some(status) = vulnerability.object("product_status")? {
            for (list, vex_status) in STATUSES {
                for (item, product_id) in status.strings(list)? {
                    let Some(product) = self.tree.products.get(product_id) else {
                        // Only this product is lost: the entry's other statements stand.
                        problems.push(
                            item.error(format!("product `{product_id}` is not defined"))
                                .with_hint("every product_id must be defined in product_tree"),
                        );
                        continue;
                    };
                    let Some(product_ref) = &product.id else {
                        unmatchable.insert(product_id.to_owned());
                        continue;
                    };
                    let Some(vex_status) = vex_status else {
                        continue;
                    };
                    match vex_status {
                        VexStatus::Affected => affected.push(product),
                        VexStatus::Fixed | VexStatus::NotAffected => unaffected.push(product),
                        VexStatus::UnderInvestigation => {}
                    }
                    let detail = match vex_status {
                        VexStatus::Affected => actions.get(product_id),
                        _ => impacts.get(product_id),
                    };
                    statements.push(VexStatement {
                        vulnerability: id.clone(),
                        product: ProductRef {
                            id: product_ref.clone(),
                            bounds: product.bounds.clone(),
                        },
                        status: vex_status,
                        justification: (vex_status == VexStatus::NotAffected)
                            .then(|| justifications.get(product_id).copied())
                            .flatten(),
                        detail: detail.cloned(),
                        origin: Origin {
                            document: self.name.to_owned(),
                            document_id: Some(self.tracking_id.to_owned()),
                            pointer: item.pointer().to_owned(),
                            author: Some(self.publisher.to_owned()),
                            timestamp,
                        },
                    });
                }
            }
        }

        Ok(Advisory {
            id,
            source: Source::Csaf,
            aliases: ids.into_iter().skip(1).collect(),
            publisher: Some(self.publisher.to_owned()),
            published: vulnerability.timestamp("release_date")?.or(self.published),
            modified: self.modified,
            withdrawn: false,
            summary: summary(vulnerability)?.into(),
            severities: scores(vulnerability)?,
            weaknesses: match vulnerability.object("cwe")? {
                Some(cwe) => vec![cwe.required_str("id")?.to_owned()],
                None => Vec::new(),
            },
            references: vulnerability
                .items("references")?
                .iter()
                .map(|r| r.required_str("url").map(str::to_owned))
                .collect::<Result<_, _>>()?,
            applies_to: applies_to(&affected, &unaffected),
        })
    }
}

/// The vulnerability's title, or else its first description or summary note.
fn summary(vulnerability: &Place<'_>) -> Result<String, ReadError> {
    if let Some(title) = vulnerability.str("title")? {
        return Ok(title.to_owned());
    }
    for note in vulnerability.items("notes")? {
        if matches!(
            note.str("category")?,
            Some("description" | "summary" | "general")
        ) {
            return Ok(note.required_str("text")?.to_owned());
        }
    }
    Ok(String::new())
}

/// CVSS v3.x and v2 scores, each once (a document scores per product, usually alike).
fn scores(vulnerability: &Place<'_>) -> Result<Vec<Cvss>, ReadError> {
    let mut out: Vec<Cvss> = Vec::new();
    for score in vulnerability.items("scores")? {
        for key in ["cvss_v3", "cvss_v2"] {
            let Some(cvss) = score.object(key)? else {
                continue;
            };
            let version = match cvss.required_str("version")? {
                "3.1" => CvssVersion::V31,
                "3.0" => CvssVersion::V30,
                "2.0" => CvssVersion::V2,
                other => {
                    return Err(cvss
                        .error(format!("CVSS version `{other}` is not one CSAF 2.0 knows"))
                        .with_hint("CSAF 2.0 carries CVSS 2.0, 3.0 and 3.1"));
                }
            };
            let vector = cvss.required_str("vectorString")?.to_owned();
            let base_score = cvss
                .get("baseScore")
                .and_then(|p| p.value().as_f64())
                .ok_or_else(|| cvss.error("`baseScore` is missing or not a number"))?;
            let rating = match cvss.str("baseSeverity")? {
                Some(word) => match word.to_ascii_lowercase().as_str() {
                    "none" => Rating::None,
                    "low" => Rating::Low,
                    "medium" => Rating::Medium,
                    "high" => Rating::High,
                    "critical" => Rating::Critical,
                    _ => Rating::of_score(base_score),
                },
                None => Rating::of_score(base_score),
            };
            if !out
                .iter()
                .any(|c| c.version == version && *c.vector == *vector)
            {
                out.push(Cvss {
                    version,
                    vector: vector.into(),
                    base_score,
                    rating,
                    scored_by: None,
                });
            }
        }
    }
    Ok(out)
}

/// What the advisory applies to: each affected package (by purl) with the versions the
/// document lists, the fixed and not-affected versions of the same package as unaffected;
/// each affected product named only by CPE as a one-CPE configuration.
fn applies_to(affected: &[&Product], unaffected: &[&Product]) -> Vec<Applicability> {
    let mut packages: BTreeMap<String, PackageRule> = BTreeMap::new();
    let mut cpes: Vec<String> = Vec::new();
    for product in affected {
        if let Some(purl) = product.purl.as_deref().and_then(Purl::parse) {
            let rule = packages
                .entry(purl.package())
                .or_insert_with(|| PackageRule {
                    package: Package {
                        ecosystem: purl.kind.clone(),
                        name: purl.name.clone(),
                        purl: Some(without_version(&purl)),
                    },
                    ranges: Vec::new(),
                    versions: Vec::new(),
                    unaffected: Vec::new(),
                });
            match &purl.version {
                Some(version) if !rule.versions.contains(version) => {
                    rule.versions.push(version.clone());
                }
                Some(_) => {}
                // A purl without a version: every version of the package.
                None if rule.ranges.is_empty() => rule.ranges.push(EventRange {
                    kind: RangeKind::Ecosystem,
                    events: vec![Event::Introduced("0".to_owned())],
                }),
                None => {}
            }
        } else if let Some(cpe) = &product.cpe
            && !cpes.contains(cpe)
        {
            cpes.push(cpe.clone());
        }
    }
    for product in unaffected {
        let Some(purl) = product.purl.as_deref().and_then(Purl::parse) else {
            continue;
        };
        if let (Some(rule), Some(version)) = (packages.get_mut(&purl.package()), purl.version)
            && !rule.unaffected.contains(&version)
        {
            rule.unaffected.push(version);
        }
    }
    packages
        .into_values()
        .map(Applicability::Package)
        .chain(cpes.into_iter().map(|criteria| {
            Applicability::Configuration(Configuration {
                operator: Operator::Or,
                negate: false,
                nodes: vec![Node {
                    operator: Operator::Or,
                    negate: false,
                    matches: vec![CpeMatch {
                        criteria,
                        vulnerable: true,
                        bounds: Bounds::default(),
                    }],
                }],
            })
        }))
        .collect()
}

fn without_version(purl: &Purl) -> String {
    format!("pkg:{}", purl.package())
}

/// `PREFIX-REST` with an upper-case prefix (`CVE-2024-1234`, `GHSA-…`, `RHSA-2024:1234`),
/// as vulnerability and advisory IDs are written.
fn looks_like_vulnerability_id(text: &str) -> bool {
    text.split_once('-').is_some_and(|(prefix, rest)| {
        prefix.starts_with(|c: char| c.is_ascii_uppercase())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && !rest.is_empty()
            && !rest.contains(char::is_whitespace)
    })
}
