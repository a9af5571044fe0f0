//! The product page behind the QR code, and what it offers for download: the receipt, the
//! signer's key and the label.
//!
//! "Now" is the standing of the current attestation ([`status::current`]) of the product's
//! newest version. Updates and passwords come from the product declaration the latest
//! attestation was submitted with; it is read leniently (only the fields shown, unknown ones
//! ignored) so a declaration from a newer iotmark still shows what it can.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::quoting::{file_stem, shell_word, url_component};
use super::{Chrome, PageError, protect, words};
use crate::pagecache::View;
use iotmark_declare::{Credentials, Declaration, DefaultPassword, UpdateTransport, Updates};

use crate::label::{self, LabelContent};

/// History entries shown on the page.
const MAX_EVENTS: usize = 50;
use crate::service::Registry;
use crate::status::{self, Standing};
use crate::store::{AttestationRecord, EntryKind, Product, ProductVersion};
use iotmark_attest::statement::{Route, StatusKind, Trigger};

/// Everything a product's page and downloads are made from, read once.
pub(super) struct Loaded {
    pub(super) product: Product,
    /// Newest first.
    pub(super) versions: Vec<ProductVersion>,
    /// In log order.
    pub(super) history: Vec<AttestationRecord>,
    /// Newest first.
    pub(super) announcements: Vec<crate::store::Announcement>,
    /// Oldest first.
    pub(super) appeals: Vec<crate::store::Appeal>,
    /// Of every scheme.
    pub(super) requirement_changes: Vec<crate::store::RequirementChange>,
    pub(super) now: jiff::Timestamp,
}

impl Loaded {
    pub(super) async fn read(registry: &Registry, id: &str) -> Result<Option<Loaded>, PageError> {
        // No product has an ID of another form; such a path is not looked up at all.
        if iotmark_declare::check_product_id(id).is_err() {
            return Ok(None);
        }
        let Some(product) = registry.store.product(id).await? else {
            return Ok(None);
        };
        Ok(Some(Loaded {
            versions: registry.store.versions(id).await?,
            history: registry.store.history(id).await?,
            announcements: registry.store.announcements(id).await?,
            appeals: registry.store.appeals_of(id).await?,
            requirement_changes: registry.store.requirement_changes().await?,
            product,
            now: jiff::Timestamp::now(),
        }))
    }

    async fn read_or_404(registry: &Registry, id: &str) -> Result<Loaded, PageError> {
        Self::read(registry, id)
            .await?
            .ok_or_else(|| PageError::NoProduct { id: id.to_owned() })
    }

    /// The attestation that speaks for the newest version now.
    pub(super) fn current(&self) -> Option<(&AttestationRecord, Standing)> {
        let newest = self.versions.first()?;
        status::current(&newest.version, &self.history, self.now)
    }

    fn current_or_404(&self) -> Result<(&AttestationRecord, Standing), PageError> {
        self.current().ok_or_else(|| PageError::NotFound {
            heading: "This product has no declaration yet".to_owned(),
            message: format!(
                "“{}” is registered, but none of its versions has a declaration of conformity.",
                self.product.name
            ),
        })
    }
}

/// A scheme's title, or its ID when the registry does not know it.
pub(super) fn scheme_title(registry: &Registry, id: &str) -> String {
    registry
        .schemes
        .iter()
        .find(|s| s.id == id)
        .map_or_else(|| id.to_owned(), |s| s.title.clone())
}

/// A short word for a standing, and the tone it is shown in (`good`, `warn`, `bad`).
pub(super) fn badge(standing: Standing) -> (&'static str, &'static str) {
    match standing {
        Standing::Valid => ("Holds", "good"),
        Standing::NotYetValid => ("Not valid yet", "warn"),
        Standing::Expired => ("Expired", "warn"),
        Standing::Suspended => ("Suspended", "bad"),
        Standing::Revoked => ("Revoked", "bad"),
        Standing::EndOfSupport => ("Support ended", "bad"),
        Standing::Vulnerable => ("Vulnerable", "bad"),
        Standing::Withdrawn => ("Withdrawn", "bad"),
    }
}

/// The assessment's finding counts, read from the attestation's signed statement (`None` for
/// a status change). The envelope is the registry's own, accepted and logged: one that is
/// missing or no longer parses is the registry's fault, never a page that leaves it out.
pub(super) fn finding_counts(
    registry: &Registry,
    envelope_sha256: &str,
) -> Result<Option<iotmark_attest::statement::FindingCounts>, PageError> {
    let fault = |what: String| {
        tracing::error!(envelope = envelope_sha256, "{what}");
        PageError::Internal
    };
    let bytes = registry
        .envelope(envelope_sha256)
        .map_err(|e| fault(format!("cannot read a logged envelope: {e}")))?
        .ok_or_else(|| fault("a recorded envelope is missing from the log".to_owned()))?;
    let envelope = iotmark_attest::dsse::Envelope::parse(&bytes)
        .map_err(|e| fault(format!("a logged envelope does not parse: {e}")))?;
    let statement = iotmark_attest::statement::Statement::parse(&envelope.payload)
        .map_err(|e| fault(format!("a logged statement does not parse: {e}")))?;
    Ok(match statement.predicate {
        iotmark_attest::statement::Predicate::Conformity(p) => Some(p.assessment.summary),
        iotmark_attest::statement::Predicate::Status(_) => None,
    })
}

/// One sentence about the product, made from what was declared.
#[derive(Debug)]
struct Fact {
    text: String,
}

fn facts(lines: impl IntoIterator<Item = String>) -> Vec<Fact> {
    lines.into_iter().map(|text| Fact { text }).collect()
}

fn updates_facts(u: &Updates) -> (Vec<Fact>, Option<String>, Option<String>) {
    if !u.updatable {
        return (
            facts(["This product cannot receive software updates.".to_owned()]),
            None,
            u.after_support.clone(),
        );
    }
    let mut lines = vec![if u.automatic {
        "Updates install automatically.".to_owned()
    } else {
        "Updates do not install by themselves: the owner has to install them.".to_owned()
    }];
    if let Some(d) = &u.delivery {
        lines.push(
            match d.transport {
                UpdateTransport::Https => {
                    "They are downloaded over an encrypted internet connection (HTTPS)."
                }
                UpdateTransport::Http => {
                    "They are downloaded over an unencrypted internet connection (HTTP)."
                }
                UpdateTransport::App => "They arrive through the companion app.",
                UpdateTransport::Local => {
                    "They are installed from a file, on the device or from a computer."
                }
            }
            .to_owned(),
        );
        lines.push(if d.signed {
            "Each update is signed by the manufacturer, and the device checks the signature before installing it."
                .to_owned()
        } else {
            "Updates are not signed: the device cannot tell a genuine update from a forged one."
                .to_owned()
        });
    }
    lines.push(if u.notification {
        "You are told when an update is available or was installed.".to_owned()
    } else {
        "You are not told when an update arrives.".to_owned()
    });
    (
        facts(lines),
        u.owner_action.clone(),
        u.after_support.clone(),
    )
}

fn password_facts(c: &Credentials) -> (Vec<Fact>, Option<String>) {
    if !c.uses_passwords {
        return (
            facts(["This product does not use passwords.".to_owned()]),
            None,
        );
    }
    let mut lines = vec![
        match c.default_password {
            DefaultPassword::None => "No password is set at the factory.",
            DefaultPassword::UniquePerDevice => {
                "Each unit comes with its own password, different from every other unit's."
            }
            DefaultPassword::SetAtSetup => {
                "There is no default password: you choose one when you first set the product up."
            }
            DefaultPassword::Shared => {
                "Every unit ships with the same default password. Change it before you connect the product to your network."
            }
        }
        .to_owned(),
    ];
    if c.brute_force_protection {
        lines.push("Repeated wrong passwords are slowed down or blocked.".to_owned());
    }
    (facts(lines), c.change_procedure.clone())
}

// The page. --------------------------------------------------------------------------------

#[derive(Debug)]
struct Verdict {
    tone: &'static str,
    badge: &'static str,
    /// "This product's security declaration holds".
    headline: String,
    /// Which version, which scheme, who.
    basis: String,
    /// What changed it, when and why (suspension, revocation…), or until when it is valid.
    detail: Option<String>,
    reason: Option<String>,
    /// "What was checked: 31 requirements met, …".
    checked: Option<String>,
}

#[derive(Debug)]
struct SupportView {
    tone: &'static str,
    /// "Security updates until 31 December 2029" or "Security updates ended on …".
    headline: String,
    /// "3 years 1 month left".
    left: Option<String>,
}

/// One line of the registry record: what it is, what it says, and a link when it is one.
#[derive(Debug)]
struct RecordRow {
    term: &'static str,
    text: String,
    href: Option<String>,
}

/// An `http(s)` URL a page may link to, or `None`.
fn link(text: &str) -> Option<String> {
    (text.starts_with("https://") || text.starts_with("http://")).then(|| text.to_owned())
}

/// The registry record in words, one row per item of 47 CFR 8.222, each saying plainly when
/// it was not given.
fn record_rows(
    registry: &Registry,
    r: &crate::record::RegistryRecord,
    today: jiff::civil::Date,
) -> Vec<RecordRow> {
    let row = |term, text: String| RecordRow {
        term,
        text,
        href: None,
    };
    let mut rows = vec![
        row("Product", format!("{} {}", r.product_name, r.model)),
        RecordRow {
            term: "Manufacturer",
            text: r.manufacturer.clone(),
            href: r.manufacturer_url.as_deref().and_then(link),
        },
    ];
    rows.push(row(
        "Authorised",
        match (r.authorised, r.route.as_deref(), &r.version) {
            (Some(at), Some("certification"), Some(v)) => {
                format!("Version {v} certified on {}", words::day(at))
            }
            (Some(at), _, Some(v)) => format!(
                "Version {v} declared by the manufacturer on {}",
                words::day(at)
            ),
            _ => "Not authorised: no declaration of conformity is registered".to_owned(),
        },
    ));
    if let Some(standing) = r.status {
        rows.push(row("Current status", badge(standing).0.to_owned()));
    }
    if let Some(scheme) = &r.scheme {
        rows.push(row("Scheme", scheme_title(registry, scheme)));
    }
    rows.push(match &r.label_administrator {
        Some(a) => RecordRow {
            term: "Label administrator",
            text: format!("{} ({})", a.name, a.contact),
            href: link(&a.contact).or_else(|| {
                a.contact
                    .contains('@')
                    .then(|| format!("mailto:{}", a.contact))
            }),
        },
        None => row(
            "Label administrator",
            "Not named by this registry's operator".to_owned(),
        ),
    });
    rows.push(row(
        "Test lab",
        match (&r.test_lab, r.route.as_deref()) {
            (Some(lab), _) => lab.clone(),
            (None, Some("sdoc")) => "None: the manufacturer declared conformity itself".to_owned(),
            _ => "None".to_owned(),
        },
    ));
    rows.push(row(
        "Default password",
        match &r.password {
            None => "Not stated: the manufacturer has published no declaration".to_owned(),
            Some(p) if !p.uses_passwords => "The product uses no passwords".to_owned(),
            Some(p) => {
                let default = match p.default_password {
                    DefaultPassword::None => "None is set at the factory",
                    DefaultPassword::UniquePerDevice => "Each unit has its own",
                    DefaultPassword::SetAtSetup => "None: the owner sets one at first setup",
                    DefaultPassword::Shared => "Every unit ships with the same one",
                };
                match &p.change_procedure {
                    Some(how) => format!("{default}. To change it: {how}"),
                    None => format!(
                        "{default}. The manufacturer does not say how to change it, so take it \
                         that it cannot be changed"
                    ),
                }
            }
        },
    ));
    rows.push(match &r.configuration_guidance {
        Some(g) => RecordRow {
            term: "Secure configuration",
            text: g.clone(),
            href: link(g),
        },
        None => row(
            "Secure configuration",
            "The manufacturer gives no guidance".to_owned(),
        ),
    });
    rows.push(row(
        "Updates",
        match (r.automatic_updates, &r.update_instructions) {
            (Some(true), _) => "Install automatically".to_owned(),
            (Some(false), Some(how)) => format!("Not automatic. To get them: {how}"),
            (Some(false), None) => {
                "Not automatic, and the manufacturer does not say how to get them".to_owned()
            }
            (None, _) if r.password.is_some() => "The product takes no updates".to_owned(),
            (None, _) => "Not stated".to_owned(),
        },
    ));
    rows.push(row(
        "Support ends",
        match r.support_end {
            Some(end) if end < today => format!("Ended on {}", words::date(end)),
            Some(end) => words::date(end),
            None => "Not declared: take it that the product is not supported".to_owned(),
        },
    ));
    rows.push(row(
        "Software bill of materials",
        match (r.sbom.declared, r.sbom.held_by_registry, &r.sbom.sha256) {
            (_, true, Some(sha)) => format!(
                "Kept; the registry holds the one this declaration is bound to (sha256:{sha}) \
                 and watches it for vulnerabilities"
            ),
            (true, _, _) => "Kept by the manufacturer".to_owned(),
            (false, _, _) => "The manufacturer does not say it keeps one".to_owned(),
        },
    ));
    if let Some(until) = r.label_valid_until {
        let day = until.to_zoned(jiff::tz::TimeZone::UTC).date();
        rows.push(row(
            "Label valid until",
            match words::time_left(today, day) {
                Some(left) => format!("{} ({left})", words::date(day)),
                None => format!("Expired on {}", words::date(day)),
            },
        ));
    }
    rows
}

/// A security notice at the top of the page: a version not assessed, or vulnerabilities open
/// in an attested one.
#[derive(Debug)]
struct Notice {
    tone: &'static str,
    headline: String,
    detail: Option<String>,
    /// A document behind it (href, words).
    link: Option<(String, String)>,
}

#[derive(Debug)]
struct VersionRow {
    version: String,
    badge: &'static str,
    tone: &'static str,
    first: String,
    images: Vec<(String, String)>,
    /// The attestation that speaks for it: its log index and envelope SHA-256.
    attestation: Option<(u64, String)>,
}

#[derive(Debug)]
struct Event {
    when: String,
    iso: String,
    who: String,
    what: String,
    reason: Option<String>,
    tone: &'static str,
    envelope_url: String,
    log_index: u64,
}

#[derive(Debug)]
struct Report {
    received: String,
    iso: String,
    version: Option<String>,
    summary: String,
    /// The manufacturer's answer in plain words, with its date.
    answer: String,
    answered: Option<(String, String)>,
    note: Option<String>,
}

/// The manufacturer's answer to a report, as a consumer reads it.
fn answer_words(triage: Option<&crate::store::Triage>) -> String {
    use crate::store::ReportStatus;
    match triage {
        None => "Not answered yet by the manufacturer".to_owned(),
        Some(t) => match (t.status, &t.fixed_in) {
            (ReportStatus::UnderInvestigation, _) => "The manufacturer is investigating".to_owned(),
            (ReportStatus::Affected, _) => {
                "Confirmed: this product is affected, and no fix is out yet".to_owned()
            }
            (ReportStatus::NotAffected, _) => {
                "The manufacturer says this product is not affected".to_owned()
            }
            (ReportStatus::Fixed, Some(v)) => format!("Fixed in version {v}: update to it"),
            (ReportStatus::Fixed, None) => "Fixed".to_owned(),
        },
    }
}

#[derive(Debug)]
struct Disclosure {
    contact: String,
    policy_url: Option<String>,
    response_days: Option<u16>,
}

#[derive(Debug)]
struct LabelLinks {
    svg: String,
    png: String,
    alt: String,
}

#[derive(Debug)]
struct Verify {
    origin: String,
    verifier_key: String,
    receipt_url: String,
    envelope_url: String,
    signer_url: String,
    commands: String,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    chrome: Chrome,
    id: String,
    name: String,
    model: String,
    manufacturer_name: String,
    manufacturer_url: String,
    description: Option<String>,
    verdict: Verdict,
    notices: Vec<Notice>,
    support: SupportView,
    has_declaration: bool,
    updates: Vec<Fact>,
    owner_action: Option<String>,
    after_support: Option<String>,
    passwords: Vec<Fact>,
    change_procedure: Option<String>,
    disclosure: Option<Disclosure>,
    reports: Vec<Report>,
    report_api: String,
    record: Vec<RecordRow>,
    versions: Vec<VersionRow>,
    events: Vec<Event>,
    /// Entries older than those shown.
    earlier_events: usize,
    label: Option<LabelLinks>,
    verify: Option<Verify>,
}

pub(super) async fn page(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    if let Some(body) = registry.pages.get(View::Page, &id) {
        return Ok(super::html_bytes(StatusCode::OK, body));
    }
    let started = std::time::Instant::now();
    let (body, next_change) = render_page(&registry, &id).await?;
    let body = axum::body::Bytes::from(body);
    let keep = crate::pagecache::keep_until(next_change);
    registry
        .pages
        .put(View::Page, &id, started, keep, body.clone());
    Ok(super::html_bytes(StatusCode::OK, body))
}

async fn render_page(
    registry: &Arc<Registry>,
    id: &str,
) -> Result<(String, Option<jiff::Timestamp>), PageError> {
    let loaded = Loaded::read_or_404(registry, id).await?;
    let next = crate::status::next_change(&loaded.history, loaded.now);
    let names: HashMap<String, String> = registry
        .store
        .organisations()
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let name_of = |org: &str| names.get(org).cloned().unwrap_or_else(|| org.to_owned());
    let reports = registry.store.vulnerability_reports(id).await?;
    let product = &loaded.product;
    // Stored only after it checked (publishing parses it), so one that does not read now is
    // the registry's fault, shown as such rather than as a page without it.
    let declaration: Option<Declaration> = match product.declaration_json.as_deref() {
        None => None,
        Some(json) => Some(serde_json::from_str(json).map_err(|e| {
            tracing::error!(product = %product.id, error = %e, "stored declaration does not parse");
            PageError::Internal
        })?),
    };
    let current = loaded.current();
    let today = loaded.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let path = format!("/p/{}", url_component(&product.id));

    let verdict = match current {
        Some((record, standing)) => verdict(registry, &loaded, record, standing, &name_of)?,
        None => Verdict {
            tone: "bad",
            badge: "No declaration",
            headline: "This product has no security declaration".to_owned(),
            basis: "None of its versions has a declaration of conformity in this registry."
                .to_owned(),
            detail: None,
            reason: None,
            checked: None,
        },
    };

    // The attested end first; a declaration published without an attestation has checked
    // its date when it was published.
    let support_end = current.and_then(|(r, _)| r.support_end).or_else(|| {
        declaration
            .as_ref()
            .and_then(|d| d.updates.support_end.as_deref())
            .and_then(words::parse_date)
    });
    let support = match support_end {
        Some(end) => match words::time_left(today, end) {
            Some(left) => SupportView {
                tone: "good",
                headline: format!("Security updates until {}", words::date(end)),
                left: Some(left),
            },
            None => SupportView {
                tone: "bad",
                headline: format!("Security updates ended on {}", words::date(end)),
                left: None,
            },
        },
        None => SupportView {
            tone: "warn",
            headline: "The manufacturer has not said how long this product gets security updates"
                .to_owned(),
            left: None,
        },
    };

    let (updates, owner_action, after_support) = declaration
        .as_ref()
        .map_or((Vec::new(), None, None), |d| updates_facts(&d.updates));
    let (passwords, change_procedure) = declaration
        .as_ref()
        .map_or((Vec::new(), None), |d| password_facts(&d.credentials));
    let disclosure = declaration
        .as_ref()
        .map(|d| &d.vulnerability_disclosure)
        .filter(|v| !v.contact.is_empty())
        .map(|v| Disclosure {
            contact: v.contact.clone(),
            policy_url: v.policy_url.clone(),
            response_days: v.response_days,
        });

    let record = record_rows(
        registry,
        &registry
            .registry_record(product, declaration.as_ref(), current)
            .await?,
        today,
    );
    let notices = notices(registry, &loaded);
    let unassessed = loaded
        .announcements
        .iter()
        .filter(|a| !status::assessed(a, &loaded.versions))
        .filter(|a| !loaded.versions.iter().any(|v| v.version == a.version))
        .map(|a| VersionRow {
            version: a.version.clone(),
            badge: "Not assessed",
            tone: "warn",
            first: String::new(),
            images: vec![("OTA image".to_owned(), a.image_sha256.clone())],
            attestation: None,
        });
    let versions = unassessed
        .chain(loaded.versions.iter().map(|v| {
            let current = status::current(&v.version, &loaded.history, loaded.now);
            let (badge, tone) = current.map_or(("No declaration", "bad"), |(_, s)| badge(s));
            VersionRow {
                attestation: current.map(|(r, _)| (r.log_index, r.envelope_sha256.clone())),
                version: v.version.clone(),
                badge,
                tone,
                first: words::day(v.first_attested),
                images: v
                    .images
                    .iter()
                    .map(|i| (i.name.clone(), i.sha256.clone()))
                    .collect(),
            }
        }))
        .collect();

    // The newest entries only: a product attested for years has a long history, and the page
    // behind a QR code must stay small; the API and the log explorer have all of it.
    let events = loaded
        .history
        .iter()
        .rev()
        .take(MAX_EVENTS)
        .map(|r| event(registry, &loaded, r, &name_of))
        .collect();
    let earlier_events = loaded.history.len().saturating_sub(MAX_EVENTS);

    let label = current.map(|_| LabelLinks {
        svg: format!("{path}/label.svg"),
        png: format!("{path}/label.png"),
        alt: label_alt(registry, &loaded),
    });

    let verify = current.map(|(record, _)| {
        let stem = file_stem(&product.id);
        let base = &registry.config.public_url;
        let envelope_url = format!("/api/v1/attestations/{}/envelope", record.envelope_sha256);
        let (env, proof, key) = (
            format!("{stem}.dsse.json"),
            format!("{stem}.tlog-proof"),
            format!("{stem}.signer.pem"),
        );
        let commands = [
            format!(
                "curl -o {} {}",
                shell_word(&env),
                shell_word(&format!("{base}{envelope_url}"))
            ),
            format!(
                "curl -o {} {}",
                shell_word(&proof),
                shell_word(&format!("{base}{path}/receipt"))
            ),
            format!(
                "curl -o {} {}",
                shell_word(&key),
                shell_word(&format!("{base}{path}/signer.pem"))
            ),
            format!(
                "iotmark log verify {} --log-key {} --envelope {}",
                shell_word(&proof),
                shell_word(&registry.verifier_key),
                shell_word(&env)
            ),
            format!(
                "iotmark verify {} --key {}",
                shell_word(&env),
                shell_word(&key)
            ),
        ]
        .join("\n");
        Verify {
            origin: registry.log_origin().to_owned(),
            verifier_key: registry.verifier_key.clone(),
            receipt_url: format!("{path}/receipt"),
            envelope_url,
            signer_url: format!("{path}/signer.pem"),
            commands,
        }
    });

    let page = ProductPage {
        chrome: Chrome::new(format!("{} {}", product.name, product.model), ""),
        id: product.id.clone(),
        name: product.name.clone(),
        model: product.model.clone(),
        manufacturer_name: product.manufacturer_name.clone(),
        manufacturer_url: format!("/m/{}", url_component(&product.manufacturer)),
        description: declaration
            .as_ref()
            .and_then(|d| d.product.description.clone()),
        verdict,
        notices,
        support,
        has_declaration: declaration.is_some(),
        updates,
        owner_action,
        after_support,
        passwords,
        change_procedure,
        disclosure,
        reports: reports
            .into_iter()
            .rev()
            .map(|r| Report {
                received: words::day(r.received),
                iso: words::machine(r.received),
                answer: answer_words(r.triage.as_ref()),
                answered: r
                    .triage
                    .as_ref()
                    .map(|t| (words::day(t.at), words::machine(t.at))),
                note: r.triage.and_then(|t| t.note),
                version: r.version,
                summary: r.summary,
            })
            .collect(),
        report_api: format!(
            "{}/api/v1/products/{}/vulnerability-reports",
            registry.config.public_url,
            url_component(&product.id)
        ),
        record,
        versions,
        events,
        earlier_events,
        label,
        verify,
    };
    let body = page.render().map_err(|e| {
        tracing::error!(error = %e, "rendering a product page");
        PageError::Internal
    })?;
    Ok((body, next))
}

/// What a buyer or owner must know now beyond the verdict: versions announced or seen that no
/// attestation covers, and versions with known vulnerabilities open (the monitor's latest
/// record of each).
fn notices(registry: &Registry, loaded: &Loaded) -> Vec<Notice> {
    let mut out = Vec::new();
    for a in &loaded.announcements {
        if status::assessed(a, &loaded.versions) {
            continue;
        }
        let how = match a.source {
            crate::store::AnnouncementSource::Manufacturer => {
                format!(
                    "The manufacturer announced it on {}",
                    words::day(a.announced)
                )
            }
            crate::store::AnnouncementSource::Field => {
                format!("It was seen in the field on {}", words::day(a.announced))
            }
        };
        out.push(Notice {
            tone: "warn",
            headline: format!("Version {} has not been assessed", a.version),
            detail: Some(format!(
                "{how}, but no declaration of conformity covers its firmware image \
                 (sha256:{}). Until one does, nothing on this page speaks for it.",
                a.image_sha256
            )),
            link: None,
        });
    }
    for v in &loaded.versions {
        let Some((record, standing)) = status::current(&v.version, &loaded.history, loaded.now)
        else {
            continue;
        };
        if !matches!(standing, Standing::Vulnerable | Standing::Suspended) {
            continue;
        }
        let Some(found) = loaded.history.iter().rev().find(|c| {
            c.refers_to.as_deref() == Some(record.envelope_sha256.as_str())
                && c.status == Some(StatusKind::Vulnerable)
        }) else {
            continue;
        };
        let deadline = match (standing, found.deadline) {
            (Standing::Suspended, _) => {
                " The deadline to fix passed and the declaration is suspended.".to_owned()
            }
            (_, Some(d)) => format!(" The manufacturer must fix them by {}.", words::day(d)),
            (_, None) => String::new(),
        };
        out.push(Notice {
            tone: "bad",
            headline: format!(
                "Version {} has known vulnerabilities open: {}",
                v.version,
                found.vulnerabilities.join(", ")
            ),
            detail: Some(format!(
                "Found by the registry's monitor on {} in the components the declaration lists.{deadline} Update when a fixed version is out.",
                words::day(found.effective.unwrap_or(found.logged))
            )),
            link: Some((
                format!("/api/v1/attestations/{}/csaf", found.envelope_sha256),
                "Security advisory (CSAF)".to_owned(),
            )),
        });
    }
    for v in &loaded.versions {
        let Some((record, standing)) = status::current(&v.version, &loaded.history, loaded.now)
        else {
            continue;
        };
        if !standing.holds() {
            continue;
        }
        let Some(rules) = crate::renewal::rules(&registry.schemes, record.scheme.as_deref()) else {
            continue;
        };
        let scheme = record.scheme.as_deref().unwrap_or_default();
        if let Some((change, when)) = crate::renewal::lapse(
            rules,
            &loaded.requirement_changes,
            scheme,
            record.issued.unwrap_or(record.logged),
            loaded.now,
        ) {
            out.push(Notice {
                tone: "warn",
                headline: format!(
                    "The label of version {} lapses on {} unless it is renewed",
                    v.version,
                    words::day(when)
                ),
                detail: Some(format!(
                    "The requirements of {} changed on {}: {} The declaration must be updated \
                     against them.",
                    scheme_title(registry, scheme),
                    words::day(change.changed),
                    change.summary
                )),
                link: None,
            });
            continue;
        }
        let Some(until) = record.valid_until else {
            continue;
        };
        let (opens, closes) = rules.window(until);
        if opens <= loaded.now && loaded.now < closes {
            out.push(Notice {
                tone: "warn",
                headline: format!(
                    "The label of version {} expires on {}; its renewal is open until {}",
                    v.version,
                    words::day(until),
                    words::day(closes)
                ),
                detail: None,
                link: None,
            });
        } else if closes <= loaded.now && loaded.now < until {
            out.push(Notice {
                tone: "warn",
                headline: format!(
                    "The label of version {} expires on {}",
                    v.version,
                    words::day(until)
                ),
                detail: Some(format!(
                    "Its renewal could be asked until {}; the manufacturer did not renew it in \
                     time.",
                    words::day(closes)
                )),
                link: None,
            });
        }
    }
    for appeal in loaded.appeals.iter().filter(|a| a.decision.is_none()) {
        let Some(contested) = loaded
            .history
            .iter()
            .find(|r| r.envelope_sha256 == appeal.contests)
        else {
            continue;
        };
        let what = match contested.status {
            Some(StatusKind::Revocation) => "revocation",
            _ => "suspension",
        };
        out.push(Notice {
            tone: "warn",
            headline: format!(
                "The manufacturer appealed the {what} of version {}",
                contested.version
            ),
            detail: Some(format!(
                "Filed on {}; the registry's operator has not decided yet. The decision and its \
                 reasons will appear in the history below.",
                words::day(appeal.filed)
            )),
            link: None,
        });
    }
    out
}

fn verdict(
    registry: &Registry,
    loaded: &Loaded,
    record: &AttestationRecord,
    standing: Standing,
    name_of: &dyn Fn(&str) -> String,
) -> Result<Verdict, PageError> {
    let (badge, tone) = badge(standing);
    let scheme = record
        .scheme
        .as_deref()
        .map(|s| scheme_title(registry, s))
        .unwrap_or_else(|| "an unnamed scheme".to_owned());
    let by = if record.route == Some(Route::Certification) {
        format!("certified by {}", name_of(&record.submitted_by))
    } else {
        format!(
            "declared by the manufacturer, {}",
            loaded.product.manufacturer_name
        )
    };
    let since = record.issued.unwrap_or(record.logged);
    let basis = format!(
        "Version {} meets {scheme}: {by} on {}.",
        record.version,
        words::day(since)
    );
    // The status change that decided the standing: the last effective one of its kind.
    let change = |kind: StatusKind| {
        loaded.history.iter().rev().find(|c| {
            c.kind == EntryKind::Status
                && c.refers_to.as_deref() == Some(record.envelope_sha256.as_str())
                && c.status == Some(kind)
                && c.effective.is_some_and(|t| t <= loaded.now)
        })
    };
    let told = |c: Option<&AttestationRecord>, verb: &str| match c {
        Some(c) => (
            Some(format!(
                "{} {verb} it on {}.",
                name_of(&c.submitted_by),
                words::day(c.effective.unwrap_or(c.logged))
            )),
            c.reason.clone(),
        ),
        None => (None, None),
    };
    let (detail, reason) = match standing {
        Standing::Valid => (
            record
                .valid_until
                .map(|t| format!("The declaration is valid until {}.", words::day(t))),
            None,
        ),
        Standing::NotYetValid => (
            record
                .issued
                .map(|t| format!("It takes effect on {}.", words::day(t))),
            None,
        ),
        Standing::Expired => (
            record.valid_until.map(|t| {
                format!(
                    "It was valid until {} and has not been renewed. Do not rely on it.",
                    words::day(t)
                )
            }),
            None,
        ),
        Standing::Suspended => {
            let (d, r) = told(change(StatusKind::Suspension), "suspended");
            (
                d.map(|d| format!("{d} Until it is reinstated, do not rely on it.")),
                r,
            )
        }
        Standing::Revoked => told(change(StatusKind::Revocation), "revoked"),
        Standing::EndOfSupport => told(
            change(StatusKind::EndOfSupport),
            "ended the security support of",
        ),
        Standing::Vulnerable => {
            let c = change(StatusKind::Vulnerable);
            let (d, r) = told(c, "found a known vulnerability open in");
            let deadline = c
                .and_then(|c| c.deadline)
                .map(|t| format!(" The manufacturer must fix it by {}.", words::day(t)))
                .unwrap_or_default();
            (
                d.map(|d| format!("{d}{deadline} Until it is fixed, do not rely on it.")),
                r,
            )
        }
        Standing::Withdrawn => told(change(StatusKind::Withdrawal), "withdrew"),
    };
    let checked = finding_counts(registry, &record.envelope_sha256)?.map(|c| {
        format!(
            "What was checked: {} met, {} not met, {} not applicable, {} waiting for review.",
            words::plural(i64::from(c.satisfied), "requirement", "requirements"),
            c.not_satisfied,
            c.not_applicable,
            c.needs_review
        )
    });
    Ok(Verdict {
        tone,
        badge,
        headline: format!(
            "This product's security declaration {}",
            standing.describe()
        ),
        basis,
        detail,
        reason,
        checked,
    })
}

fn event(
    registry: &Registry,
    loaded: &Loaded,
    r: &AttestationRecord,
    name_of: &dyn Fn(&str) -> String,
) -> Event {
    let (what, when, tone) = match r.kind {
        EntryKind::Conformity => {
            let scheme = r
                .scheme
                .as_deref()
                .map(|s| scheme_title(registry, s))
                .unwrap_or_default();
            let verb = if r.route == Some(Route::Certification) {
                "Certified"
            } else {
                "Declared"
            };
            let until = r
                .valid_until
                .map(|t| format!(", valid until {}", words::day(t)))
                .unwrap_or_default();
            (
                format!("{verb} version {} conformant to {scheme}{until}", r.version),
                r.issued.unwrap_or(r.logged),
                "good",
            )
        }
        EntryKind::Status => {
            let (verb, tone) = match (r.trigger, r.status) {
                (Some(Trigger::AppealUpheld), _) => ("Upheld an appeal and reinstated", "good"),
                (Some(Trigger::AppealDismissed), Some(StatusKind::Revocation)) => {
                    ("Dismissed an appeal; the revocation stands for", "bad")
                }
                (Some(Trigger::AppealDismissed), _) => {
                    ("Dismissed an appeal; the suspension stands for", "bad")
                }
                (_, status) => match status {
                    Some(StatusKind::Suspension) => ("Suspended", "bad"),
                    Some(StatusKind::Revocation) => ("Revoked", "bad"),
                    Some(StatusKind::EndOfSupport) => ("Ended security support for", "bad"),
                    Some(StatusKind::Reinstatement) => ("Reinstated", "good"),
                    Some(StatusKind::Vulnerable) => ("Found a known vulnerability open in", "bad"),
                    Some(StatusKind::Expiry) => ("Recorded the expiry of", "warn"),
                    Some(StatusKind::Withdrawal) => ("Withdrew", "bad"),
                    None => ("Changed", "warn"),
                },
            };
            let pending = if r.effective.is_some_and(|t| t > loaded.now) {
                " (not in effect yet)"
            } else {
                ""
            };
            (
                format!("{verb} the declaration of version {}{pending}", r.version),
                r.effective.unwrap_or(r.logged),
                tone,
            )
        }
    };
    Event {
        when: words::day(when),
        iso: words::machine(when),
        who: name_of(&r.submitted_by),
        what,
        reason: r.reason.clone(),
        tone,
        envelope_url: format!("/api/v1/attestations/{}/envelope", r.envelope_sha256),
        log_index: r.log_index,
    }
}

// Downloads. -------------------------------------------------------------------------------

fn attachment(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // `file_name` is made by `file_stem`: no quotes, no control characters.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    protect(headers);
    response
}

/// The current attestation's receipt against the current checkpoint (C2SP tlog-proof).
pub(super) async fn receipt(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let loaded = Loaded::read_or_404(&registry, &id).await?;
    let (record, _) = loaded.current_or_404()?;
    let receipt = registry.receipt(record.log_index)?;
    Ok(attachment(
        "text/plain; charset=utf-8",
        &format!("{}.tlog-proof", file_stem(&id)),
        receipt.encode().into_bytes(),
    ))
}

/// The public key that signed the current attestation, as SPKI PEM (`iotmark verify --key`).
pub(super) async fn signer_key(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let loaded = Loaded::read_or_404(&registry, &id).await?;
    let (record, _) = loaded.current_or_404()?;
    let key = registry
        .store
        .signing_key(&record.signer_key_id)
        .await?
        .ok_or(PageError::Internal)?;
    let raw: [u8; 32] = key
        .public_key
        .as_slice()
        .try_into()
        .map_err(|_| PageError::Internal)?;
    let pem = iotmark_attest::keys::PublicKey::from_bytes(&raw)
        .and_then(|k| k.to_spki_pem())
        .map_err(|_| PageError::Internal)?;
    Ok(attachment(
        "application/x-pem-file",
        &format!("{}.signer.pem", file_stem(&id)),
        pem.into_bytes(),
    ))
}

fn label_content(registry: &Registry, loaded: &Loaded) -> Result<LabelContent, PageError> {
    let (record, _) = loaded.current_or_404()?;
    let product = &loaded.product;
    Ok(LabelContent {
        manufacturer: product.manufacturer_name.clone(),
        product_name: product.name.clone(),
        model: product.model.clone(),
        support_end: record.support_end.map(|d| d.to_string()),
        scheme_title: record
            .scheme
            .as_deref()
            .map(|s| scheme_title(registry, s))
            .unwrap_or_default(),
        url: format!(
            "{}/p/{}",
            registry.config.public_url,
            url_component(&product.id)
        ),
    })
}

/// What the label says, for the `alt` of its image on the page.
fn label_alt(registry: &Registry, loaded: &Loaded) -> String {
    match label_content(registry, loaded) {
        Ok(c) => {
            let support = c
                .support_end
                .as_deref()
                .and_then(words::parse_date)
                .map(|d| format!(", security updates until {}", words::date(d)))
                .unwrap_or_default();
            let model = if c.model.is_empty() {
                String::new()
            } else {
                format!(" {}", c.model)
            };
            format!(
                "The iotmark label for {}{model} by {}: assessed against {}{support}, with a QR code linking to {}",
                c.product_name, c.manufacturer, c.scheme_title, c.url
            )
        }
        Err(_) => "The product's iotmark label".to_owned(),
    }
}

fn label_failed(e: label::LabelError) -> PageError {
    PageError::BadRequest {
        message: format!("The label cannot be drawn: {e}."),
    }
}

pub(super) async fn label_svg(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let loaded = Loaded::read_or_404(&registry, &id).await?;
    let svg = label::label_svg(&label_content(&registry, &loaded)?).map_err(label_failed)?;
    let mut response = svg.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("image/svg+xml"),
    );
    // Opened on its own the SVG is a document: it may run nothing and load nothing.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    protect(headers);
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(super) struct PngQuery {
    scale: Option<String>,
}

/// Pixels per label unit by default: 8 is about 1000 dpi printed at the label's natural size.
const DEFAULT_PNG_SCALE: u32 = 8;

pub(super) async fn label_png(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    Query(query): Query<PngQuery>,
) -> Result<Response, PageError> {
    let scale = match query.scale.as_deref() {
        None => DEFAULT_PNG_SCALE,
        Some(s) => s.parse().map_err(|_| PageError::BadRequest {
            message: format!(
                "scale={s:?} is not a whole number; use 1 to {} pixels per label unit",
                label::MAX_SCALE
            ),
        })?,
    };
    let loaded = Loaded::read_or_404(&registry, &id).await?;
    let png = label::label_png(&label_content(&registry, &loaded)?, scale).map_err(label_failed)?;
    let mut response = png.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    protect(headers);
    Ok(response)
}
