//! The probe against real servers from Debian's packages, started here on 127.0.0.1, each
//! with an insecure and a secure twin: `openssl s_server` with TLS 1.0 and anonymous suites
//! enabled, and with TLS 1.3 only; mosquitto with `allow_anonymous` on and off; lighttpd
//! serving plain HTTP, and redirecting it to HTTPS; dropbear with a default root password and
//! with keys only. Each expected finding is asserted, and each secure twin fails none. The protocol versions and suites found must be the ones
//! sslyze finds on the same servers, and the SSH algorithms the ones ssh-audit finds (both
//! from PyPI, installed by `scripts/probe-peers.sh`). Then hostile peers (garbage, an endless
//! stream, a trickle, silence) must neither hang the probe nor crash it.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use iotmark_evidence::ObservationResult;
use iotmark_probe::{Finding, Limits, ProbeReport};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, killed on drop.
struct Server(Child);

impl Server {
    /// Starts `program` and waits until `port` accepts connections.
    fn start(program: &str, args: &[&str], port: u16) -> Server {
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{program} must be installed (scripts/test.sh installs it): {e}")
            });
        let server = Server(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{program} did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn limits() -> Limits {
    Limits::new(
        Duration::from_secs(2),
        Duration::from_secs(2),
        500,
        Duration::from_secs(120),
    )
}

fn probe(ports: &[u16]) -> ProbeReport {
    iotmark_probe::probe(
        "127.0.0.1",
        LOCALHOST,
        ports,
        &iotmark_probe::http::default_credentials(),
        &limits(),
        &|_, _, _| {},
    )
}

/// The result of `check` on `port`.
fn result(report: &ProbeReport, check: &str, port: u16) -> Option<(ObservationResult, String)> {
    report
        .findings
        .iter()
        .find(|f: &&Finding| f.check == check && f.port == port)
        .map(|f| (f.result, f.message.clone()))
}

fn failed(report: &ProbeReport, port: u16) -> Vec<&'static str> {
    report
        .findings
        .iter()
        .filter(|f| f.port == port && f.result == ObservationResult::Fail)
        .map(|f| f.check)
        .collect()
}

/// What `scripts/probe-peers.sh` installs.
fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/probe-peers")
}

/// A scanner of `scripts/probe-peers.sh`.
fn peer(tool: &str) -> PathBuf {
    let path = tools().join("bin").join(tool);
    assert!(
        path.exists(),
        "{tool} is not installed: run `bash scripts/probe-peers.sh --install`"
    );
    path
}

/// What sslyze finds at `port`: at each version, the suites it tested and those accepted.
fn sslyze(port: u16, dir: &Path) -> BTreeMap<&'static str, (BTreeSet<String>, BTreeSet<String>)> {
    let out = dir.join(format!("sslyze-{port}.json"));
    let status = Command::new(peer("sslyze"))
        .args([
            "--sslv3",
            "--tlsv1",
            "--tlsv1_1",
            "--tlsv1_2",
            "--tlsv1_3",
            "--quiet",
        ])
        .arg(format!("--json_out={}", out.display()))
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let result = &report["server_scan_results"][0]["scan_result"];
    let names = |list: &serde_json::Value| -> BTreeSet<String> {
        list.as_array()
            .unwrap_or_else(|| panic!("sslyze's answer lacks a suite list: {report}"))
            .iter()
            .map(|s| s["cipher_suite"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut found = BTreeMap::new();
    for (key, name) in [
        ("ssl_3_0_cipher_suites", "SSLv3"),
        ("tls_1_0_cipher_suites", "TLSv1.0"),
        ("tls_1_1_cipher_suites", "TLSv1.1"),
        ("tls_1_2_cipher_suites", "TLSv1.2"),
        ("tls_1_3_cipher_suites", "TLSv1.3"),
    ] {
        let accepted = names(&result[key]["result"]["accepted_cipher_suites"]);
        let mut tested = names(&result[key]["result"]["rejected_cipher_suites"]);
        tested.extend(accepted.iter().cloned());
        found.insert(name, (tested, accepted));
    }
    found
}

/// The probe and sslyze agree at `port`: the same versions accepted, and at each one every
/// suite sslyze tests is accepted by both or by neither. (The probe also knows a few suites
/// sslyze does not test, such as the anonymous Camellia ones with SHA-256.)
fn agree_with_sslyze(report: &ProbeReport, port: u16, dir: &Path) {
    let ours = ours(report, port);
    let theirs = sslyze(port, dir);
    let accepted =
        |m: &BTreeMap<&'static str, BTreeSet<String>>| m.keys().copied().collect::<Vec<_>>();
    let theirs_accepted: BTreeMap<&'static str, BTreeSet<String>> = theirs
        .iter()
        .filter(|(_, (_, a))| !a.is_empty())
        .map(|(v, (_, a))| (*v, a.clone()))
        .collect();
    assert_eq!(
        accepted(&ours),
        accepted(&theirs_accepted),
        "versions at port {port}"
    );
    for (version, (tested, accepted)) in &theirs {
        let empty = BTreeSet::new();
        let ours_here = ours.get(version).unwrap_or(&empty);
        let ours_tested: BTreeSet<String> = ours_here.intersection(tested).cloned().collect();
        assert_eq!(&ours_tested, accepted, "{version} at port {port}");
    }
}

/// What the probe found at a TLS port, in sslyze's terms.
fn ours(report: &ProbeReport, port: u16) -> BTreeMap<&'static str, BTreeSet<String>> {
    let tls = report
        .open
        .iter()
        .find(|p| p.port == port)
        .unwrap()
        .tls
        .as_ref()
        .unwrap();
    tls.suites
        .iter()
        .map(|(v, s)| (v.name(), s.iter().cloned().collect()))
        .collect()
}

fn openssl(args: &[&str], dir: &Path) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl {args:?}");
}

#[test]
fn tls_versions_suites_and_certificates_of_openssl_servers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-keyout",
            "good.key",
            "-out",
            "good.pem",
            "-days",
            "30",
            "-nodes",
            "-subj",
            "/CN=device.test",
        ],
        d,
    );
    // A 1024-bit key signed with SHA-1: what old firmware ships.
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:1024",
            "-sha1",
            "-keyout",
            "weak.key",
            "-out",
            "weak.pem",
            "-days",
            "30",
            "-nodes",
            "-subj",
            "/CN=old.device.test",
        ],
        d,
    );
    let path = |f: &str| d.join(f).to_str().unwrap().to_owned();
    let (legacy, modern) = (free_port(), free_port());
    let _legacy = Server::start(
        "openssl",
        &[
            "s_server",
            "-accept",
            &format!("127.0.0.1:{legacy}"),
            "-cert",
            &path("weak.pem"),
            "-key",
            &path("weak.key"),
            "-cipher",
            "ALL:@SECLEVEL=0",
            "-min_protocol",
            "TLSv1",
            "-quiet",
        ],
        legacy,
    );
    let _modern = Server::start(
        "openssl",
        &[
            "s_server",
            "-accept",
            &format!("127.0.0.1:{modern}"),
            "-cert",
            &path("good.pem"),
            "-key",
            &path("good.key"),
            "-tls1_3",
            "-quiet",
        ],
        modern,
    );
    let report = probe(&[legacy, modern]);
    assert_eq!(report.open.len(), 2, "{report:#?}");

    let old = report.open.iter().find(|p| p.port == legacy).unwrap();
    let tls = old.tls.as_ref().unwrap();
    let accepted: Vec<&str> = tls.accepted().map(|v| v.name()).collect();
    assert_eq!(
        accepted,
        ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
        "SSL 3.0 is compiled out of Debian's OpenSSL"
    );
    let (r, m) = result(&report, "probe.tls.weak-version", legacy).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    assert!(m.contains("TLSv1.0, TLSv1.1"), "{m}");
    let (r, m) = result(&report, "probe.tls.weak-cipher", legacy).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    assert!(
        m.contains("_anon_"),
        "ALL:@SECLEVEL=0 enables anonymous suites: {m}"
    );
    let (r, m) = result(&report, "probe.tls.certificate", legacy).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    assert!(
        m.contains("RSA 1024-bit")
            && m.contains("sha1WithRSAEncryption")
            && m.contains("self-signed"),
        "{m}"
    );
    let cert = old.certificate.as_ref().unwrap();
    assert_eq!(cert.subject, "CN=old.device.test");
    assert_eq!(cert.public_key_sha256.len(), 64);

    // The secure twin: TLS 1.3 only, its three default suites, nothing fails.
    let new = report.open.iter().find(|p| p.port == modern).unwrap();
    let tls = new.tls.as_ref().unwrap();
    assert_eq!(
        tls.accepted().map(|v| v.name()).collect::<Vec<_>>(),
        ["TLSv1.3"]
    );
    assert_eq!(
        tls.suites[&iotmark_probe::tls::Version::Tls13],
        [
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256"
        ]
    );
    assert!(failed(&report, modern).is_empty(), "{:?}", report.findings);
    // TLS 1.3 sends the certificate encrypted: read inside a whole session.
    let cert = new.certificate.as_ref().unwrap();
    assert_eq!(cert.subject, "CN=device.test");
    assert!(cert.key.contains("RSA 2048-bit"), "{cert:?}");
    let (r, m) = result(&report, "probe.tls.certificate", modern).unwrap();
    assert_eq!(r, ObservationResult::Pass, "{m}");

    // The same versions and suites as sslyze, on both servers.
    for port in [legacy, modern] {
        agree_with_sslyze(&report, port, d);
    }
}

#[test]
fn a_chain_whose_intermediate_is_signed_with_sha1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ca.ext"), "basicConstraints=critical,CA:true\n").unwrap();
    let steps: [&[&str]; 5] = [
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-days",
            "30",
            "-nodes",
            "-subj",
            "/CN=Test Root",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-keyout",
            "int.key",
            "-out",
            "int.csr",
            "-nodes",
            "-subj",
            "/CN=Test Intermediate",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-CAcreateserial",
            "-out",
            "int.pem",
            "-days",
            "30",
            "-sha1",
            "-extfile",
            "ca.ext",
        ],
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-nodes",
            "-subj",
            "/CN=device.chain.test",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "int.pem",
            "-CAkey",
            "int.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "30",
            "-sha256",
        ],
    ];
    for step in steps {
        openssl(step, d);
    }
    let path = |f: &str| d.join(f).to_str().unwrap().to_owned();
    let port = free_port();
    let _server = Server::start(
        "openssl",
        &[
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-cert",
            &path("leaf.pem"),
            "-key",
            &path("leaf.key"),
            "-cert_chain",
            &path("int.pem"),
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
            "-quiet",
        ],
        port,
    );
    let report = probe(&[port]);
    let open = &report.open[0];
    assert_eq!(
        open.certificate.as_ref().unwrap().subject,
        "CN=device.chain.test"
    );
    assert_eq!(open.chain.len(), 1, "{open:#?}");
    let chain: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.check == "probe.tls.certificate" && f.message.contains("the chain's"))
        .collect();
    assert_eq!(chain.len(), 1, "{:#?}", report.findings);
    assert_eq!(chain[0].result, ObservationResult::Fail);
    assert!(
        chain[0]
            .message
            .contains("`CN=Test Intermediate` issued by `CN=Test Root`")
            && chain[0].message.contains("sha1WithRSAEncryption"),
        "{}",
        chain[0].message
    );
    // The leaf itself is sound.
    let (r, m) = result(&report, "probe.tls.certificate", port).unwrap();
    assert_eq!(r, ObservationResult::Pass, "{m}");

    // The order check, on the same chain with the leaf said to come from another
    // intermediate: the intermediate sent does not issue it.
    let chain_messages = |port: &iotmark_probe::PortReport| -> Vec<String> {
        iotmark_probe::observe::findings(std::slice::from_ref(port))
            .into_iter()
            .filter(|f| f.check == "probe.tls.certificate")
            .map(|f| f.message)
            .collect()
    };
    let mut misordered = open.clone();
    misordered.certificate.as_mut().unwrap().issuer = "CN=Other Intermediate".to_owned();
    let said = chain_messages(&misordered);
    assert!(
        said.iter()
            .any(|m| m.contains("does not issue the certificate before it")),
        "{said:#?}"
    );
    // A certificate between them that does not parse keeps its place: it is reported, and
    // the intermediate after it is not blamed for the leaf before it.
    let mut gap = misordered.clone();
    gap.chain.insert(
        0,
        iotmark_probe::ChainEntry::Unreadable {
            unreadable_bytes: 17,
        },
    );
    let said = chain_messages(&gap);
    assert!(
        said.iter()
            .any(|m| m.contains("certificate 2 (17 bytes) does not parse as X.509")),
        "{said:#?}"
    );
    assert!(
        !said.iter().any(|m| m.contains("does not issue")),
        "{said:#?}"
    );
}

#[test]
fn mosquitto_with_and_without_anonymous_connections_in_the_clear_and_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-keyout",
            "broker.key",
            "-out",
            "broker.pem",
            "-days",
            "30",
            "-nodes",
            "-subj",
            "/CN=broker.test",
        ],
        dir.path(),
    );
    // Run as root it would switch to the mosquitto user, who cannot read the test's key.
    let tls = format!(
        "user root\ncertfile {}\nkeyfile {}\n",
        dir.path().join("broker.pem").display(),
        dir.path().join("broker.key").display()
    );
    let (open, closed, tls_open, tls_closed) = (free_port(), free_port(), free_port(), free_port());
    let mut servers = Vec::new();
    for (port, anonymous, extra) in [
        (open, true, ""),
        (closed, false, ""),
        (tls_open, true, tls.as_str()),
        (tls_closed, false, tls.as_str()),
    ] {
        let conf = dir.path().join(format!("{port}.conf"));
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\n{extra}allow_anonymous {anonymous}\npersistence false\n"
            ),
        )
        .unwrap();
        servers.push(Server::start(
            "mosquitto",
            &["-c", conf.to_str().unwrap()],
            port,
        ));
    }
    let report = probe(&[open, closed, tls_open, tls_closed]);
    let (r, m) = result(&report, "probe.mqtt.anonymous", open).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    let (r, m) = result(&report, "probe.mqtt.anonymous", closed).unwrap();
    assert_eq!(r, ObservationResult::Pass, "{m}");
    assert!(m.contains("return code 5"), "not authorised: {m}");
    // In the clear, even the broker that asks for credentials would carry them readable.
    for port in [open, closed] {
        let (r, m) = result(&report, "probe.mqtt.plaintext", port).unwrap();
        assert_eq!(r, ObservationResult::Fail, "{m}");
    }
    assert_eq!(failed(&report, closed), ["probe.mqtt.plaintext"]);
    // Over TLS: the anonymous broker is found inside the session, its twin fails nothing.
    let (r, m) = result(&report, "probe.mqtt.anonymous", tls_open).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    assert!(m.contains("MQTT broker (over TLS)"), "{m}");
    for port in [tls_open, tls_closed] {
        let (r, m) = result(&report, "probe.mqtt.plaintext", port).unwrap();
        assert_eq!(r, ObservationResult::Pass, "{m}");
    }
    let (r, m) = result(&report, "probe.mqtt.anonymous", tls_closed).unwrap();
    assert_eq!(r, ObservationResult::Pass, "{m}");
    assert!(
        failed(&report, tls_closed).is_empty(),
        "{:?}",
        report.findings
    );
}

/// Starts lighttpd on `port` serving `root`, with `extra` configuration lines.
fn lighttpd(dir: &Path, root: &Path, port: u16, extra: &str) -> Server {
    let conf = dir.join(format!("{port}.conf"));
    std::fs::write(
        &conf,
        format!(
            "server.document-root = \"{}\"\nserver.bind = \"127.0.0.1\"\nserver.port = {port}\nserver.errorlog = \"{}/{port}.log\"\nindex-file.names = (\"index.html\")\n{extra}",
            root.display(),
            dir.display()
        ),
    )
    .unwrap();
    Server::start("lighttpd", &["-D", "-f", conf.to_str().unwrap()], port)
}

#[test]
fn lighttpd_in_the_clear_and_redirecting_to_an_https_twin_with_its_headers() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("www");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), "<h1>Camera admin</h1>").unwrap();
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-keyout",
            "web.key",
            "-out",
            "web.pem",
            "-days",
            "30",
            "-nodes",
            "-subj",
            "/CN=camera.test",
        ],
        dir.path(),
    );
    let pem = dir.path().join("web.pem");
    let key = dir.path().join("web.key");
    let (plain, redirecting, https) = (free_port(), free_port(), free_port());
    let servers = [
        lighttpd(dir.path(), &root, plain, ""),
        lighttpd(
            dir.path(),
            &root,
            redirecting,
            &format!(
                "server.modules += (\"mod_redirect\")\nurl.redirect = (\"^/(.*)\" => \"https://127.0.0.1:{https}/$1\")\n"
            ),
        ),
        lighttpd(
            dir.path(),
            &root,
            https,
            &format!(
                "server.modules += (\"mod_openssl\", \"mod_setenv\")\nssl.engine = \"enable\"\nssl.pemfile = \"{}\"\nssl.privkey = \"{}\"\nssl.openssl.ssl-conf-cmd = (\"MinProtocol\" => \"TLSv1.2\")\nsetenv.add-response-header = (\"Strict-Transport-Security\" => \"max-age=31536000\", \"Content-Security-Policy\" => \"default-src 'self'\", \"X-Frame-Options\" => \"DENY\", \"X-Content-Type-Options\" => \"nosniff\")\n",
                pem.display(),
                key.display()
            ),
        ),
    ];
    let report = probe(&[plain, redirecting, https]);
    drop(servers);
    let (r, m) = result(&report, "probe.http.plaintext-admin", plain).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    let open = report.open.iter().find(|p| p.port == plain).unwrap();
    assert!(
        open.service.describe().contains("lighttpd"),
        "{:?}",
        open.service
    );
    let (r, m) = result(&report, "probe.http.security-headers", plain).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    assert!(
        m.contains("over HTTP") && !m.contains("Strict-Transport"),
        "{m}"
    );
    let (r, m) = result(&report, "probe.http.plaintext-admin", redirecting).unwrap();
    assert_eq!(r, ObservationResult::Pass, "{m}");
    // The HTTPS twin: its headers read inside a TLS session, HSTS among them.
    let (r, m) = result(&report, "probe.http.security-headers", https).unwrap();
    assert_eq!(r, ObservationResult::Pass, "{m}");
    assert!(
        m.contains("over HTTPS") && m.contains("Strict-Transport-Security"),
        "{m}"
    );
    assert!(failed(&report, https).is_empty(), "{:?}", report.findings);
}

#[test]
fn web_logins_basic_and_digest_in_the_clear_and_over_tls_that_a_factory_password_opens_and_ones_it_does_not()
 {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("www");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), "<h1>Camera admin</h1>").unwrap();
    let mut servers = Vec::new();
    let mut ports = Vec::new();
    for method in ["basic", "digest"] {
        for password in ["admin", "Vq7-unique-per-device"] {
            let port = free_port();
            let users = dir.path().join(format!("{port}.users"));
            std::fs::write(&users, format!("admin:{password}\n")).unwrap();
            servers.push(lighttpd(
                dir.path(),
                &root,
                port,
                &format!(
                    "server.modules += (\"mod_auth\", \"mod_authn_file\")\nauth.backend = \"plain\"\nauth.backend.plain.userfile = \"{}\"\nauth.require = (\"/\" => (\"method\" => \"{method}\", \"realm\" => \"camera\", \"require\" => \"valid-user\"))\n",
                    users.display()
                ),
            ));
            ports.push((method, password == "admin", port));
        }
    }
    // The same Digest login with a factory password, behind TLS.
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-keyout",
            "web.key",
            "-out",
            "web.pem",
            "-days",
            "30",
            "-nodes",
            "-subj",
            "/CN=camera.test",
        ],
        dir.path(),
    );
    let https = free_port();
    let users = dir.path().join("https.users");
    std::fs::write(&users, "admin:admin\n").unwrap();
    servers.push(lighttpd(
        dir.path(),
        &root,
        https,
        &format!(
            "server.modules += (\"mod_openssl\", \"mod_auth\", \"mod_authn_file\")\nssl.engine = \"enable\"\nssl.pemfile = \"{}\"\nssl.privkey = \"{}\"\nauth.backend = \"plain\"\nauth.backend.plain.userfile = \"{}\"\nauth.require = (\"/\" => (\"method\" => \"digest\", \"realm\" => \"camera\", \"require\" => \"valid-user\"))\n",
            dir.path().join("web.pem").display(),
            dir.path().join("web.key").display(),
            users.display()
        ),
    ));
    let mut all: Vec<u16> = ports.iter().map(|p| p.2).collect();
    all.push(https);
    let report = probe(&all);
    let (r, m) = result(&report, "probe.http.default-credentials", https).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    assert!(
        m.contains("the HTTP Digest login at / (realm \"camera\")") && m.contains("user \"admin\""),
        "{m}"
    );
    for (method, weak, port) in ports {
        let scheme = if method == "basic" {
            "HTTP Basic"
        } else {
            "HTTP Digest"
        };
        let (r, m) = result(&report, "probe.http.default-credentials", port).unwrap();
        assert!(
            m.contains(&format!("the {scheme} login at / (realm \"camera\")")),
            "{m}"
        );
        if weak {
            assert_eq!(r, ObservationResult::Fail, "{m}");
            assert!(m.contains("user \"admin\""), "{m}");
        } else {
            assert_eq!(r, ObservationResult::Pass, "{m}");
            assert!(m.contains("refused all 12 default pairs"), "{m}");
            // lighttpd holds each failed login back about a second: guessing is slowed.
            let (r, m) = result(&report, "probe.auth.brute-force", port).unwrap();
            assert_eq!(r, ObservationResult::Pass, "{m}");
            assert!(m.contains("slows failed logins"), "{m}");
        }
    }
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.message.contains("Vq7") || f.message.contains(": admin\"")),
        "no password is reported"
    );
}

/// A device's login page: `/` shows a form posting to a CGI program, which sends the browser
/// on to the status page for the right pair and shows the form again for any other.
fn form_login_site(root: &Path, password: &str) {
    let form = "<html><body><h1>Router</h1><form method=\"post\" action=\"/cgi-bin/login.cgi\"><input type=\"hidden\" name=\"token\" value=\"k3\"><input name=\"username\"><input type=\"password\" name=\"password\"><input type=\"submit\"></form></body></html>";
    std::fs::create_dir_all(root.join("cgi-bin")).unwrap();
    std::fs::write(root.join("index.html"), form).unwrap();
    std::fs::write(
        root.join("cgi-bin/login.cgi"),
        format!(
            "body=\"&$(head -c \"${{CONTENT_LENGTH:-0}}\")&\"\ncase \"$body\" in *'&username=admin&'*)\n  case \"$body\" in *'&password={password}&'*)\n    printf 'Status: 302 Found\\r\\nLocation: /status.html\\r\\nSet-Cookie: session=1\\r\\n\\r\\n'; exit 0;;\n  esac;;\nesac\nprintf 'Content-Type: text/html\\r\\n\\r\\n%s' '{form}'\n"
        ),
    )
    .unwrap();
}

#[test]
fn a_login_form_that_a_factory_password_opens_and_one_it_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let (weak, strong) = (free_port(), free_port());
    let mut servers = Vec::new();
    for (port, password, headers) in [
        (weak, "admin", ""),
        (
            strong,
            "Vq7-unique-per-device",
            "server.modules += (\"mod_setenv\")\nsetenv.add-response-header = (\"Content-Security-Policy\" => \"default-src 'self'; frame-ancestors 'none'\", \"X-Content-Type-Options\" => \"nosniff\")\n",
        ),
    ] {
        let root = dir.path().join(format!("www{port}"));
        form_login_site(&root, password);
        servers.push(lighttpd(
            dir.path(),
            &root,
            port,
            &format!(
                "server.modules += (\"mod_cgi\")\ncgi.assign = (\".cgi\" => \"/bin/sh\")\n{headers}"
            ),
        ));
    }
    let report = probe(&[weak, strong]);
    let (r, m) = result(&report, "probe.http.default-credentials", weak).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    assert!(
        m.contains("the login form at / (posting to /cgi-bin/login.cgi)")
            && m.contains("user \"admin\""),
        "{m}"
    );
    let (r, m) = result(&report, "probe.http.default-credentials", strong).unwrap();
    assert_eq!(r, ObservationResult::Pass, "{m}");
    assert!(m.contains("refused all 12 default pairs"), "{m}");
    // Security headers: none on the first, all on its twin.
    let (r, m) = result(&report, "probe.http.security-headers", weak).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    assert!(
        m.contains("Content-Security-Policy") && m.contains("nosniff"),
        "{m}"
    );
    let (r, m) = result(&report, "probe.http.security-headers", strong).unwrap();
    assert_eq!(r, ObservationResult::Pass, "{m}");
}

/// Starts `command` (a shell command line) in a mount namespace of its own where /etc/passwd
/// and /etc/shadow are ours: `user` (uid 0) with `password`, for that process tree only.
fn with_account(dir: &Path, user: &str, password: &str, command: &str, port: u16) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("passwd"),
        format!("{user}:x:0:0:{user}:/:/bin/sh\n"),
    )
    .unwrap();
    let hash = Command::new("openssl")
        .args(["passwd", "-6", "-salt", "iotmarkprobe", password])
        .output()
        .unwrap();
    let hash = String::from_utf8(hash.stdout).unwrap();
    std::fs::write(
        dir.join("shadow"),
        format!("{user}:{}:19000:0:99999:7:::\n", hash.trim()),
    )
    .unwrap();
    let script = format!(
        "mount --bind {d}/passwd /etc/passwd && mount --bind {d}/shadow /etc/shadow && exec {command}",
        d = dir.display(),
    );
    Server::start(
        "unshare",
        &["-m", "--propagation", "private", "sh", "-c", &script],
        port,
    )
}

/// Debian's busybox telnetd, its login reading our passwd and shadow.
fn telnetd(dir: &Path, port: u16, password: &str) -> Server {
    let busybox = tools().join("busybox-static/bin/busybox");
    assert!(
        busybox.exists(),
        "busybox-static is not unpacked: run `bash scripts/probe-peers.sh --install`"
    );
    std::fs::create_dir_all(dir).unwrap();
    std::os::unix::fs::symlink(&busybox, dir.join("login")).unwrap();
    let command = format!(
        "{b} telnetd -F -b 127.0.0.1:{port} -l {d}/login",
        d = dir.display(),
        b = busybox.display()
    );
    with_account(dir, "admin", password, &command, port)
}

#[test]
fn busybox_telnetd_with_a_factory_password_and_with_a_unique_one() {
    let dir = tempfile::tempdir().unwrap();
    let (weak, strong) = (free_port(), free_port());
    let _weak = telnetd(&dir.path().join("weak"), weak, "admin");
    let _strong = telnetd(&dir.path().join("strong"), strong, "Vq7-unique-per-device");
    let report = iotmark_probe::probe(
        "127.0.0.1",
        LOCALHOST,
        &[weak, strong],
        &iotmark_probe::http::default_credentials(),
        &Limits::new(
            Duration::from_secs(2),
            Duration::from_millis(1500),
            500,
            Duration::from_secs(120),
        ),
        &|_, _, _| {},
    );
    for port in [weak, strong] {
        let (r, m) = result(&report, "probe.telnet.open", port).unwrap();
        assert_eq!(r, ObservationResult::Fail, "{m}");
    }
    let (r, m) = result(&report, "probe.auth.default-credentials", weak).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    assert!(m.contains("logged in as \"admin\""), "{m}");
    let (r, m) = result(&report, "probe.auth.default-credentials", strong).unwrap();
    assert_eq!(r, ObservationResult::Pass, "{m}");
    assert!(m.contains("refused all 12 default pairs"), "{m}");
}

/// A dropbear host key made for the test, and its public key as `dropbearkey -y` prints it
/// (`ssh-ed25519 AAAA… comment`).
fn dropbear_key(dir: &Path) -> (PathBuf, String) {
    let key = dir.join("ed25519");
    let status = Command::new("dropbearkey")
        .args(["-t", "ed25519", "-f", key.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("dropbearkey must be installed (Debian dropbear-bin)");
    assert!(status.success());
    let out = Command::new("dropbearkey")
        .args(["-y", "-f", key.to_str().unwrap()])
        .output()
        .unwrap();
    let public = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("ssh-ed25519 "))
        .unwrap()
        .to_owned();
    (key, public)
}

/// The SHA-256 of an OpenSSH public key line's blob, in hex.
fn blob_sha256(public: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let blob = base64::engine::general_purpose::STANDARD
        .decode(public.split_whitespace().nth(1).unwrap())
        .unwrap();
    sha2::Sha256::digest(&blob)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn dropbear_with_a_default_root_password() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = dropbear_key(dir.path());
    let port = free_port();
    let command = format!("dropbear -F -E -p 127.0.0.1:{port} -r {}", key.display());
    let _server = with_account(&dir.path().join("etc"), "root", "root", &command, port);
    let report = probe(&[port]);
    let login = report.open[0].ssh_login.as_ref().unwrap();
    assert!(login.takes_passwords(), "{login:?}");
    assert_eq!(login.opened_by.as_deref(), Some("root"), "{login:?}");
    // Pairs go user by user (a server takes one user name per connection): the six admin
    // pairs were refused first, then root:root opened it.
    assert_eq!(login.tried, 7, "{login:?}");
    let (r, m) = result(&report, "probe.auth.default-credentials", port).unwrap();
    assert_eq!(r, ObservationResult::Fail, "{m}");
    assert!(m.contains("logged in as \"root\""), "{m}");
    // The host key the server proved it holds is the one made for it.
    let host_key = login.host_key.as_ref().unwrap();
    assert_eq!(host_key.algorithm, "ssh-ed25519");
    assert_eq!(host_key.sha256, blob_sha256(&public));
}

#[test]
fn dropbear_offers_its_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = dropbear_key(dir.path());
    let port = free_port();
    let _server = Server::start(
        "dropbear",
        &[
            "-F",
            "-E",
            "-s",
            "-p",
            &format!("127.0.0.1:{port}"),
            "-r",
            key.to_str().unwrap(),
        ],
        port,
    );
    let report = probe(&[port]);
    let open = &report.open[0];
    let ssh = open.ssh.as_ref().unwrap();
    assert!(ssh.banner.starts_with("SSH-2.0-dropbear"), "{ssh:?}");
    assert!(ssh.host_keys.iter().any(|k| k == "ssh-ed25519"), "{ssh:?}");
    assert!(
        ssh.kex.iter().any(|k| k.starts_with("curve25519-sha256")),
        "{ssh:?}"
    );
    // It still offers RSA signatures with SHA-1, which ssh-audit flags too.
    let (r, m) = result(&report, "probe.ssh.weak-algorithms", port).unwrap();
    assert_eq!(
        r == ObservationResult::Fail,
        !ssh.weak.is_empty() || ssh.terrapin,
        "{m}"
    );
    if ssh.host_keys.iter().any(|k| k == "ssh-rsa") {
        assert!(m.contains("ssh-rsa (RSA signatures with SHA-1)"), "{m}");
    }
    // The same algorithms as ssh-audit.
    let out = Command::new(peer("ssh-audit"))
        .args(["-j", "-p", &port.to_string(), "127.0.0.1"])
        .output()
        .unwrap();
    let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = |key: &str| -> Vec<String> {
        audit[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["algorithm"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ssh.kex, names("kex"));
    assert_eq!(ssh.host_keys, names("key"));
    assert_eq!(ssh.ciphers, names("enc"));
    assert_eq!(ssh.macs, names("mac"));
    assert_eq!(audit["banner"]["raw"], ssh.banner.as_str());
    // Debian's dropbear carries the strict key exchange fix.
    assert_eq!(
        ssh.terrapin,
        !ssh.kex.iter().any(|k| k == "kex-strict-s-v00@openssh.com")
            && ssh.ciphers.iter().any(|c| c.starts_with("chacha20"))
    );
    // With keys only (-s), no password is tried, and the host key is still read.
    let login = open.ssh_login.as_ref().unwrap();
    assert!(!login.takes_passwords(), "{login:?}");
    assert_eq!(login.tried, 0);
    assert_eq!(
        login.host_key.as_ref().unwrap().sha256,
        blob_sha256(&public)
    );
    let (r, m) = result(&report, "probe.auth.default-credentials", port).unwrap();
    assert_eq!(r, ObservationResult::Pass, "{m}");
    assert!(
        m.contains("takes no passwords (it offers publickey)"),
        "{m}"
    );
}

/// A peer that misbehaves in its own way on each connection.
fn hostile(behaviour: fn(std::net::TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behaviour(stream));
        }
    });
    port
}

#[test]
fn hostile_peers_neither_hang_nor_crash_the_probe() {
    let garbage = hostile(|mut s| {
        let _ = s.write_all(b"\x00\xff\xfe\x16\x03\x03\x7f\xff garbage \x1b[2J\r\n");
    });
    let endless = hostile(|mut s| {
        let chunk = [b'A'; 4096];
        while s.write_all(&chunk).is_ok() {}
    });
    let trickle = hostile(|mut s| {
        for _ in 0..600 {
            if s.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let silent = hostile(|s| {
        std::thread::sleep(Duration::from_secs(60));
        drop(s);
    });
    // A TLS server that answers every hello with an endless handshake record stream.
    let tls_flood = hostile(|mut s| {
        let mut record = vec![22, 3, 3, 0x40, 0x00];
        record.extend_from_slice(&[0u8; 0x4000]);
        while s.write_all(&record).is_ok() {}
    });
    // A TLS server whose certificate message announces 16 MB and never ends.
    let oversized_certificate = hostile(|mut s| {
        let mut hello = [0u8; 512];
        if s.read(&mut hello).unwrap_or(0) == 0 {
            return;
        }
        let mut server_hello = vec![2, 0, 0, 38, 3, 3];
        server_hello.extend_from_slice(&[7u8; 32]);
        server_hello.extend_from_slice(&[0, 0x00, 0x2f, 0]);
        let mut flight = vec![22, 3, 3, 0, server_hello.len() as u8];
        flight.extend_from_slice(&server_hello);
        // Certificate: 0xfffff0 bytes announced, one certificate of nearly as many.
        flight.extend_from_slice(&[22, 3, 3, 0x40, 0x00, 11, 0xff, 0xff, 0xf0, 0xff, 0xff, 0xed]);
        flight.extend_from_slice(&[0xff, 0xff, 0xea, 0x30, 0x83, 0xff, 0xff, 0xe6]);
        flight.extend_from_slice(&[0x41; 0x4000 - 15]);
        if s.write_all(&flight).is_err() {
            return;
        }
        let mut record = vec![22, 3, 3, 0x40, 0x00];
        record.extend_from_slice(&[0x41; 0x4000]);
        while s.write_all(&record).is_ok() {}
    });
    // An SSH server that names itself, then trickles one byte every 100 ms.
    let ssh_trickle = hostile(|mut s| {
        if s.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n").is_err() {
            return;
        }
        for _ in 0..600 {
            if s.write_all(b"\x00").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    // A web login whose Digest challenge never ends.
    let endless_challenge = hostile(|mut s| {
        let mut request = [0u8; 1024];
        let _ = s.read(&mut request);
        let _ = s.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"",
        );
        let chunk = [b'n'; 4096];
        while s.write_all(&chunk).is_ok() {}
    });
    let limits = Limits::new(
        Duration::from_millis(500),
        Duration::from_millis(400),
        500,
        Duration::from_secs(60),
    );
    let ports = [
        garbage,
        endless,
        trickle,
        silent,
        tls_flood,
        oversized_certificate,
        ssh_trickle,
        endless_challenge,
    ];
    let report = iotmark_probe::probe(
        "127.0.0.1",
        LOCALHOST,
        &ports,
        &iotmark_probe::http::default_credentials(),
        &limits,
        &|_, _, _| {},
    );
    assert_eq!(report.open.len(), ports.len(), "{report:#?}");
    assert!(
        report.not_probed.is_empty(),
        "every port was examined in time: {report:#?}"
    );
    let service = |port: u16| {
        report
            .open
            .iter()
            .find(|p| p.port == port)
            .unwrap()
            .service
            .name()
    };
    assert_eq!(service(garbage), "unknown");
    assert_eq!(service(endless), "unknown");
    assert_eq!(service(trickle), "unknown");
    assert_eq!(service(silent), "silent");
    // No finding claims anything about a service that was not understood.
    let misunderstood = [garbage, endless, trickle, silent, tls_flood];
    assert!(
        report
            .findings
            .iter()
            .filter(|f| misunderstood.contains(&f.port))
            .all(|f| f.check == "probe.ports.open"),
        "{:?}",
        report.findings
    );
    // The oversized certificate is never taken for one; the trickling SSH server yields no
    // algorithms and no login; the endless challenge opens nothing.
    let open = |port: u16| report.open.iter().find(|p| p.port == port).unwrap();
    // Each was still recognised for what it claimed to be.
    assert_eq!(service(oversized_certificate), "tls");
    assert_eq!(service(ssh_trickle), "ssh");
    assert_eq!(service(endless_challenge), "http");
    assert!(open(oversized_certificate).certificate.is_none());
    assert!(open(ssh_trickle).ssh_login.is_none());
    assert!(
        open(endless_challenge)
            .logins
            .iter()
            .all(|l| l.opened_by.is_none())
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.result == ObservationResult::Fail && f.check.contains("credentials")),
        "{:?}",
        report.findings
    );
}
