//! Signed notes and checkpoints against published vectors.
//!
//! * Key pair, expected signature and malformed-note cases: golang/mod `sumdb/note/note_test.go`
//!   (keys listed in ../shared/reference/trust-and-registry.md §1.7 "Go sumdb signed note").
//! * Checkpoint text example: C2SP `tlog-checkpoint.md` (§1.2 of the same file).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use iotmark_log::checkpoint::{self, Checkpoint, CheckpointError};
use iotmark_log::note::{self, Note, NoteError, NoteSigner, NoteVerifier};

const SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

#[test]
fn go_sumdb_keys_parse_and_signing_is_bit_exact() {
    let signer = NoteSigner::parse(SKEY).unwrap();
    let verifier = NoteVerifier::parse(VKEY).unwrap();
    assert_eq!(signer.verifier(), verifier);
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(verifier.to_string(), VKEY);
    assert_eq!(signer.to_key_string(), SKEY);
    let signed = note::sign(TEXT, &[&signer]).unwrap();
    assert_eq!(signed, format!("{TEXT}\n{PETER_SIG}"));
}

#[test]
fn open_ignores_unknown_keys_and_needs_one_trusted_signature() {
    let peter = NoteVerifier::parse(VKEY).unwrap();
    let enoch = NoteVerifier::parse(ENOCH).unwrap();
    let msg = format!("{TEXT}\n{PETER_SIG}{ENOCH_SIG}");
    let n = note::open(msg.as_bytes(), std::slice::from_ref(&peter)).unwrap();
    assert_eq!(n.text, TEXT);
    assert_eq!(n.verified.len(), 1);
    assert_eq!(n.unverified.len(), 1);
    let n = note::open(msg.as_bytes(), &[peter.clone(), enoch]).unwrap();
    assert_eq!(n.verified.len(), 2);
    assert_eq!(
        note::open(msg.as_bytes(), &[]).unwrap_err().to_string(),
        "no signature by a trusted key (signed by: PeterNeumann+c74f20a3, EnochRoot+af0cfe78)"
    );
    // A damaged signature by a trusted key rejects the whole note.
    let bad = format!("{TEXT}\n{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    assert_eq!(
        note::open(bad.as_bytes(), &[peter]).unwrap_err(),
        NoteError::InvalidSignature {
            name: "PeterNeumann".into(),
            key_id: 0xc74f20a3
        }
    );
}

#[test]
fn malformed_notes_from_the_go_tests_are_refused_precisely() {
    let peter = NoteVerifier::parse(VKEY).unwrap();
    let cases: Vec<(String, NoteError)> = vec![
        (TEXT.to_owned(), NoteError::NoSignatureBlock),
        (
            format!("{TEXT}\n"),
            NoteError::BadSignatureLine {
                line: 4,
                reason: "expected at least one signature line after the blank line".into(),
            },
        ),
        (
            format!("{TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]),
            NoteError::NoFinalNewline,
        ),
        (
            format!("\x01{TEXT}\n{PETER_SIG}"),
            NoteError::ControlCharacter { line: 1, code: 1 },
        ),
    ];
    for (msg, want) in cases {
        assert_eq!(
            note::open(msg.as_bytes(), std::slice::from_ref(&peter)).unwrap_err(),
            want,
            "{msg:?}"
        );
    }
    let mut not_utf8 = b"\xff".to_vec();
    not_utf8.extend_from_slice(format!("{TEXT}\n{PETER_SIG}").as_bytes());
    assert_eq!(
        Note::parse(&not_utf8).unwrap_err(),
        NoteError::NotUtf8 { offset: 0 }
    );
    let bad_name = format!(
        "{TEXT}\n\u{2014} Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    );
    assert!(matches!(
        Note::parse(bad_name.as_bytes()),
        Err(NoteError::BadSignatureLine { line: 4, .. })
    ));
    let extra = format!("{TEXT}\n{PETER_SIG}Unexpected line.\n");
    let err = Note::parse(extra.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, NoteError::BadSignatureLine { line: 5, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "line 5: a signature line must start with an em dash (U+2014) and a space"
    );
    let many = format!("{TEXT}\n{}", PETER_SIG.repeat(101));
    assert_eq!(
        Note::parse(many.as_bytes()).unwrap_err(),
        NoteError::TooManySignatures { count: 101 }
    );
    // 16 signatures must be accepted (signed-note v1.0.0).
    let sixteen = format!("{TEXT}\n{}", PETER_SIG.repeat(16));
    assert_eq!(
        note::open(sixteen.as_bytes(), &[peter])
            .unwrap()
            .verified
            .len(),
        1
    );
}

/// As in the Go tests: every proper substring and every single-byte increment of a key string
/// is refused.
#[test]
fn mangled_key_strings_are_refused() {
    for (key, parse) in [
        (
            VKEY,
            (|s: &str| NoteVerifier::parse(s).is_ok()) as fn(&str) -> bool,
        ),
        (SKEY, |s: &str| NoteSigner::parse(s).is_ok()),
    ] {
        let b = key.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if i == 0 && j == b.len() {
                    continue;
                }
                let s = String::from_utf8_lossy(&b[i..j]);
                assert!(!parse(&s), "{s:?} accepted");
            }
        }
        for i in 0..b.len() {
            let mut m = b.to_vec();
            m[i] = m[i].wrapping_add(1);
            let s = String::from_utf8_lossy(&m);
            assert!(!parse(&s), "{s:?} accepted");
        }
    }
    // Wrong key length with an adjusted key ID, and an unknown algorithm (Go test cases).
    assert!(
        NoteVerifier::parse(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
        .is_err()
    );
    let err =
        NoteVerifier::parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .unwrap_err();
    assert!(
        err.to_string()
            .contains("signature type 0x65 is not supported"),
        "{err}"
    );
}

#[test]
fn generated_keys_round_trip() {
    let s = NoteSigner::generate("example.com/log").unwrap();
    let again = NoteSigner::parse(&s.to_key_string()).unwrap();
    assert_eq!(again.verifier(), s.verifier());
    assert_eq!(
        NoteVerifier::parse(&s.verifier().to_string()).unwrap(),
        s.verifier()
    );
    assert!(!format!("{s:?}").contains(&s.to_key_string()[20..]));
}

/// The example checkpoint text in C2SP tlog-checkpoint.md.
#[test]
fn the_spec_example_checkpoint_body_parses_and_round_trips() {
    let body =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    let cp = Checkpoint::parse_body(body).unwrap();
    assert_eq!(cp.origin, "example.com/behind-the-sofa");
    assert_eq!(cp.size, 20_852_163);
    assert_eq!(cp.body(), body);
    let note = format!(
        "{body}\n\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    );
    let parsed = Note::parse(note.as_bytes()).unwrap();
    assert_eq!(parsed.text, body);
    assert_eq!(parsed.to_text(), note);
}

#[test]
fn checkpoint_bodies_are_parsed_strictly() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let cases = [
        (format!("o\n01\n{root}\n"), 2, "tree size"),
        (format!("o\n-1\n{root}\n"), 2, "tree size"),
        (format!("o\n18446744073709551616\n{root}\n"), 2, "tree size"),
        ("o\n1\nAAAA\n".to_owned(), 3, "root hash"),
        ("o\n1\nnot base64!\n".to_owned(), 3, "root hash"),
        (format!("\n1\n{root}\n"), 1, "origin"),
        (format!("o\n1\n{root}\n\n"), 4, "extension"),
    ];
    for (body, line, field) in cases {
        match Checkpoint::parse_body(&body) {
            Err(CheckpointError::BadLine {
                line: l, field: f, ..
            }) => {
                assert_eq!((l, f), (line, field), "{body:?}");
            }
            other => panic!("{body:?}: {other:?}"),
        }
    }
    assert_eq!(
        Checkpoint::parse_body("o\n1\n"),
        Err(CheckpointError::TooShort { lines: 2 })
    );
    let with_ext = format!("o\n1\n{root}\next one\n");
    assert_eq!(
        Checkpoint::parse_body(&with_ext).unwrap().extensions,
        ["ext one"]
    );
}

#[test]
fn signed_checkpoints_open_only_for_the_right_key_and_origin() {
    let s = NoteSigner::generate("example.com/log").unwrap();
    let cp = Checkpoint::empty("example.com/log");
    let signed = cp.sign(&[&s]).unwrap();
    let (back, _) =
        checkpoint::open(signed.as_bytes(), "example.com/log", &[s.verifier()]).unwrap();
    assert_eq!(back, cp);
    assert!(matches!(
        checkpoint::open(signed.as_bytes(), "example.com/other", &[s.verifier()]),
        Err(CheckpointError::WrongOrigin { .. })
    ));
    let other = NoteSigner::generate("example.com/log").unwrap();
    assert!(matches!(
        checkpoint::open(signed.as_bytes(), "example.com/log", &[other.verifier()]),
        Err(CheckpointError::Note(NoteError::NoTrustedSignature { .. }))
    ));
    // Changing the size by one digit breaks the signature.
    let tampered = signed.replacen("\n0\n", "\n1\n", 1);
    assert!(matches!(
        checkpoint::open(tampered.as_bytes(), "example.com/log", &[s.verifier()]),
        Err(CheckpointError::Note(NoteError::InvalidSignature { .. }))
    ));
}
