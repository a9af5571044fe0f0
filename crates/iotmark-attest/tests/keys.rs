#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use iotmark_attest::keys::{FileSigner, KeyError, PublicKey, Signer, generate_key_files};

#[test]
fn generated_private_key_is_owner_only_and_the_files_agree() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("acme");
    let generated = generate_key_files(&stem, "acme.example").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&generated.private_key)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "private key mode is {mode:o}");
    }
    let signer = FileSigner::load(&generated.private_key).unwrap();
    let from_pem = PublicKey::load(&generated.public_key).unwrap();
    let from_vkey = PublicKey::load(&generated.verifier_key_file).unwrap();
    assert_eq!(signer.public_key(), from_pem);
    assert_eq!(from_pem, from_vkey);
    assert_eq!(signer.key_id(), generated.key_id);
    assert!(generated.verifier_key.starts_with("acme.example+"));

    let sig = signer.sign(b"hello").unwrap();
    assert!(from_pem.verify(b"hello", &sig));
    assert!(!from_pem.verify(b"hellO", &sig));
}

#[test]
fn generating_never_overwrites_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("k");
    generate_key_files(&stem, "k").unwrap();
    let before = std::fs::read(dir.path().join("k.key")).unwrap();
    let err = generate_key_files(&stem, "k").unwrap_err();
    assert!(matches!(err, KeyError::Exists { .. }), "{err}");
    assert!(err.to_string().contains("refusing to overwrite"));
    assert_eq!(std::fs::read(dir.path().join("k.key")).unwrap(), before);
}

#[test]
fn two_generated_keys_differ() {
    let a = FileSigner::generate().unwrap().public_key();
    let b = FileSigner::generate().unwrap().public_key();
    assert_ne!(a, b);
}

#[test]
fn a_public_key_file_of_the_wrong_kind_says_what_was_expected() {
    let err = PublicKey::parse("ssh-ed25519 AAAA", "k.pub")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("k.pub") && err.contains("BEGIN PUBLIC KEY"),
        "{err}"
    );
    let err = FileSigner::from_pkcs8_pem(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "k.key",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("k.key") && err.contains("PKCS#8"), "{err}");
}

/// OpenSSL reads our key files and we read its: same public key both ways.
#[test]
fn key_files_interoperate_with_openssl() {
    use std::process::Command;
    let dir = tempfile::tempdir().unwrap();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("openssl is needed (apt-get install openssl; scripts/test.sh installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let ours = generate_key_files(&dir.path().join("ours"), "ours").unwrap();
    let public = openssl(&["pkey", "-in", "ours.key", "-pubout"]);
    assert_eq!(public, std::fs::read_to_string(&ours.public_key).unwrap());

    openssl(&["genpkey", "-algorithm", "ed25519", "-out", "theirs.key"]);
    openssl(&["pkey", "-in", "theirs.key", "-pubout", "-out", "theirs.pub"]);
    let signer = FileSigner::load(&dir.path().join("theirs.key")).unwrap();
    assert_eq!(
        signer.public_key(),
        PublicKey::load(&dir.path().join("theirs.pub")).unwrap()
    );
}
