#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::*;
use iotmark_attest::dsse::{DsseError, Envelope, IN_TOTO_PAYLOAD_TYPE};
use iotmark_attest::keys::{FileSigner, Signer};
use iotmark_attest::statement::{Party, StatusKind, status_statement};
use iotmark_attest::verify::{
    Trust, TrustPolicy, Validity, VerifyError, verify, verify_with_status,
};

fn policy_for(signers: &[(&FileSigner, &str)]) -> TrustPolicy {
    let mut text = String::from("# who we trust\n");
    for (s, name) in signers {
        text.push_str(&format!(
            "signer {} https://{name}\n",
            s.public_key().to_vkey(name).unwrap()
        ));
    }
    TrustPolicy::parse(text.as_bytes(), "policy.txt").unwrap()
}

#[test]
fn a_valid_attestation_says_what_by_whom_and_until_when() {
    let signer = manufacturer();
    let (_, envelope) = signed_conformity(&signer);
    let verdict = verify(
        envelope.as_bytes(),
        Trust::Key(&signer.public_key()),
        ts("2027-06-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(verdict.validity, Validity::Valid);
    let json = verdict.to_json();
    assert_eq!(json["valid"], true);
    assert_eq!(json["predicate"]["product"]["version"], "2.4.1");
    assert_eq!(json["subject"][0]["name"], "sc200-2.4.1.bin");
    let text = verdict.to_string();
    for expected in [
        "Acme Devices Ltd SecureCam 2 (SC-200), version 2.4.1: conforms to scheme en303645-self-declaration (tier declared), by the manufacturer's declaration of conformity (sdoc)",
        "firmware:   sc200-2.4.1.bin (sha256 9f2c1e7b4a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a)",
        &format!("signed by:  Acme Devices Ltd (key {})", signer.key_id()),
        "assessment: 64 satisfied, 0 not satisfied, 4 not applicable, 0 need review",
        "issued:     2026-11-22T10:00:00Z",
        "valid until 2029-11-22T10:00:00Z",
        "security updates until 2029-12-31",
        "checked at 2027-06-01T00:00:00Z: VALID",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }

    let policy = policy_for(&[
        (&FileSigner::from_seed(&[9; 32]), "lab.example"),
        (&signer, "acme.example"),
    ]);
    let verdict = verify(
        envelope.as_bytes(),
        Trust::Policy(&policy),
        ts("2027-06-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(verdict.key_name.as_deref(), Some("acme.example"));
    assert!(
        verdict
            .to_string()
            .contains("(policy signer acme.example, key ")
    );
}

#[test]
fn expired_and_not_yet_valid_are_errors_that_still_show_the_attestation() {
    let signer = manufacturer();
    let (_, envelope) = signed_conformity(&signer);
    let key = signer.public_key();
    let err = verify(
        envelope.as_bytes(),
        Trust::Key(&key),
        ts("2029-11-22T10:00:00Z"),
    )
    .unwrap_err();
    let VerifyError::Expired { verdict, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(verdict.validity, Validity::Expired);
    let text = err.to_string();
    assert!(
        text.starts_with(
            "expired: valid until 2029-11-22T10:00:00Z, and the time now is 2029-11-22T10:00:00Z"
        ),
        "{text}"
    );
    assert!(text.contains("NOT VALID: expired"));

    let err = verify(
        envelope.as_bytes(),
        Trust::Key(&key),
        ts("2026-11-22T09:59:59Z"),
    )
    .unwrap_err();
    assert!(matches!(err, VerifyError::NotYetValid { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("not yet valid: issued 2026-11-22T10:00:00Z")
    );
}

#[test]
fn support_ended_is_a_note_not_a_failure() {
    let signer = manufacturer();
    let (_, envelope) = signed_conformity(&signer);
    let v = verify(
        envelope.as_bytes(),
        Trust::Key(&signer.public_key()),
        ts("2029-11-01T00:00:00Z"),
    )
    .unwrap();
    assert!(v.notes.is_empty());
    // Support ends 2029-12-31, validity 2029-11-22: widen validity to see the note.
    let mut statement: serde_json::Value = {
        let env = Envelope::parse(envelope.as_bytes()).unwrap();
        serde_json::from_slice(&env.payload).unwrap()
    };
    statement["predicate"]["valid_until"] = "2031-01-01T00:00:00Z".into();
    let env = Envelope::sign(
        IN_TOTO_PAYLOAD_TYPE,
        serde_json::to_vec(&statement).unwrap(),
        &[&signer],
    )
    .unwrap();
    let v = verify(
        env.to_json().as_bytes(),
        Trust::Key(&signer.public_key()),
        ts("2030-03-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(
        v.notes,
        vec!["the declared security-update support period ended on 2029-12-31".to_owned()]
    );
}

#[test]
fn wrong_key_untrusted_signer_and_tampering_are_told_apart() {
    let signer = manufacturer();
    let (_, envelope) = signed_conformity(&signer);
    let now = ts("2027-01-01T00:00:00Z");
    let stranger = FileSigner::from_seed(&[3; 32]);
    let err = verify(envelope.as_bytes(), Trust::Key(&stranger.public_key()), now).unwrap_err();
    assert!(
        matches!(err, VerifyError::Envelope(DsseError::WrongKey { .. })),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("the envelope is signed by {}", signer.key_id()))
    );

    let policy = policy_for(&[(&stranger, "stranger.example")]);
    assert!(matches!(
        verify(envelope.as_bytes(), Trust::Policy(&policy), now),
        Err(VerifyError::Envelope(DsseError::WrongKey { .. }))
    ));

    let mut v: serde_json::Value = serde_json::from_str(&envelope).unwrap();
    v["payloadType"] = "application/json".into();
    let err = verify(
        v.to_string().as_bytes(),
        Trust::Key(&signer.public_key()),
        now,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Envelope(DsseError::WrongPayloadType { .. })
        ),
        "{err}"
    );

    let mut env = Envelope::parse(envelope.as_bytes()).unwrap();
    let text = String::from_utf8(env.payload.clone())
        .unwrap()
        .replace("2029-11-22T10:00:00Z", "2039-11-22T10:00:00Z");
    env.payload = text.into_bytes();
    let err = verify(
        env.to_json().as_bytes(),
        Trust::Key(&signer.public_key()),
        now,
    )
    .unwrap_err();
    assert!(
        matches!(err, VerifyError::Envelope(DsseError::BadSignature { .. })),
        "{err}"
    );

    let err = verify(b"{not json", Trust::Key(&signer.public_key()), now).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the envelope is not a DSSE envelope"),
        "{err}"
    );
}

#[test]
fn a_key_cannot_attest_in_another_assessors_name() {
    let signer = manufacturer();
    let (_, envelope) = signed_conformity(&signer);
    // Someone else re-signs the manufacturer's statement with their own key.
    let payload = Envelope::parse(envelope.as_bytes()).unwrap().payload;
    let other = FileSigner::from_seed(&[5; 32]);
    let forged = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload, &[&other])
        .unwrap()
        .to_json();
    let err = verify(
        forged.as_bytes(),
        Trust::Key(&other.public_key()),
        ts("2027-01-01T00:00:00Z"),
    )
    .unwrap_err();
    assert!(
        matches!(err, VerifyError::AssessorKeyMismatch { .. }),
        "{err}"
    );
}

fn status(signer: &FileSigner, envelope: &str, kind: StatusKind, effective: &str) -> String {
    let subject = {
        let env = Envelope::parse(envelope.as_bytes()).unwrap();
        iotmark_attest::statement::Statement::parse(&env.payload)
            .unwrap()
            .subject
    };
    let st = status_statement(
        envelope.as_bytes(),
        subject,
        kind,
        "telnet enabled in shipped units",
        ts(effective),
        ts(effective),
        Party {
            organisation: "Acme Devices Ltd".into(),
            key_id: signer.key_id(),
        },
    )
    .unwrap();
    Envelope::sign(IN_TOTO_PAYLOAD_TYPE, st.to_json(), &[signer])
        .unwrap()
        .to_json()
}

#[test]
fn revocation_suspension_and_reinstatement_apply_in_order() {
    let signer = manufacturer();
    let key = signer.public_key();
    let (_, envelope) = signed_conformity(&signer);
    let suspend = status(
        &signer,
        &envelope,
        StatusKind::Suspension,
        "2027-01-01T00:00:00Z",
    );
    let reinstate = status(
        &signer,
        &envelope,
        StatusKind::Reinstatement,
        "2027-02-01T00:00:00Z",
    );
    let revoke = status(
        &signer,
        &envelope,
        StatusKind::Revocation,
        "2027-03-01T00:00:00Z",
    );
    let check = |statuses: &[&str], now: &str| {
        let bytes: Vec<&[u8]> = statuses.iter().map(|s| s.as_bytes()).collect();
        verify_with_status(envelope.as_bytes(), &bytes, Trust::Key(&key), ts(now))
    };

    let err = check(&[&suspend], "2027-01-15T00:00:00Z").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("suspended: Acme Devices Ltd (key"),
        "{err}"
    );
    assert!(err.to_string().contains("NOT VALID: suspended"));
    let v = check(&[&reinstate, &suspend], "2027-02-15T00:00:00Z").unwrap();
    assert_eq!(v.statuses.len(), 2);
    assert!(
        v.to_string()
            .contains("reinstatement from 2027-02-01T00:00:00Z")
    );
    // Not yet effective: a note, still valid.
    let v = check(&[&revoke], "2027-02-15T00:00:00Z").unwrap();
    assert_eq!(
        v.notes,
        vec![
            "a revocation takes effect on 2027-03-01T00:00:00Z: telnet enabled in shipped units"
                .to_owned()
        ]
    );
    let err = check(&[&suspend, &reinstate, &revoke], "2027-03-01T00:00:00Z").unwrap_err();
    let VerifyError::StatusChanged { change, verdict } = &err else {
        panic!("{err}")
    };
    assert_eq!(change.kind, StatusKind::Revocation);
    assert_eq!(verdict.validity, Validity::Revoked);

    // A status about another envelope is ignored; one by an untrusted key is an error.
    let (_, other_env) = signed_conformity(&FileSigner::from_seed(&[8; 32]));
    let unrelated = status(
        &signer,
        &other_env,
        StatusKind::Revocation,
        "2027-01-01T00:00:00Z",
    );
    assert!(check(&[&unrelated], "2027-06-01T00:00:00Z").is_ok());
    let stranger = FileSigner::from_seed(&[4; 32]);
    let forged = status(
        &stranger,
        &envelope,
        StatusKind::Revocation,
        "2027-01-01T00:00:00Z",
    );
    let err = check(&[&forged], "2027-06-01T00:00:00Z").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("status attestation 0: no signature is by the expected key"),
        "{err}"
    );

    // A status record verified alone says what it is.
    let v = verify(
        revoke.as_bytes(),
        Trust::Key(&key),
        ts("2027-06-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(v.validity, Validity::StatusRecord);
    assert!(
        v.to_string()
            .starts_with("revocation of the attestation with envelope sha256 ")
    );
}

#[test]
fn trust_policies_follow_tlog_policy() {
    let s = manufacturer().public_key().to_vkey("acme.example").unwrap();
    // The signed-note example key (C2SP signed-note.md) as log and witness keys.
    let log = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    let w1 = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let text = format!(
        "# policy\n\tlog {log} https://log.example\n\nwitness W1 {w1}\ngroup G any W1\nquorum G\nsigner {s} https://acme.example\n"
    );
    let p = TrustPolicy::parse(text.as_bytes(), "p").unwrap();
    assert_eq!(p.logs.len(), 1);
    assert_eq!(p.logs[0].url.as_deref(), Some("https://log.example"));
    assert_eq!(p.groups[0].threshold, 1);
    assert_eq!(p.quorum.as_deref(), Some("G"));
    assert_eq!(p.signers[0].name, "acme.example");

    let err = |t: String| {
        TrustPolicy::parse(t.as_bytes(), "p")
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(format!("signer {s}\nsigner {s}\n")),
        "p:2: duplicate key: signer acme.example"
    );
    assert_eq!(
        err(format!("log {log}\n")),
        "p:0: the policy names no signer; add `signer <vkey>` lines for the keys whose attestations you trust"
    );
    assert_eq!(
        err(format!("signer {s}\nlog {log}\n")),
        "p:0: the policy lists logs or witnesses but no quorum line (`quorum none` if no cosignatures are needed)"
    );
    assert_eq!(
        err(format!("signer {s}\nquorum W1\n")),
        "p:2: quorum \"W1\" is not defined on an earlier line"
    );
    assert_eq!(
        err(format!("signer {s}\ngroup G 2 W1\n")),
        "p:2: group member \"W1\" is not defined on an earlier line"
    );
    assert_eq!(
        err(format!("signer {s}\nwitness W1 {w1}\ngroup G 2 W1\n")),
        "p:3: threshold \"2\" is not `all`, `any` or a number from 1 to 1"
    );
    assert_eq!(
        err(format!("signer {s}\nwitness W1 {w1}\ngroup G all W1 W1\n")),
        "p:3: group member \"W1\" is listed twice"
    );
    assert_eq!(
        err(format!("signer {s}\nquorum none\nquorum none\n")),
        "p:3: a second quorum line; exactly one is allowed"
    );
    assert_eq!(
        err(format!("signer {s}\nwitness none {w1}\n")),
        "p:2: the name \"none\" is already defined"
    );
    assert_eq!(
        err(format!("signer {s}\nwitness W {w1}\nwitness X {w1}\n")),
        "p:3: duplicate key: witness X"
    );
    assert_eq!(
        err(format!("signer {s}\ntrust everyone\n")),
        "p:2: unknown line type \"trust\"; expected log, witness, group, quorum or signer"
    );
    assert_eq!(
        err(format!("signer {s}\r\n")),
        "p:1: control character 0x0d; only tab and newline are allowed"
    );
    assert!(
        err(format!("signer {s} url extra\n")).starts_with("p:1: expected `signer <vkey> [<url>]`")
    );
    assert!(err(format!("signer {w1}x\n")).starts_with("p:1: "));
    // A witness key of another signature type is fine for witnesses, not for signers.
    let cosig = "w+00000000+BAAA";
    assert!(err(format!("signer {s}\nwitness W {cosig}\n")).contains("hash is 00000000 but"));
}
