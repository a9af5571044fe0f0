//! A registry on 127.0.0.1 for the HTTP tests, on SQLite and (when `TEST_DATABASE_URL` is set)
//! on a fresh PostgreSQL database, with organisations, keys and tokens like an operator sets
//! them up, and real signed attestations.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::sync::Arc;

use iotmark_attest::Sha256;
use iotmark_attest::keys::{FileSigner, Signer};
use iotmark_attest::statement::Predicate;
use iotmark_attest::statement::{ConformityInput, Party, Route, StatusKind, conformity_statement};
use iotmark_registry::admin;
use iotmark_registry::monitor::Run;
use iotmark_registry::service::{Config, Registry};
use iotmark_registry::store::{self, Role};
use serde_json::json;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The database URLs to run against: a SQLite file in `dir`, and PostgreSQL when configured
/// (see [`iotmark_db::testing::backends`]).
pub fn backends(dir: &Path) -> Vec<(&'static str, String)> {
    iotmark_db::testing::backends(dir, "registry.sqlite3")
}

/// A running registry and what the operator set up.
pub struct TestApp {
    pub url: String,
    pub registry: Arc<Registry>,
    pub runtime: tokio::runtime::Runtime,
    pub dir: PathBuf,
    /// token secrets by organisation ID
    pub tokens: std::collections::BTreeMap<String, String>,
    /// signing keys by organisation ID
    pub keys: std::collections::BTreeMap<String, Arc<FileSigner>>,
}

pub const SCHEME: &str = "en303645-self-declaration";

impl TestApp {
    /// Starts a registry on `db_url` with data in `dir`, and sets up: acme (manufacturer of
    /// the example product), globex (another manufacturer), testlab (a lab accredited for
    /// every bundled scheme), newlab (a lab with no accreditation), and operator.
    pub fn start(db_url: &str, dir: &Path) -> TestApp {
        Self::start_with(db_url, dir, Default::default())
    }

    /// As [`TestApp::start`], with the given rate limits.
    pub fn start_with(
        db_url: &str,
        dir: &Path,
        limits: iotmark_registry::ratelimit::Limits,
    ) -> TestApp {
        Self::start_serving(db_url, dir, limits, Default::default())
    }

    /// As [`TestApp::start`], with the given rate limits and connection bounds.
    pub fn start_serving(
        db_url: &str,
        dir: &Path,
        limits: iotmark_registry::ratelimit::Limits,
        server: iotmark_registry::server::ServerLimits,
    ) -> TestApp {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = dir.to_owned();
        let (registry, url, tokens, keys) = runtime.block_on(async {
            let store = store::open(db_url).await.unwrap();
            let mut tokens = std::collections::BTreeMap::new();
            let mut keys = std::collections::BTreeMap::new();
            let schemes = iotmark_assess::bundled_schemes(iotmark_catalogs::Bundle::get()).unwrap();
            for (id, name, role) in [
                ("acme", "Acme Devices Ltd", Role::Manufacturer),
                ("globex", "Globex Corporation", Role::Manufacturer),
                ("testlab", "Example Test Lab", Role::Lab),
                ("newlab", "New Lab", Role::Lab),
                ("operator", "Registry Operator", Role::Operator),
            ] {
                admin::add_organisation(&store, id, name, role)
                    .await
                    .unwrap();
                let key = Arc::new(FileSigner::generate().unwrap());
                admin::add_key(&store, id, &key.public_key(), "test key")
                    .await
                    .unwrap();
                let (_, secret) = admin::create_token(&store, id, "tests").await.unwrap();
                tokens.insert(id.to_owned(), secret);
                keys.insert(id.to_owned(), key);
            }
            for s in &schemes {
                admin::accredit(&store, "testlab", &s.id, &schemes)
                    .await
                    .unwrap();
            }
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let url = format!("http://{addr}");
            let registry = Arc::new(
                Registry::open(
                    store,
                    Config {
                        data_dir: dir.join("data"),
                        log_origin: "registry.test/log".to_owned(),
                        limits,
                        public_url: url.clone(),
                    },
                )
                .await
                .unwrap(),
            );
            let app = iotmark_registry::http::router(registry.clone());
            tokio::spawn(async move {
                iotmark_registry::server::serve(listener, app, server, std::future::pending())
                    .await
                    .unwrap();
            });
            (registry, url, tokens, keys)
        });
        TestApp {
            url,
            registry,
            runtime,
            dir,
            tokens,
            keys,
        }
    }

    /// POST with an optional bearer token; returns (status, JSON body).
    pub fn post(&self, path: &str, token: Option<&str>, body: &[u8]) -> (u16, serde_json::Value) {
        let agent = agent();
        let mut request = agent.post(&format!("{}{path}", self.url));
        if let Some(t) = token {
            request = request.header("Authorization", &format!("Bearer {t}"));
        }
        let response = request
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap();
        read(response)
    }

    /// PUT with an optional bearer token; returns (status, JSON body).
    pub fn put(&self, path: &str, token: Option<&str>, body: &[u8]) -> (u16, serde_json::Value) {
        let agent = agent();
        let mut request = agent.put(&format!("{}{path}", self.url));
        if let Some(t) = token {
            request = request.header("Authorization", &format!("Bearer {t}"));
        }
        read(
            request
                .header("Content-Type", "application/yaml")
                .send(body)
                .unwrap(),
        )
    }

    /// GET with a bearer token; returns (status, JSON body).
    pub fn get_as(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        let response = agent()
            .get(&format!("{}{path}", self.url))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        read(response)
    }

    /// DELETE with a bearer token; returns (status, JSON body).
    pub fn delete_as(&self, path: &str, token: &str) -> (u16, serde_json::Value) {
        let response = agent()
            .delete(&format!("{}{path}", self.url))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        read(response)
    }

    /// GET; returns (status, JSON body or {"text": …}).
    pub fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let response = agent().get(&format!("{}{path}", self.url)).call().unwrap();
        read(response)
    }

    /// GET; returns (status, the named header, body text).
    pub fn get_text(&self, path: &str, header: &str) -> (u16, Option<String>, String) {
        let response = agent().get(&format!("{}{path}", self.url)).call().unwrap();
        let status = response.status().as_u16();
        let value = response
            .headers()
            .get(header)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (
            status,
            value,
            response.into_body().read_to_string().unwrap(),
        )
    }

    /// POST without a token; returns (status, the named header).
    pub fn post_header(&self, path: &str, body: &[u8], header: &str) -> (u16, Option<String>) {
        let response = agent()
            .post(&format!("{}{path}", self.url))
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap();
        let value = response
            .headers()
            .get(header)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (response.status().as_u16(), value)
    }

    /// GET; returns (status, body bytes).
    pub fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let response = agent().get(&format!("{}{path}", self.url)).call().unwrap();
        let status = response.status().as_u16();
        (status, response.into_body().read_to_vec().unwrap())
    }

    /// GET with the answer's headers.
    pub fn fetch(&self, path: &str) -> Answer {
        let response = agent().get(&format!("{}{path}", self.url)).call().unwrap();
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        Answer {
            status,
            headers,
            body: response.into_body().read_to_vec().unwrap(),
        }
    }

    /// Submits an envelope as `org` with the product declaration it was made from (the HTTP
    /// API takes no declaration yet), and panics if it is refused.
    pub fn submit_declared(
        &self,
        org: &str,
        envelope: &[u8],
        declaration_json: Option<String>,
    ) -> iotmark_registry::service::Receipted {
        self.runtime.block_on(async {
            let org = self
                .registry
                .store
                .organisation(org)
                .await
                .unwrap()
                .unwrap();
            self.registry
                .submit(&org, envelope, declaration_json)
                .await
                .unwrap()
        })
    }

    /// Submits an envelope as `org`.
    pub fn submit(&self, org: &str, envelope: &[u8]) -> (u16, serde_json::Value) {
        self.post("/api/v1/attestations", Some(&self.tokens[org]), envelope)
    }
}

/// An HTTP answer: status, headers (names lower-case), body.
pub struct Answer {
    pub status: u16,
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

fn read(response: ureq::http::Response<ureq::Body>) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.into_body().read_to_string().unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or_else(|_| serde_json::json!({"text": text}));
    (status, value)
}

/// The example's assessment results with every gap fixed, so the product conforms.
pub fn passing_results() -> Vec<u8> {
    let path =
        repo().join("crates/iotmark-attest/tests/data/securecam-en303645.assessment-results.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let result = &mut v["assessment-results"]["results"][0];
    result["description"] = "Verdict: conforms.".into();
    for f in result["findings"].as_array_mut().unwrap() {
        if f["props"][0]["value"] != "not-applicable" {
            f["props"][0]["value"] = "satisfied".into();
            f["target"]["status"] = serde_json::json!({"state": "satisfied", "reason": "pass"});
        }
    }
    serde_json::to_vec_pretty(&v).unwrap()
}

pub fn example_declaration() -> iotmark_declare::Declaration {
    let path = repo().join("examples/acme-securecam/declaration.yaml");
    let bytes = std::fs::read(&path).unwrap();
    iotmark_declare::check(&path, &bytes, &|_| true, jiff::Zoned::now().date())
        .declaration
        .unwrap()
}

/// The example declaration as the product page reads it: JSON.
pub fn example_declaration_json() -> String {
    serde_json::to_string(&example_declaration()).unwrap()
}

/// A conformity attestation of the example product signed by `signer`, issued `issued`
/// (distinct times give distinct envelopes), valid for two years.
pub fn conformity(
    signer: &FileSigner,
    organisation: &str,
    route: Route,
    issued: jiff::Timestamp,
) -> Vec<u8> {
    conformity_of(&example_declaration(), signer, organisation, route, issued)
}

/// [`conformity`] made from `declaration` (which must keep the example's product ID: the
/// assessment results name it).
pub fn conformity_of(
    declaration: &iotmark_declare::Declaration,
    signer: &FileSigner,
    organisation: &str,
    route: Route,
    issued: jiff::Timestamp,
) -> Vec<u8> {
    let statement = conformity_statement(
        &passing_results(),
        Path::new("assessment-results.json"),
        declaration,
        &ConformityInput {
            sbom_sha256: None,
            route,
            profile: Some("en303645".to_owned()),
            organisation: organisation.to_owned(),
            key_id: signer.key_id(),
            issued,
            valid_until: issued
                .checked_add(jiff::SignedDuration::from_hours(2 * 8766))
                .unwrap(),
        },
    )
    .unwrap();
    iotmark_attest::sign_statement(&statement, signer)
        .unwrap()
        .to_json()
        .into_bytes()
}

/// `envelope`'s statement changed by `edit` (a conformity predicate) and signed again by
/// `signer`: what a signer could have signed, for the facts no declaration gives.
pub fn forge(
    signer: &FileSigner,
    envelope: &[u8],
    edit: impl Fn(&mut iotmark_attest::statement::ConformityPredicate),
) -> Vec<u8> {
    let parsed = iotmark_attest::dsse::Envelope::parse(envelope).unwrap();
    let mut statement = iotmark_attest::statement::Statement::parse(&parsed.payload).unwrap();
    if let iotmark_attest::statement::Predicate::Conformity(p) = &mut statement.predicate {
        edit(p);
    }
    iotmark_attest::sign_statement(&statement, signer)
        .unwrap()
        .to_json()
        .into_bytes()
}

/// A status change of `envelope`, signed by `signer`.
pub fn status_change(
    signer: &FileSigner,
    organisation: &str,
    envelope: &[u8],
    status: StatusKind,
    effective: jiff::Timestamp,
) -> Vec<u8> {
    status_change_for(signer, organisation, envelope, status, effective, None)
}

/// [`status_change`] naming its lifecycle trigger.
pub fn status_change_for(
    signer: &FileSigner,
    organisation: &str,
    envelope: &[u8],
    status: StatusKind,
    effective: jiff::Timestamp,
    trigger: Option<iotmark_attest::statement::Trigger>,
) -> Vec<u8> {
    let parsed = iotmark_attest::dsse::Envelope::parse(envelope).unwrap();
    let statement = iotmark_attest::statement::Statement::parse(&parsed.payload).unwrap();
    let change = iotmark_attest::statement::status_statement_with(
        envelope,
        statement.subject,
        status,
        "test",
        effective,
        jiff::Timestamp::now(),
        Party {
            organisation: organisation.to_owned(),
            key_id: signer.key_id(),
        },
        iotmark_attest::statement::StatusDetails {
            trigger,
            ..Default::default()
        },
    )
    .unwrap();
    iotmark_attest::sign_statement(&change, signer)
        .unwrap()
        .to_json()
        .into_bytes()
}

/// Now, minus `seconds` (distinct issue times make distinct envelopes).
pub fn seconds_ago(seconds: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - seconds).unwrap()
}

/// A webhook receiver we did not write the checks of: `tests/webhooks/receiver.py`, which
/// verifies every message with the `standardwebhooks` library (installed by
/// `bash scripts/webhook-receiver.sh --install`) and logs each request to disk.
pub struct Receiver {
    child: std::process::Child,
    dir: tempfile::TempDir,
    pub url: String,
}

impl Receiver {
    /// Starts the receiver on 127.0.0.1, up.
    pub fn start() -> Receiver {
        use std::io::BufRead as _;
        let python = std::env::var_os("IOTMARK_STANDARDWEBHOOKS")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("target/tools/standardwebhooks"))
            .join("bin/python");
        assert!(
            python.exists(),
            "standardwebhooks is not installed at {}: run `bash scripts/webhook-receiver.sh --install` first",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(python)
            .arg(repo().join("crates/iotmark-registry/tests/webhooks/receiver.py"))
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().strip_prefix("PORT ").unwrap_or_else(|| {
            panic!("the receiver did not say its port: {line:?}");
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/iotmark"),
            child,
            dir,
        }
    }

    /// The secret it verifies with.
    pub fn set_secret(&self, secret: &str) {
        std::fs::write(self.dir.path().join("secret"), secret).unwrap();
    }

    /// `up`, `down` (503) or `slow` (accepts after 2 s).
    pub fn set_mode(&self, mode: &str) {
        std::fs::write(self.dir.path().join("mode"), mode).unwrap();
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The messages it accepted (verified, answered 204), in order.
    pub fn accepted(&self) -> Vec<serde_json::Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["answer"] == 204)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The registry whose SQLite database and data directory are in `dir` (as [`TestApp::start`]
/// made them), opened again without serving, as a restarted process would.
pub fn reopen(dir: &Path, public_url: &str) -> (tokio::runtime::Runtime, Arc<Registry>) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let registry = runtime.block_on(async {
        let store = store::open(&format!(
            "sqlite://{}",
            dir.join("registry.sqlite3").display()
        ))
        .await
        .unwrap();
        Registry::open(
            store,
            Config {
                data_dir: dir.join("data"),
                log_origin: "registry.test/log".to_owned(),
                limits: Default::default(),
                public_url: public_url.to_owned(),
            },
        )
        .await
        .unwrap()
    });
    (runtime, Arc::new(registry))
}

/// Offline verification (`iotmark verify`'s library) of `envelope`, whose SHA-256 is `sha`,
/// with every status change the registry's API lists for it, trusting acme's and the
/// operator's keys and the registry's published key (`data/monitor.vkey`).
pub fn verify_offline(
    app: &TestApp,
    envelope: &[u8],
    sha: &str,
) -> iotmark_attest::verify::Validity {
    let registry_vkey = std::fs::read_to_string(app.dir.join("data/monitor.vkey")).unwrap();
    let mut policy_text = String::new();
    for org in ["acme", "operator"] {
        let vkey = app.keys[org].public_key().to_vkey(org).unwrap();
        policy_text.push_str(&format!("signer {vkey}\n"));
    }
    policy_text.push_str(&format!("signer {}\n", registry_vkey.trim()));
    let policy =
        iotmark_attest::verify::TrustPolicy::parse(policy_text.as_bytes(), "policy").unwrap();
    let (_, product) = app.get(&format!(
        "/api/v1/products/{}",
        example_declaration().product.id
    ));
    let statuses: Vec<Vec<u8>> = product["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["refers_to"] == sha)
        .map(|c| {
            let (status, bytes) = app.get_bytes(&format!(
                "/api/v1/attestations/{}/envelope",
                c["envelope_sha256"].as_str().unwrap()
            ));
            assert_eq!(status, 200);
            bytes
        })
        .collect();
    let refs: Vec<&[u8]> = statuses.iter().map(Vec::as_slice).collect();
    match iotmark_attest::verify::verify_with_status(
        envelope,
        &refs,
        iotmark_attest::verify::Trust::Policy(&policy),
        jiff::Timestamp::now(),
    ) {
        Ok(v) => v.validity,
        Err(iotmark_attest::verify::VerifyError::StatusChanged { verdict, .. }) => verdict.validity,
        Err(e) => panic!("{e}"),
    }
}

pub fn days_ago(days: i64) -> jiff::Timestamp {
    seconds_ago(days * 86_400)
}

/// The router firmware's SBOM: its firmware at `firmware_version` on the v1 board.
pub fn sbom(firmware_version: &str) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"component": {"type": "device", "name": "P660HN-T1A"}},
        "components": [
            {"type": "firmware", "bom-ref": "firmware", "name": "P660HN-T1A firmware",
             "version": firmware_version,
             "cpe": format!("cpe:2.3:o:zyxel:p660hn-t1a_v1_firmware:{firmware_version}:*:*:*:*:*:*:*")},
            {"type": "device", "bom-ref": "board", "name": "P660HN-T1A", "version": "-",
             "cpe": "cpe:2.3:h:zyxel:p660hn-t1a_v1:-:*:*:*:*:*:*:*"},
        ],
    }))
    .unwrap()
}

/// The OTA image of `version`, as its digest.
pub fn image_of(version: &str) -> String {
    Sha256::of(format!("securecam firmware {version}").as_bytes()).to_hex()
}

/// The example product's declaration by acme, as version `version` with its own image,
/// resting on `sbom`, issued `issued`, with support declared to end on `support_end`.
pub fn attested(
    app: &TestApp,
    version: &str,
    sbom: &[u8],
    issued: jiff::Timestamp,
    support_end: Option<jiff::civil::Date>,
) -> Vec<u8> {
    let signer = &app.keys["acme"];
    let plain = conformity(signer, "Acme Devices Ltd", Route::Sdoc, issued);
    let parsed = iotmark_attest::dsse::Envelope::parse(&plain).unwrap();
    let mut statement = iotmark_attest::statement::Statement::parse(&parsed.payload).unwrap();
    statement.subject = vec![iotmark_attest::statement::Subject::sha256(
        &format!("securecam-{version}.bin"),
        &image_of(version),
    )];
    let Predicate::Conformity(p) = &mut statement.predicate else {
        unreachable!("a conformity statement")
    };
    p.product.version = version.to_owned();
    p.sbom_sha256 = Some(Sha256::of(sbom));
    p.support_end = support_end;
    iotmark_attest::sign_statement(&statement, signer.as_ref())
        .unwrap()
        .to_json()
        .into_bytes()
}

pub fn attach_vulnerability_store(app: &TestApp, url: &str) {
    app.runtime.block_on(async {
        let store = iotmark_vulns::store::Store::open(url).await.unwrap();
        app.registry.attach_vulnerability_store(store);
    });
}

pub fn import_vulnerabilities(app: &TestApp) {
    let repo = repo();
    app.runtime.block_on(async {
        let store = app.registry.vulnerability_store().unwrap();
        let summary = iotmark_vulns::import::import_paths(
            store,
            &[
                repo.join("crates/iotmark-vulns/tests/data/nvd"),
                repo.join("../shared/reference/kev/known_exploited_vulnerabilities.json"),
            ],
            &|_| {},
        )
        .await
        .unwrap();
        assert!(
            summary.files.iter().all(|f| f.failed.is_none()),
            "{summary:?}"
        );
    });
}

pub fn monitor_at(app: &TestApp, at: jiff::Timestamp) -> Run {
    app.runtime.block_on(app.registry.monitor(at)).unwrap()
}

/// Runs `sql` on the database at `url`, as a crash or an operator's mistake would leave it.
pub async fn execute(url: &str, sql: &str) {
    if url.starts_with("sqlite://") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}
