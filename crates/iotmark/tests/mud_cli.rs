//! `iotmark mud`: the MUD file of the example camera, checked against RFC 8520's YANG
//! modules by libyang's `yanglint` (Debian's libyang2-tools), and its signature by OpenSSL.
//! The YANG modules are kept verbatim in tests/data/mud-yang (sources in SOURCE.md there).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;
use serde_json::Value;

const URL: &str = "https://mud.acme.example/sc-200.json";

fn yang() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mud-yang")
}

/// yanglint's verdict on a MUD file: Ok, or its error text.
fn yanglint(file: &Path) -> Result<(), String> {
    let dir = yang();
    let out = Std::new("yanglint")
        .arg("-p")
        .arg(&dir)
        .arg(dir.join("ietf-mud@2019-01-28.yang"))
        .arg(dir.join("ietf-acldns@2019-01-28.yang"))
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run yanglint: {e} (install the Debian package libyang2-tools)")
        });
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The example declaration with the cloud endpoints the camera connects to.
fn declaration(dir: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(common::repo().join("examples/acme-securecam/declaration.yaml"))
            .unwrap();
    let text = text.replace(
        "  radios: [wifi, bluetooth-le]\n",
        "  radios: [wifi, bluetooth-le]\n  cloud:\n    - {host: api.acme.example, port: 443, transport: tcp, protocol: https, purpose: the app's API}\n    - {host: time.acme.example, port: 123, transport: udp, protocol: ntp}\n",
    );
    assert!(
        text.contains("time.acme.example"),
        "the example changed shape"
    );
    let path = dir.join("product.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn iotmark(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("iotmark").unwrap();
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

/// Every access-control entry of the file, with the list it is in.
fn entries(mud: &Value) -> Vec<(String, Value)> {
    mud["ietf-access-control-list:acls"]["acl"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|acl| {
            let name = acl["name"].as_str().unwrap().to_owned();
            acl["aces"]["ace"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |ace| (name.clone(), ace.clone()))
        })
        .collect()
}

#[test]
fn the_mud_file_allows_what_is_declared_and_passes_the_rfc_yang() {
    let dir = tempfile::tempdir().unwrap();
    let decl = declaration(dir.path());
    let stdout = iotmark(dir.path())
        .args([
            "mud",
            "product.yaml",
            "--url",
            URL,
            "-o",
            "mud.json",
            "--date",
            "2026-12-05",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(
        stdout.contains("12 access-control entries, is-supported: true"),
        "{stdout}"
    );
    let path = dir.path().join("mud.json");
    yanglint(&path).unwrap();
    let mud: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(mud["ietf-mud:mud"]["mud-url"], URL);
    assert_eq!(mud["ietf-mud:mud"]["mfg-name"], "Acme Devices Ltd");
    let all = entries(&mud);
    // The device opens connections to its two endpoints, over IPv4 and IPv6, and to
    // nothing else.
    let mut opened: Vec<(String, u64)> = all
        .iter()
        .filter(|(acl, _)| acl.ends_with("fr"))
        .filter_map(|(_, ace)| {
            let m = &ace["matches"];
            let host = m["ipv4"]["ietf-acldns:dst-dnsname"]
                .as_str()
                .or(m["ipv6"]["ietf-acldns:dst-dnsname"].as_str())?;
            let port = m["tcp"]["destination-port"]["port"]
                .as_u64()
                .or(m["udp"]["destination-port"]["port"].as_u64())?;
            Some((host.to_owned(), port))
        })
        .collect();
    opened.sort();
    assert_eq!(
        opened,
        [
            ("api.acme.example".to_owned(), 443),
            ("api.acme.example".to_owned(), 443),
            ("time.acme.example".to_owned(), 123),
            ("time.acme.example".to_owned(), 123),
        ]
    );
    // The camera's RTSP service (LAN) is reachable from the local networks only; the
    // cloud backend's service is not the device's and is absent.
    let inbound: Vec<&Value> = all
        .iter()
        .filter(|(acl, ace)| {
            acl.ends_with("to") && ace["matches"]["tcp"]["destination-port"]["port"] == 322
        })
        .map(|(_, ace)| ace)
        .collect();
    assert_eq!(inbound.len(), 2);
    for ace in inbound {
        assert_eq!(
            ace["matches"]["ietf-mud:mud"]["local-networks"],
            serde_json::json!([null])
        );
        assert_eq!(
            ace["matches"]["tcp"]["ietf-mud:direction-initiated"],
            "to-device"
        );
    }
    assert!(!all.iter().any(
        |(_, ace)| ace["matches"]["tcp"]["destination-port"]["port"] == 443
            && ace["matches"]["ipv4"]["ietf-acldns:dst-dnsname"].is_null()
            && ace["matches"]["ipv6"]["ietf-acldns:dst-dnsname"].is_null()
    ));
    // yanglint is not vacuous here: the same file with a wrong type is refused.
    let mut bad = mud.clone();
    bad["ietf-mud:mud"]["cache-validity"] = "48".into();
    let bad_path = dir.path().join("bad.json");
    std::fs::write(&bad_path, serde_json::to_vec(&bad).unwrap()).unwrap();
    let refused = yanglint(&bad_path).unwrap_err();
    assert!(refused.contains("\"48\""), "{refused}");
    drop(decl);
}

#[test]
fn support_ends_on_the_declared_day() {
    let dir = tempfile::tempdir().unwrap();
    declaration(dir.path());
    // The example's support ends on 2029-12-31: the day after, the product is still
    // described, as unsupported.
    let stdout = iotmark(dir.path())
        .args([
            "mud",
            "product.yaml",
            "--url",
            URL,
            "-o",
            "mud.json",
            "--date",
            "2030-01-01",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(stdout.contains("is-supported: false"), "{stdout}");
    let mud: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("mud.json")).unwrap()).unwrap();
    assert_eq!(mud["ietf-mud:mud"]["is-supported"], false);
    yanglint(&dir.path().join("mud.json")).unwrap();
}

#[test]
fn the_signed_mud_file_verifies_with_openssl_and_a_changed_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    declaration(dir.path());
    let openssl = |args: &[&str]| {
        let out = Std::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "ca.key",
    ]);
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/CN=Acme Root",
        "-days",
        "30",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "signer.key",
    ]);
    openssl(&[
        "req",
        "-new",
        "-key",
        "signer.key",
        "-subj",
        "/O=Acme/CN=Acme MUD signer",
        "-out",
        "signer.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "signer.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-days",
        "30",
        "-set_serial",
        "7",
        "-out",
        "signer.pem",
    ]);
    let out = iotmark(dir.path())
        .args([
            "mud",
            "product.yaml",
            "--url",
            URL,
            "-o",
            "sc-200.json",
            "--sign-key",
            "signer.key",
            "--sign-cert",
            "signer.pem",
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        summary["signature_url"],
        "https://mud.acme.example/sc-200.p7s"
    );
    let mud: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("sc-200.json")).unwrap()).unwrap();
    assert_eq!(
        mud["ietf-mud:mud"]["mud-signature"],
        "https://mud.acme.example/sc-200.p7s"
    );
    let verify = |content: &str| {
        Std::new("openssl")
            .args([
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                "sc-200.p7s",
                "-content",
                content,
                "-CAfile",
                "ca.pem",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ])
            .current_dir(dir.path())
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(verify("sc-200.json"));
    let mut changed = std::fs::read(dir.path().join("sc-200.json")).unwrap();
    let at = changed.windows(3).position(|w| w == b"443").unwrap();
    changed[at + 2] = b'4';
    std::fs::write(dir.path().join("changed.json"), changed).unwrap();
    assert!(!verify("changed.json"), "a changed port still verified");
}

#[test]
fn bad_requests_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    declaration(dir.path());
    let refused = iotmark(dir.path())
        .args([
            "mud",
            "product.yaml",
            "--url",
            "http://mud.acme.example/x.json",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("https"), "{stderr}");
    // Signing needs the file the signature covers.
    iotmark(dir.path())
        .args([
            "mud",
            "product.yaml",
            "--url",
            URL,
            "--sign-key",
            "k.pem",
            "--sign-cert",
            "c.pem",
        ])
        .assert()
        .code(2);
    let text = std::fs::read_to_string(dir.path().join("product.yaml"))
        .unwrap()
        .replace(
            "host: api.acme.example",
            "host: https://api.acme.example/v1",
        );
    std::fs::write(dir.path().join("product.yaml"), text).unwrap();
    let refused = iotmark(dir.path())
        .args(["mud", "product.yaml", "--url", URL])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("interfaces.cloud[0].host"), "{stderr}");
    assert!(stderr.contains("a DNS host name such as"), "{stderr}");
}
