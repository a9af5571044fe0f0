//! The registry's database as the registry uses it, told as one story that runs against each
//! backend: SQLite always, PostgreSQL through `TEST_DATABASE_URL` (see `scripts/postgres.sh`).
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use iotmark_attest::keys::{FileSigner, Signer};
use iotmark_attest::statement::{Route, StatusKind};
use iotmark_log::merkle::{hex, sha256};
use iotmark_registry::store::{
    self, Accreditation, ApiToken, AttestationRecord, Backend, ConformitySubmission, EntryKind,
    Image, Indexed, Organisation, ReportStatus, Role, SigningKey, Store, StoreError, Triage,
    VulnerabilityReport,
};
use jiff::Timestamp;

/// A whole second: the store keeps seconds.
fn at(offset: i64) -> Timestamp {
    Timestamp::from_second(1_780_000_000 + offset).unwrap()
}

fn digest(what: &str) -> String {
    hex(&sha256(what.as_bytes()))
}

fn org(id: &str, name: &str, role: Role, offset: i64) -> Organisation {
    Organisation {
        id: id.into(),
        name: name.into(),
        role,
        created: at(offset),
    }
}

fn key(seed: u8, organisation: &str, offset: i64) -> SigningKey {
    let public = FileSigner::from_seed(&[seed; 32]).public_key();
    SigningKey {
        key_id: public.key_id(),
        organisation: organisation.into(),
        public_key: public.to_bytes().to_vec(),
        label: format!("{organisation} release key"),
        added: at(offset),
        retired: None,
    }
}

fn token(id: &str, organisation: &str, role: Role, secret: &str, offset: i64) -> ApiToken {
    ApiToken {
        id: id.into(),
        organisation: organisation.into(),
        role,
        secret_sha256: sha256(secret.as_bytes()).to_vec(),
        label: format!("CI upload for {organisation}"),
        created: at(offset),
        revoked: None,
    }
}

struct Conformity<'a> {
    envelope: &'a str,
    log_index: u64,
    by: &'a str,
    key: &'a SigningKey,
    manufacturer: &'a str,
    manufacturer_name: &'a str,
    product: &'a str,
    name: &'a str,
    model: &'a str,
    version: &'a str,
    route: Route,
    declaration: Option<&'a str>,
}

impl Conformity<'_> {
    fn submission(&self) -> ConformitySubmission {
        let logged = at(1000 + self.log_index as i64);
        ConformitySubmission {
            record: AttestationRecord {
                envelope_sha256: digest(self.envelope),
                statement_sha256: digest(&format!("statement of {}", self.envelope)),
                kind: EntryKind::Conformity,
                log_index: self.log_index,
                logged,
                submitted_by: self.by.into(),
                signer_key_id: self.key.key_id.clone(),
                product_id: self.product.into(),
                version: self.version.into(),
                scheme: Some("us-cyber-trust-mark".into()),
                tier: Some("consumer".into()),
                route: Some(self.route),
                issued: Some(logged),
                valid_until: Some(at(1000 + 365 * 86_400)),
                support_end: Some(jiff::civil::date(2031, 6, 30)),
                refers_to: None,
                status: None,
                reason: None,
                effective: None,
                trigger: None,
                vulnerabilities: Vec::new(),
                deadline: None,
                sbom_sha256: None,
            },
            manufacturer: self.manufacturer.into(),
            manufacturer_name: self.manufacturer_name.into(),
            name: self.name.into(),
            model: self.model.into(),
            images: vec![
                Image {
                    name: format!("{}-{}.bin", self.product, self.version),
                    sha256: digest(&format!("firmware {} {}", self.product, self.version)),
                },
                Image {
                    name: "bootloader.bin".into(),
                    sha256: digest(&format!("bootloader {}", self.product)),
                },
            ],
            declaration_json: self.declaration.map(str::to_owned),
        }
    }
}

fn status(
    envelope: &str,
    log_index: u64,
    by: &str,
    key: &SigningKey,
    refers_to: &str,
    change: StatusKind,
) -> AttestationRecord {
    AttestationRecord {
        envelope_sha256: digest(envelope),
        statement_sha256: digest(&format!("statement of {envelope}")),
        kind: EntryKind::Status,
        log_index,
        logged: at(1000 + log_index as i64),
        submitted_by: by.into(),
        signer_key_id: key.key_id.clone(),
        // Left empty on purpose: the store takes them from the attestation referred to.
        product_id: String::new(),
        version: String::new(),
        scheme: None,
        tier: None,
        route: None,
        issued: None,
        valid_until: None,
        support_end: None,
        refers_to: Some(refers_to.into()),
        status: Some(change),
        reason: Some("telnet enabled in the field build".into()),
        effective: Some(at(1000 + log_index as i64)),
        trigger: None,
        vulnerabilities: Vec::new(),
        deadline: None,
        sbom_sha256: None,
    }
}

fn report(product: &str, version: Option<&str>, summary: &str, offset: i64) -> VulnerabilityReport {
    VulnerabilityReport {
        id: 0,
        product_id: product.into(),
        version: version.map(str::to_owned),
        summary: summary.into(),
        details: format!("{summary}: steps to reproduce attached"),
        contact: Some("researcher@example.org".into()),
        received: at(offset),
        triage: None,
    }
}

#[track_caller]
fn assert_exists(result: Result<impl std::fmt::Debug, StoreError>, what: &str, id: &str) {
    match result {
        Err(StoreError::Exists { what: w, id: i }) if w == what && i == id => {}
        other => panic!("expected Exists {{ {what}, {id} }}, got {other:?}"),
    }
}

#[track_caller]
fn assert_not_found(result: Result<impl std::fmt::Debug, StoreError>, what: &str, id: &str) {
    match result {
        Err(StoreError::NotFound { what: w, id: i }) if w == what && i == id => {}
        other => panic!("expected NotFound {{ {what}, {id} }}, got {other:?}"),
    }
}

#[track_caller]
fn assert_invalid(result: Result<impl std::fmt::Debug, StoreError>, what: &str) {
    match result {
        Err(StoreError::Invalid { what: w, .. }) if w == what => {}
        other => panic!("expected Invalid {{ {what} }}, got {other:?}"),
    }
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|i| id(i).to_owned()).collect()
}

async fn search(store: &Store, query: &str) -> Vec<String> {
    let hits = store.search(query, 50, 0).await.unwrap();
    ids(&hits, |h| &h.id)
}

/// An operator sets the registry up, manufacturers and a lab submit, status changes and
/// reports arrive, and every page's query sees what it should.
async fn story(store: &Store) {
    assert_eq!(store.last_log_index().await.unwrap(), None);

    // The operator creates the organisations.
    let operator = org("registry-op", "Registry Operations", Role::Operator, 0);
    let acme = org("acme", "Acme Devices Ltd", Role::Manufacturer, 1);
    let globex = org("globex", "Globex Ökosysteme GmbH", Role::Manufacturer, 2);
    let lab = org("testlab", "Trusted Test Lab", Role::Lab, 3);
    for o in [&operator, &acme, &globex, &lab] {
        store.create_organisation(o).await.unwrap();
    }
    assert_eq!(
        store.organisation("acme").await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(store.organisation("initech").await.unwrap(), None);
    assert_eq!(
        ids(&store.organisations().await.unwrap(), |o| &o.id),
        ["acme", "globex", "registry-op", "testlab"]
    );
    assert_exists(
        store
            .create_organisation(&org("acme", "Another Acme", Role::Lab, 4))
            .await,
        "organisation",
        "acme",
    );
    assert_eq!(
        store.organisation("acme").await.unwrap(),
        Some(acme.clone())
    );

    // It accredits the lab; granting again keeps the first grant.
    let ctm = Accreditation {
        organisation: "testlab".into(),
        scheme: "us-cyber-trust-mark".into(),
        granted: at(10),
    };
    let cls = Accreditation {
        organisation: "testlab".into(),
        scheme: "sg-cls".into(),
        granted: at(11),
    };
    store.grant_accreditation(&ctm).await.unwrap();
    store.grant_accreditation(&cls).await.unwrap();
    store
        .grant_accreditation(&Accreditation {
            granted: at(12),
            ..ctm.clone()
        })
        .await
        .unwrap();
    assert_eq!(
        store.accreditations("testlab").await.unwrap(),
        [cls.clone(), ctm.clone()]
    );
    // Only a lab is accredited: the registry's rule, decided by `admin::accredit` before it
    // writes (see its test); the store keeps whatever accreditation it is given.
    assert_not_found(
        store
            .grant_accreditation(&Accreditation {
                organisation: "initech".into(),
                ..ctm.clone()
            })
            .await,
        "organisation",
        "initech",
    );
    assert!(store.accreditations("acme").await.unwrap().is_empty());

    // It registers each organisation's signing key; a key belongs to one organisation only.
    let acme_key = key(1, "acme", 20);
    let acme_key_2 = key(2, "acme", 21);
    let globex_key = key(3, "globex", 22);
    let lab_key = key(4, "testlab", 23);
    for k in [&acme_key, &acme_key_2, &globex_key, &lab_key] {
        store.add_signing_key(k).await.unwrap();
    }
    assert_exists(
        store
            .add_signing_key(&SigningKey {
                organisation: "globex".into(),
                ..acme_key.clone()
            })
            .await,
        "signing key",
        &acme_key.key_id,
    );
    assert_not_found(
        store.add_signing_key(&key(5, "initech", 24)).await,
        "organisation",
        "initech",
    );
    assert_eq!(
        store.signing_key(&acme_key.key_id).await.unwrap(),
        Some(acme_key.clone())
    );
    assert_eq!(
        store.signing_keys("acme").await.unwrap(),
        [acme_key.clone(), acme_key_2.clone()]
    );
    assert_eq!(
        store.signing_key(&key(5, "x", 0).key_id).await.unwrap(),
        None
    );

    // API tokens: only the hash of the secret is kept, and a request finds its token by it.
    let acme_ci = token(
        "tok_acme_ci",
        "acme",
        Role::Manufacturer,
        "s3cret-acme-ci",
        30,
    );
    let acme_dash = token(
        "tok_acme_dash",
        "acme",
        Role::Manufacturer,
        "s3cret-acme-dash",
        31,
    );
    let lab_tok = token("tok_lab", "testlab", Role::Lab, "s3cret-lab", 32);
    for t in [&acme_ci, &acme_dash, &lab_tok] {
        store.create_token(t).await.unwrap();
    }
    assert_eq!(
        store
            .token_by_secret(&sha256(b"s3cret-acme-dash"))
            .await
            .unwrap(),
        Some(acme_dash.clone())
    );
    assert_eq!(
        store.token_by_secret(&sha256(b"s3cret-lab")).await.unwrap(),
        Some(lab_tok.clone())
    );
    assert_eq!(
        store.token_by_secret(&sha256(b"guessed")).await.unwrap(),
        None
    );
    // How a request is authenticated: the token and its organisation at once.
    assert_eq!(
        store.token_holder(&sha256(b"s3cret-lab")).await.unwrap(),
        Some((lab_tok.clone(), lab.clone()))
    );
    assert_eq!(store.token_holder(&sha256(b"guessed")).await.unwrap(), None);
    assert_exists(
        store
            .create_token(&token(
                "tok_acme_ci",
                "acme",
                Role::Manufacturer,
                "other",
                33,
            ))
            .await,
        "API token",
        "tok_acme_ci",
    );
    assert_exists(
        store
            .create_token(&token(
                "tok_new",
                "globex",
                Role::Manufacturer,
                "s3cret-lab",
                33,
            ))
            .await,
        "the secret of API token",
        "tok_lab",
    );
    assert_not_found(
        store
            .create_token(&token("tok_x", "initech", Role::Lab, "x", 33))
            .await,
        "organisation",
        "initech",
    );
    assert_eq!(
        store.tokens("acme").await.unwrap(),
        [acme_ci.clone(), acme_dash.clone()]
    );

    // Acme declares conformity of its camera: the product and its version appear.
    let camera_decl =
        r#"{"product":{"id":"acme-cam-200","name":"Indoor Camera"},"updates":"automatic"}"#;
    let camera_v1 = Conformity {
        envelope: "camera 1.0.0 sdoc",
        log_index: 0,
        by: "acme",
        key: &acme_key,
        manufacturer: "acme",
        manufacturer_name: "Acme Devices Ltd",
        product: "acme-cam-200",
        name: "Indoor Camera",
        model: "CAM-200X",
        version: "1.0.0",
        route: Route::Sdoc,
        declaration: Some(camera_decl),
    }
    .submission();
    store.record_conformity(&camera_v1).await.unwrap();
    let product = store.product("acme-cam-200").await.unwrap().unwrap();
    assert_eq!(product.manufacturer, "acme");
    assert_eq!(product.manufacturer_name, "Acme Devices Ltd");
    assert_eq!(product.model, "CAM-200X");
    assert_eq!(product.declaration_json.as_deref(), Some(camera_decl));
    assert_eq!((product.created, product.updated), (at(1000), at(1000)));
    let versions = store.versions("acme-cam-200").await.unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].images, camera_v1.images);
    assert_eq!(versions[0].first_attested, at(1000));
    assert_eq!(
        store
            .attestation(&camera_v1.record.envelope_sha256)
            .await
            .unwrap(),
        Some(camera_v1.record.clone())
    );
    assert_eq!(store.last_log_index().await.unwrap(), Some(0));

    // A firmware update: a second version, and the product shows the newer declaration.
    let camera_decl_2 = r#"{"product":{"id":"acme-cam-200","name":"Indoor Camera 2"},"updates":"automatic, signed"}"#;
    let camera_v2 = Conformity {
        envelope: "camera 1.1.0 sdoc",
        log_index: 1,
        by: "acme",
        key: &acme_key_2,
        manufacturer: "acme",
        manufacturer_name: "Acme Devices Ltd",
        product: "acme-cam-200",
        name: "Indoor Camera 2",
        model: "CAM-200X",
        version: "1.1.0",
        route: Route::Sdoc,
        declaration: Some(camera_decl_2),
    }
    .submission();
    store.record_conformity(&camera_v2).await.unwrap();

    // The lab certifies 1.1.0; the certification carries no declaration, so the product keeps
    // the one Acme submitted, and the version keeps the images it was first attested with.
    let mut certification = Conformity {
        envelope: "camera 1.1.0 certification",
        log_index: 2,
        by: "testlab",
        key: &lab_key,
        manufacturer: "acme",
        manufacturer_name: "Acme Devices Ltd",
        product: "acme-cam-200",
        name: "Indoor Camera 2",
        model: "CAM-200X",
        version: "1.1.0",
        route: Route::Certification,
        declaration: None,
    }
    .submission();
    certification.images.truncate(1);
    store.record_conformity(&certification).await.unwrap();
    let product = store.product("acme-cam-200").await.unwrap().unwrap();
    assert_eq!(product.name, "Indoor Camera 2");
    assert_eq!(product.declaration_json.as_deref(), Some(camera_decl_2));
    assert_eq!((product.created, product.updated), (at(1000), at(1002)));
    let versions = store.versions("acme-cam-200").await.unwrap();
    assert_eq!(ids(&versions, |v| &v.version), ["1.1.0", "1.0.0"]);
    assert_eq!(versions[0].images, camera_v2.images);
    assert_eq!(versions[0].first_attested, at(1001));

    // Globex's hub, whose model holds LIKE's wildcards, and a second Acme product.
    let hub = Conformity {
        envelope: "hub sdoc",
        log_index: 3,
        by: "globex",
        key: &globex_key,
        manufacturer: "globex",
        manufacturer_name: "Globex Ökosysteme GmbH",
        product: "globex-hub",
        name: "Smart Hub",
        model: "HUB_100%",
        version: "7.2",
        route: Route::Sdoc,
        declaration: None,
    }
    .submission();
    store.record_conformity(&hub).await.unwrap();
    assert_eq!(
        store
            .product("globex-hub")
            .await
            .unwrap()
            .unwrap()
            .declaration_json,
        None
    );

    // The lab suspends its certification.
    let suspension = status(
        "suspension of the certification",
        4,
        "testlab",
        &lab_key,
        &certification.record.envelope_sha256,
        StatusKind::Suspension,
    );
    store.record_status(&suspension).await.unwrap();
    let stored = store
        .attestation(&suspension.envelope_sha256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.product_id.as_str(), stored.version.as_str()),
        ("acme-cam-200", "1.1.0")
    );
    assert_eq!(
        stored,
        AttestationRecord {
            product_id: "acme-cam-200".into(),
            version: "1.1.0".into(),
            ..suspension.clone()
        }
    );

    let doorbell = Conformity {
        envelope: "doorbell sdoc",
        log_index: 5,
        by: "acme",
        key: &acme_key,
        manufacturer: "acme",
        manufacturer_name: "Acme Devices Ltd",
        product: "acme-bell-1",
        name: "Video Doorbell",
        model: "DB-1",
        version: "2.0",
        route: Route::Sdoc,
        declaration: None,
    }
    .submission();
    store.record_conformity(&doorbell).await.unwrap();

    // The product page's history: every attestation of the product, in log order.
    let history = store.history("acme-cam-200").await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.log_index).collect::<Vec<_>>(),
        [0, 1, 2, 4]
    );
    assert_eq!(history[2], certification.record);
    assert_eq!(history[3].kind, EntryKind::Status);
    assert_eq!(history[3].refers_to, suspension.refers_to);
    assert!(store.history("no-such-product").await.unwrap().is_empty());
    assert_eq!(store.last_log_index().await.unwrap(), Some(5));

    // Search: every word must occur, in any case, in ID, manufacturer, name or model.
    assert_eq!(search(store, "acme").await, ["acme-cam-200", "acme-bell-1"]);
    assert_eq!(search(store, "ACME   camera").await, ["acme-cam-200"]);
    assert_eq!(search(store, "cam-200x").await, ["acme-cam-200"]);
    assert_eq!(search(store, "ökosysteme HUB").await, ["globex-hub"]);
    assert_eq!(search(store, "ÖKOSYSTEME").await, ["globex-hub"]);
    assert_eq!(search(store, "acme hub").await, Vec::<String>::new());
    assert_eq!(
        search(store, "").await,
        ["acme-cam-200", "globex-hub", "acme-bell-1"],
        "an empty query lists everything, by name"
    );
    // LIKE's wildcards and escape character mean themselves.
    assert_eq!(search(store, "100%").await, ["globex-hub"]);
    assert_eq!(search(store, "%").await, ["globex-hub"]);
    assert_eq!(search(store, "b_1").await, ["globex-hub"]);
    assert_eq!(
        search(store, "m_2").await,
        Vec::<String>::new(),
        "_ is not a wildcard"
    );
    assert_eq!(
        search(store, "c%x").await,
        Vec::<String>::new(),
        "% is not a wildcard"
    );
    assert_eq!(search(store, "\\").await, Vec::<String>::new());
    // Pages.
    let page = store.search("", 2, 1).await.unwrap();
    assert_eq!(ids(&page, |h| &h.id), ["globex-hub", "acme-bell-1"]);
    assert_eq!(page[0].latest_version.as_deref(), Some("7.2"));
    assert_eq!(page[0].manufacturer_name, "Globex Ökosysteme GmbH");
    assert!(store.search("acme", 10, 2).await.unwrap().is_empty());
    assert_invalid(
        store.search("a b c d e f g h i", 10, 0).await,
        "search query",
    );

    // The manufacturer's dashboard.
    let mine = store.products_of("acme").await.unwrap();
    assert_eq!(ids(&mine, |p| &p.id), ["acme-bell-1", "acme-cam-200"]);
    assert_eq!(mine[1].latest_version.as_deref(), Some("1.1.0"));
    assert_eq!(mine[1].name, "Indoor Camera 2");
    assert!(store.products_of("testlab").await.unwrap().is_empty());

    // Vulnerability reports get increasing IDs.
    let first = store
        .add_vulnerability_report(&report("acme-cam-200", Some("1.1.0"), "telnet open", 2000))
        .await
        .unwrap();
    let second = store
        .add_vulnerability_report(&report("globex-hub", None, "UPnP without auth", 2001))
        .await
        .unwrap();
    let third = store
        .add_vulnerability_report(&VulnerabilityReport {
            contact: None,
            ..report("acme-cam-200", None, "default password", 2002)
        })
        .await
        .unwrap();
    assert!(first < second && second < third, "{first} {second} {third}");
    let reports = store.vulnerability_reports("acme-cam-200").await.unwrap();
    assert_eq!(
        reports,
        [
            VulnerabilityReport {
                id: first,
                ..report("acme-cam-200", Some("1.1.0"), "telnet open", 2000)
            },
            VulnerabilityReport {
                id: third,
                contact: None,
                ..report("acme-cam-200", None, "default password", 2002)
            },
        ]
    );
    assert_not_found(
        store
            .add_vulnerability_report(&report("no-such-product", None, "x", 2003))
            .await,
        "product",
        "no-such-product",
    );

    // The manufacturer answers: under investigation, then fixed; a report of another product,
    // or one that does not exist, is not touched.
    let investigating = Triage {
        status: ReportStatus::UnderInvestigation,
        note: None,
        fixed_in: None,
        at: at(2100),
    };
    let fixed = Triage {
        status: ReportStatus::Fixed,
        note: Some("telnet is off from 1.2.0".into()),
        fixed_in: Some("1.2.0".into()),
        at: at(2200),
    };
    assert!(
        store
            .triage_vulnerability_report("acme-cam-200", first, &investigating)
            .await
            .unwrap()
    );
    assert!(
        store
            .triage_vulnerability_report("acme-cam-200", first, &fixed)
            .await
            .unwrap()
    );
    assert!(
        !store
            .triage_vulnerability_report("acme-cam-200", second, &fixed)
            .await
            .unwrap(),
        "report {second} is globex-hub's"
    );
    assert!(
        !store
            .triage_vulnerability_report("acme-cam-200", third + 100, &fixed)
            .await
            .unwrap()
    );
    let reports = store.vulnerability_reports("acme-cam-200").await.unwrap();
    assert_eq!(reports[0].triage, Some(fixed.clone()));
    assert_eq!(reports[1].triage, None);
    assert_eq!(reports[0].public().triage, Some(fixed));
    assert_eq!(
        store.vulnerability_reports("globex-hub").await.unwrap()[0].triage,
        None
    );

    // What the log cannot contain twice, and what must already exist, is refused whole.
    assert_exists(
        store.record_conformity(&camera_v1).await,
        "attestation",
        &camera_v1.record.envelope_sha256,
    );
    let reused_index = Conformity {
        envelope: "a new product at a taken index",
        log_index: 1,
        by: "acme",
        key: &acme_key,
        manufacturer: "acme",
        manufacturer_name: "Acme Devices Ltd",
        product: "acme-plug",
        name: "Smart Plug",
        model: "P-1",
        version: "1.0",
        route: Route::Sdoc,
        declaration: None,
    }
    .submission();
    assert_exists(
        store.record_conformity(&reused_index).await,
        "attestation at log index",
        "1",
    );
    assert_exists(
        store
            .record_status(&status(
                "status at taken index",
                3,
                "acme",
                &acme_key,
                &camera_v1.record.envelope_sha256,
                StatusKind::Revocation,
            ))
            .await,
        "attestation at log index",
        "3",
    );
    let unknown_key = ConformitySubmission {
        record: AttestationRecord {
            signer_key_id: key(9, "acme", 0).key_id,
            log_index: 6,
            ..reused_index.record.clone()
        },
        ..reused_index.clone()
    };
    assert_not_found(
        store.record_conformity(&unknown_key).await,
        "signing key",
        &unknown_key.record.signer_key_id,
    );
    let unknown_manufacturer = ConformitySubmission {
        manufacturer: "initech".into(),
        record: AttestationRecord {
            log_index: 6,
            ..reused_index.record.clone()
        },
        ..reused_index.clone()
    };
    assert_not_found(
        store.record_conformity(&unknown_manufacturer).await,
        "organisation",
        "initech",
    );
    // A conformity record that carries a status change is no conformity record.
    let refused_late = ConformitySubmission {
        record: AttestationRecord {
            log_index: 6,
            status: Some(StatusKind::Suspension),
            ..reused_index.record.clone()
        },
        ..reused_index.clone()
    };
    assert_invalid(
        store.record_conformity(&refused_late).await,
        "conformity attestation record",
    );
    assert_eq!(
        store.product("acme-plug").await.unwrap(),
        None,
        "a refused submission leaves nothing behind"
    );
    assert!(store.versions("acme-plug").await.unwrap().is_empty());
    let hijack = Conformity {
        envelope: "globex claims the camera",
        log_index: 6,
        by: "globex",
        key: &globex_key,
        manufacturer: "globex",
        manufacturer_name: "Globex Ökosysteme GmbH",
        product: "acme-cam-200",
        name: "Not Acme's Camera",
        model: "CAM-200X",
        version: "9.9",
        route: Route::Sdoc,
        declaration: None,
    }
    .submission();
    assert_exists(
        store.record_conformity(&hijack).await,
        "product of another manufacturer",
        "acme-cam-200",
    );
    assert_eq!(
        store.product("acme-cam-200").await.unwrap().unwrap().name,
        "Indoor Camera 2"
    );
    let dangling = status(
        "status about nothing",
        6,
        "acme",
        &acme_key,
        &digest("never logged"),
        StatusKind::Revocation,
    );
    assert_not_found(
        store.record_status(&dangling).await,
        "attestation",
        &digest("never logged"),
    );
    assert_invalid(
        store
            .record_status(&status(
                "status of a status",
                6,
                "testlab",
                &lab_key,
                &suspension.envelope_sha256,
                StatusKind::Reinstatement,
            ))
            .await,
        "status attestation record",
    );
    assert_eq!(store.last_log_index().await.unwrap(), Some(5));
    assert_eq!(store.history("acme-cam-200").await.unwrap(), history);

    // The lab is reinstated after a fix, then the operator withdraws an accreditation,
    // retires a key and revokes a token.
    let reinstatement = status(
        "reinstatement of the certification",
        6,
        "testlab",
        &lab_key,
        &certification.record.envelope_sha256,
        StatusKind::Reinstatement,
    );
    store.record_status(&reinstatement).await.unwrap();
    assert_eq!(store.last_log_index().await.unwrap(), Some(6));

    assert!(
        store
            .withdraw_accreditation("testlab", "sg-cls")
            .await
            .unwrap()
    );
    assert!(
        !store
            .withdraw_accreditation("testlab", "sg-cls")
            .await
            .unwrap()
    );
    assert_eq!(store.accreditations("testlab").await.unwrap(), [ctm]);

    assert!(
        store
            .retire_signing_key(&acme_key.key_id, at(3000))
            .await
            .unwrap()
    );
    assert!(
        !store
            .retire_signing_key(&acme_key.key_id, at(3001))
            .await
            .unwrap()
    );
    assert!(
        !store
            .retire_signing_key(&key(9, "x", 0).key_id, at(3001))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .signing_key(&acme_key.key_id)
            .await
            .unwrap()
            .unwrap()
            .retired,
        Some(at(3000))
    );
    assert_eq!(
        store
            .signing_key(&acme_key_2.key_id)
            .await
            .unwrap()
            .unwrap()
            .retired,
        None
    );

    assert!(store.revoke_token("tok_acme_ci", at(3100)).await.unwrap());
    assert!(!store.revoke_token("tok_acme_ci", at(3101)).await.unwrap());
    assert!(!store.revoke_token("tok_nobody", at(3101)).await.unwrap());
    let revoked = store
        .token_by_secret(&sha256(b"s3cret-acme-ci"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked, Some(at(3100)));
    assert_eq!(
        store
            .token_by_secret(&sha256(b"s3cret-acme-dash"))
            .await
            .unwrap()
            .unwrap()
            .revoked,
        None
    );
}

/// Many submissions recorded in one transaction, as the registry's indexer and its replay do:
/// each item is recorded or refused on its own, a status change may refer to a conformity
/// attestation earlier in the same batch, and the gaps left in the log's indices are found.
async fn batch_story(store: &Store) {
    let acme = org("acme", "Acme Devices Ltd", Role::Manufacturer, 1);
    let globex = org("globex", "Globex GmbH", Role::Manufacturer, 2);
    let acme_too = org("acme-2", "Acme Devices Ltd", Role::Manufacturer, 3);
    for o in [&acme, &globex] {
        store.create_organisation(o).await.unwrap();
    }
    // A display name belongs to one organisation: certifications find the manufacturer by it.
    assert!(matches!(
        store.create_organisation(&acme_too).await,
        Err(StoreError::Exists {
            what: "organisation name",
            ..
        })
    ));
    assert_eq!(store.organisation("acme-2").await.unwrap(), None);
    assert_eq!(
        store.manufacturer_named("Acme Devices Ltd").await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(store.manufacturer_named("Initech").await.unwrap(), None);
    let acme_key = key(1, "acme", 4);
    let globex_key = key(2, "globex", 4);
    store.add_signing_key(&acme_key).await.unwrap();
    store.add_signing_key(&globex_key).await.unwrap();
    assert_eq!(store.unindexed(3).await.unwrap(), [0, 1, 2]);

    let conformity = |envelope, log_index, by, key, manufacturer, product| {
        Conformity {
            envelope,
            log_index,
            by,
            key,
            manufacturer,
            manufacturer_name: "Acme Devices Ltd",
            product,
            name: "SecureCam",
            model: "SC-1",
            version: "1.0.0",
            route: Route::Sdoc,
            declaration: None,
        }
        .submission()
    };
    let cam = conformity("cam sdoc", 0, "acme", &acme_key, "acme", "acme-cam");
    let taken = conformity(
        "globex claims the cam",
        2,
        "globex",
        &globex_key,
        "globex",
        "acme-cam",
    );
    let suspension = status(
        "cam suspended",
        3,
        "acme",
        &acme_key,
        &digest("cam sdoc"),
        StatusKind::Suspension,
    );
    let again = ConformitySubmission {
        record: AttestationRecord {
            log_index: 4,
            ..cam.record.clone()
        },
        ..cam.clone()
    };
    let plug = conformity("plug sdoc", 6, "acme", &acme_key, "acme", "acme-plug");
    let results = store
        .record_batch(&[
            Indexed::Conformity(cam.clone()),
            Indexed::Conformity(taken),
            Indexed::Status(suspension.clone()),
            Indexed::Conformity(again),
            Indexed::Conformity(plug),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 5);
    let mut results = results.into_iter();
    let mut next = || results.next().unwrap();
    next().unwrap();
    assert_exists(next(), "product of another manufacturer", "acme-cam");
    next().unwrap();
    assert_exists(next(), "attestation", &digest("cam sdoc"));
    next().unwrap();

    // What was refused left nothing behind; what was recorded is whole.
    let history = store.history("acme-cam").await.unwrap();
    assert_eq!(
        history.iter().map(|h| h.log_index).collect::<Vec<_>>(),
        [0, 3]
    );
    assert_eq!(
        history[1].product_id, "acme-cam",
        "taken from what it refers to"
    );
    assert_eq!(
        store
            .product("acme-cam")
            .await
            .unwrap()
            .unwrap()
            .manufacturer,
        "acme"
    );
    assert_eq!(store.versions("acme-plug").await.unwrap().len(), 1);
    assert_eq!(store.last_log_index().await.unwrap(), Some(6));
    // Indices 1, 2, 4 and 5 hold nothing: a replay of a log of 8 must index them and 7.
    assert_eq!(store.unindexed(8).await.unwrap(), [1, 2, 4, 5, 7]);
    assert_eq!(store.unindexed(1).await.unwrap(), Vec::<u64>::new());
    assert_eq!(store.record_batch(&[]).await.unwrap().len(), 0);

    // What a conformity submission is decided on, in one read.
    // An attestation is known by its statement, whatever envelope carried it.
    let known = store
        .conformity_facts(
            &digest("statement of cam sdoc"),
            "acme-cam",
            "Acme Devices Ltd",
        )
        .await
        .unwrap();
    assert_eq!(known.accepted_before, Some(digest("cam sdoc")));
    assert_eq!(known.product_owner.as_deref(), Some("acme"));
    assert_eq!(known.manufacturer, Some(acme));
    let unknown = store
        .conformity_facts(&digest("new"), "new-product", "Globex GmbH")
        .await
        .unwrap();
    assert_eq!(unknown.accepted_before, None);
    assert_eq!(unknown.product_owner, None);
    assert_eq!(unknown.manufacturer, Some(globex));
    let nobody = store
        .conformity_facts(&digest("new"), "acme-plug", "Initech")
        .await
        .unwrap();
    assert_eq!(nobody.product_owner.as_deref(), Some("acme"));
    assert_eq!(nobody.manufacturer, None);
}

#[tokio::test]
async fn sqlite_batch_story() {
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(&format!("sqlite://{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    batch_story(&store).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_batch_story() {
    let Some(db) = PgTestDatabase::create().await else {
        return;
    };
    let store = store::open(&db.url).await.unwrap();
    let run = tokio::spawn({
        let store = store.clone();
        async move { batch_story(&store).await }
    })
    .await;
    store.close().await;
    db.drop_database().await;
    if let Err(e) = run {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test]
async fn sqlite_story() {
    let dir = tempfile::tempdir().unwrap();
    // A directory that does not exist yet: the store creates it.
    let path = dir.path().join("iotmark-data").join("registry.db");
    let store = store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    story(&store).await;
    store.close().await;
    assert!(path.is_file());
}

#[tokio::test]
async fn sqlite_keeps_committed_writes_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let acme = org("acme", "Acme Devices Ltd", Role::Manufacturer, 1);
    let acme_key = key(1, "acme", 2);
    let camera = Conformity {
        envelope: "camera sdoc",
        log_index: 0,
        by: "acme",
        key: &acme_key,
        manufacturer: "acme",
        manufacturer_name: "Acme Devices Ltd",
        product: "acme-cam-200",
        name: "Indoor Camera",
        model: "CAM-200X",
        version: "1.0.0",
        route: Route::Sdoc,
        declaration: Some("{}"),
    }
    .submission();

    let first = store::open(&url).await.unwrap();
    first.create_organisation(&acme).await.unwrap();
    first.add_signing_key(&acme_key).await.unwrap();
    first.record_conformity(&camera).await.unwrap();
    let report_1 = first
        .add_vulnerability_report(&report("acme-cam-200", None, "telnet open", 10))
        .await
        .unwrap();

    // A second process opens the file while the first still has it open (its writes may be
    // in the WAL only): it sees them, and its migrations find nothing to do.
    let second = store::open(&url).await.unwrap();
    assert_eq!(
        second.organisation("acme").await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(second.last_log_index().await.unwrap(), Some(0));
    first.close().await;
    second.close().await;

    // After both have gone, a third open finds everything, and the report IDs go on rising.
    let third = store::open(&url).await.unwrap();
    assert_eq!(third.organisations().await.unwrap(), [acme]);
    assert_eq!(
        third.signing_key(&acme_key.key_id).await.unwrap(),
        Some(acme_key)
    );
    assert_eq!(
        third.history("acme-cam-200").await.unwrap(),
        std::slice::from_ref(&camera.record)
    );
    assert_eq!(
        third.versions("acme-cam-200").await.unwrap()[0].images,
        camera.images
    );
    assert_eq!(
        third
            .product("acme-cam-200")
            .await
            .unwrap()
            .unwrap()
            .declaration_json
            .as_deref(),
        Some("{}")
    );
    let report_2 = third
        .add_vulnerability_report(&report("acme-cam-200", None, "default password", 11))
        .await
        .unwrap();
    assert!(report_2 > report_1);
    assert_exists(
        third.record_conformity(&camera).await,
        "attestation",
        &camera.record.envelope_sha256,
    );
    third.close().await;
}

#[tokio::test]
async fn unknown_database_urls_are_refused() {
    match store::open("mysql://localhost/iotmark").await {
        Err(StoreError::Open(iotmark_db::OpenError::UnsupportedUrl { url })) => {
            assert_eq!(url, "mysql://localhost/iotmark")
        }
        other => panic!("expected UnsupportedUrl, got {other:?}"),
    }
}

/// A database of its own for one test, created through `TEST_DATABASE_URL` and dropped after.
struct PgTestDatabase {
    admin: sqlx::PgPool,
    name: String,
    url: String,
}

impl PgTestDatabase {
    /// `None` only when the PostgreSQL tests are skipped on purpose.
    async fn create() -> Option<Self> {
        let admin_url = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ if std::env::var("IOTMARK_SKIP_POSTGRES").as_deref() == Ok("1") => {
                eprintln!("IOTMARK_SKIP_POSTGRES=1: PostgreSQL backend not tested");
                return None;
            }
            _ => panic!(
                "TEST_DATABASE_URL is not set, so the PostgreSQL backend cannot be tested. Start a \
                 private server with `bash scripts/postgres.sh --install && eval \"$(bash \
                 scripts/postgres.sh start)\" && export TEST_DATABASE_URL`, or set \
                 IOTMARK_SKIP_POSTGRES=1 to skip these tests knowingly"
            ),
        };
        let admin = sqlx::PgPool::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!(
                "cannot connect to TEST_DATABASE_URL={admin_url}: {e}; is `bash \
                 scripts/postgres.sh start` running?"
            )
        });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("iotmark_test_{}_{nanos}", std::process::id());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
        let (base, query) = match admin_url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (admin_url.as_str(), String::new()),
        };
        let (server, _) = base
            .rsplit_once('/')
            .filter(|(server, _)| server.contains("//"))
            .unwrap_or_else(|| panic!("TEST_DATABASE_URL={admin_url} names no database"));
        let url = format!("{server}/{name}{query}");
        Some(PgTestDatabase { admin, name, url })
    }

    async fn drop_database(self) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            self.name
        )))
        .execute(&self.admin)
        .await
        .unwrap();
        self.admin.close().await;
    }
}

#[tokio::test]
async fn postgres_story() {
    let Some(db) = PgTestDatabase::create().await else {
        return;
    };
    let store = store::open(&db.url).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    // On its own task so that a failed assertion still lets the database be dropped.
    let run = tokio::spawn({
        let store = store.clone();
        async move { story(&store).await }
    })
    .await;
    store.close().await;
    // A second connect to the same database finds its schema in place and the data intact.
    let again = store::open(&db.url).await.unwrap();
    let intact = again.last_log_index().await;
    again.close().await;
    db.drop_database().await;
    if let Err(e) = run {
        std::panic::resume_unwind(e.into_panic());
    }
    assert_eq!(intact.unwrap(), Some(6));
}
