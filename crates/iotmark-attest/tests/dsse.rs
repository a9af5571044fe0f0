#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use iotmark_attest::dsse::{DsseError, Envelope, IN_TOTO_PAYLOAD_TYPE, MAX_ENVELOPE_BYTES};
use iotmark_attest::keys::{FileSigner, Signer};

fn signed() -> (FileSigner, String) {
    let signer = FileSigner::from_seed(&[1u8; 32]);
    let env = Envelope::sign(
        IN_TOTO_PAYLOAD_TYPE,
        br#"{"hello":"world"}"#.to_vec(),
        &[&signer],
    )
    .unwrap();
    (signer, env.to_json())
}

#[test]
fn a_signed_envelope_round_trips_and_verifies() {
    let (signer, json) = signed();
    let env = Envelope::parse(json.as_bytes()).unwrap();
    assert_eq!(env.signatures[0].keyid, signer.key_id());
    let (index, payload) = env.verify(&signer.public_key()).unwrap();
    assert_eq!(index, 0);
    assert_eq!(payload, br#"{"hello":"world"}"#);
    env.expect_payload_type(IN_TOTO_PAYLOAD_TYPE).unwrap();
}

#[test]
fn a_changed_payload_or_type_fails_with_bad_signature() {
    let (signer, json) = signed();
    let mut env = Envelope::parse(json.as_bytes()).unwrap();
    env.payload[2] ^= 1;
    let err = env.verify(&signer.public_key()).unwrap_err();
    assert!(
        matches!(err, DsseError::BadSignature { index: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("changed after signing"));

    let mut env = Envelope::parse(json.as_bytes()).unwrap();
    env.payload_type = "application/json".into();
    assert!(matches!(
        env.verify(&signer.public_key()),
        Err(DsseError::BadSignature { .. })
    ));
    assert_eq!(
        env.expect_payload_type(IN_TOTO_PAYLOAD_TYPE)
            .unwrap_err()
            .to_string(),
        "`payloadType` is \"application/json\", expected \"application/vnd.in-toto+json\""
    );
}

#[test]
fn the_wrong_key_is_named_with_the_keys_that_did_sign() {
    let (signer, json) = signed();
    let other = FileSigner::from_seed(&[2u8; 32]);
    let err = Envelope::parse(json.as_bytes())
        .unwrap()
        .verify(&other.public_key())
        .unwrap_err();
    match &err {
        DsseError::WrongKey { expected, found } => {
            assert_eq!(expected, &other.key_id());
            assert_eq!(found, &vec![signer.key_id()]);
        }
        e => panic!("unexpected {e}"),
    }
}

#[test]
fn the_keyid_hint_is_not_trusted() {
    // A signature with a lying or missing keyid still verifies by the key itself.
    let (signer, json) = signed();
    let json = json.replace(&signer.key_id(), "somebody-else");
    let env = Envelope::parse(json.as_bytes()).unwrap();
    assert!(env.verify(&signer.public_key()).is_ok());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let no_keyid = serde_json::json!({
        "payload": v["payload"], "payloadType": v["payloadType"],
        "signatures": [{"sig": v["signatures"][0]["sig"]}],
    });
    let env = Envelope::parse(no_keyid.to_string().as_bytes()).unwrap();
    assert!(env.verify(&signer.public_key()).is_ok());
}

fn parse_err(text: &str) -> String {
    Envelope::parse(text.as_bytes()).unwrap_err().to_string()
}

#[test]
fn malformed_envelopes_get_precise_errors() {
    let sig = "A".repeat(86) + "==";
    let ok_sig = format!(r#"{{"keyid":"k","sig":"{sig}"}}"#);
    assert_eq!(
        parse_err(&format!(
            r#"{{"payload":"e30=","payloadType":"t","signatures":[{ok_sig}],"extra":1}}"#
        )),
        "the envelope is not a DSSE envelope: unknown field `extra`, expected one of `payload`, `payloadType`, `signatures` (line 1, column 169)"
    );
    assert!(
        parse_err(r#"{"payload":"e30=","payload":"e30=","payloadType":"t","signatures":[]}"#)
            .contains("duplicate field `payload`")
    );
    assert!(
        parse_err(r#"{"payloadType":"t","signatures":[]}"#).contains("missing field `payload`")
    );
    assert!(
        parse_err(r#"{"payload":5,"payloadType":"t","signatures":[]}"#)
            .contains("invalid type: integer `5`, expected a string")
    );
    assert_eq!(
        parse_err(r#"{"payload":"e30=","payloadType":"t","signatures":[]}"#),
        "the envelope has no signatures"
    );
    assert_eq!(
        parse_err(&format!(
            r#"{{"payload":"e30=","payloadType":"","signatures":[{ok_sig}]}}"#
        )),
        "`payloadType` is empty"
    );
    assert!(
        parse_err(&format!(
            r#"{{"payload":"e3!=","payloadType":"t","signatures":[{ok_sig}]}}"#
        ))
        .starts_with("`payload` is not valid base64")
    );
    let bad_sig = r#"{"keyid":"k","sig":"AAAA"},{"keyid":"k","sig":"A*AA"}"#;
    assert!(
        parse_err(&format!(
            r#"{{"payload":"e30=","payloadType":"t","signatures":[{bad_sig}]}}"#
        ))
        .starts_with("`signatures[1].sig` is not valid base64")
    );
    assert!(parse_err(r#"{"payload":"e30=","payloadType":"t","signatures":[{"keyid":"k","sig":"AA==","other_headers":{}}]}"#)
        .contains("unknown field `other_headers`"));
    assert_eq!(
        parse_err(r#"["e30=","t",[]]"#),
        "the envelope is not a DSSE envelope: invalid type: sequence, expected a DSSE envelope object with `payload`, `payloadType` and `signatures` (line 1, column 0)"
    );
    assert_eq!(
        parse_err(
            r#"{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="},["k","AA=="]]}"#
        ),
        "the envelope is not a DSSE envelope: invalid type: sequence, expected a signature object with `sig` and optionally `keyid` (line 1, column 65)"
    );
    assert!(parse_err("{\"payload\":").contains("EOF while parsing"));
    assert_eq!(
        Envelope::parse(&[b'{', 0xff]).unwrap_err(),
        DsseError::NotUtf8 { offset: 1 }
    );
    let huge = vec![b' '; MAX_ENVELOPE_BYTES + 1];
    assert!(matches!(
        Envelope::parse(&huge),
        Err(DsseError::TooLarge { .. })
    ));
    let many = vec![ok_sig.as_str(); 17].join(",");
    assert_eq!(
        parse_err(&format!(
            r#"{{"payload":"e30=","payloadType":"t","signatures":[{many}]}}"#
        )),
        "the envelope has 17 signatures; at most 16 are accepted"
    );
}

#[test]
fn a_signature_of_another_length_is_reported_when_nothing_verifies() {
    let signer = FileSigner::from_seed(&[1u8; 32]);
    let env = Envelope::parse(
        br#"{"payload":"e30=","payloadType":"t","signatures":[{"keyid":"x","sig":"AAAA"}]}"#,
    )
    .unwrap();
    let err = env.verify(&signer.public_key()).unwrap_err().to_string();
    assert_eq!(
        err,
        "`signatures[0].sig` is 3 bytes; an Ed25519 signature is 64 bytes (is it another algorithm?)"
    );
}
