//! Our detached CMS signatures, checked by an implementation we did not write: OpenSSL's
//! `cms -verify` against the issuing CA, for ECDSA P-256 and RSA signers with a chain, and
//! refused once the content changes by one byte.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use iotmark_attest::cms::{CmsError, sign_detached};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e} (install the Debian package openssl)"));
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, an intermediate and a signer under it, the signer's key made by `keygen`.
fn pki(dir: &Path, keygen: &[&str]) {
    std::fs::write(
        dir.join("ca.ext"),
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("leaf.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    for (name, subject) in [("ca", "/CN=Acme Root"), ("int", "/CN=Acme MUD CA")] {
        openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &format!("{name}.key"),
            ],
        );
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                &format!("{name}.key"),
                "-subj",
                subject,
                "-out",
                &format!("{name}.csr"),
            ],
        );
    }
    openssl(
        dir,
        &[
            "x509", "-req", "-in", "ca.csr", "-signkey", "ca.key", "-days", "30", "-extfile",
            "ca.ext", "-out", "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "int.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-days",
            "30",
            "-extfile",
            "ca.ext",
            "-set_serial",
            "2",
            "-out",
            "int.pem",
        ],
    );
    let mut args = keygen.to_vec();
    args.extend(["-out", "signer.key"]);
    openssl(dir, &args);
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "signer.key",
            "-subj",
            "/O=Acme/CN=Acme MUD signer",
            "-out",
            "signer.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "signer.csr",
            "-CA",
            "int.pem",
            "-CAkey",
            "int.key",
            "-days",
            "30",
            "-extfile",
            "leaf.ext",
            "-set_serial",
            "0x1234567890abcdef1234",
            "-out",
            "signer.pem",
        ],
    );
}

fn verify(dir: &Path, content: &str) -> bool {
    Command::new("openssl")
        .args([
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            "mud.p7s",
            "-content",
            content,
            "-CAfile",
            "ca.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ])
        .current_dir(dir)
        .output()
        .unwrap()
        .status
        .success()
}

fn sign_and_check(keygen: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    pki(dir.path(), keygen);
    let content = br#"{"ietf-mud:mud":{"mud-version":1}}"#;
    std::fs::write(dir.path().join("mud.json"), content).unwrap();
    let key = std::fs::read_to_string(dir.path().join("signer.key")).unwrap();
    // The signer's certificate first, then the intermediate that issued it.
    let chain = std::fs::read_to_string(dir.path().join("signer.pem")).unwrap()
        + &std::fs::read_to_string(dir.path().join("int.pem")).unwrap();
    let p7s = sign_detached(
        content,
        &key,
        "signer.key",
        &chain,
        "chain.pem",
        jiff::Timestamp::now(),
    )
    .unwrap();
    std::fs::write(dir.path().join("mud.p7s"), &p7s).unwrap();
    assert!(
        verify(dir.path(), "mud.json"),
        "OpenSSL refused our signature"
    );
    // One byte changed: OpenSSL refuses it.
    std::fs::write(
        dir.path().join("changed.json"),
        br#"{"ietf-mud:mud":{"mud-version":2}}"#,
    )
    .unwrap();
    assert!(!verify(dir.path(), "changed.json"));
}

#[test]
fn openssl_verifies_an_ecdsa_p256_signature_through_the_chain() {
    sign_and_check(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
    ]);
}

#[test]
fn openssl_verifies_an_rsa_signature_through_the_chain() {
    sign_and_check(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
    ]);
}

#[test]
fn a_key_of_another_certificate_or_an_ed25519_key_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    pki(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ],
    );
    let other = std::fs::read_to_string(dir.path().join("int.key")).unwrap();
    let cert = std::fs::read_to_string(dir.path().join("signer.pem")).unwrap();
    let now = jiff::Timestamp::now();
    let err = sign_detached(b"x", &other, "int.key", &cert, "signer.pem", now).unwrap_err();
    assert!(matches!(err, CmsError::Mismatch { .. }), "{err}");
    openssl(
        dir.path(),
        &["genpkey", "-algorithm", "ed25519", "-out", "ed.key"],
    );
    let ed = std::fs::read_to_string(dir.path().join("ed.key")).unwrap();
    let err = sign_detached(b"x", &ed, "ed.key", &cert, "signer.pem", now).unwrap_err();
    assert!(err.to_string().contains("Ed25519"), "{err}");
    assert!(err.to_string().contains("ec_paramgen_curve:P-256"), "{err}");
    let err = sign_detached(b"x", "not a key", "k.pem", &cert, "signer.pem", now).unwrap_err();
    assert!(err.to_string().contains("k.pem"), "{err}");
}
