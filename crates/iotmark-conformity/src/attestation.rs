//! An attestation envelope, parsed and verified once into types.
//!
//! Everything downstream (the log leaf, the registry's rules and records, the product page)
//! reads an [`Attestation`], never the envelope's text: its digests are [`Sha256`]s, its
//! predicate's times are `jiff` times and its route, status and kind are enums, so no value is
//! parsed a second time and no failure can turn into a default.

use iotmark_attest::Sha256;
use iotmark_attest::dsse::{DsseError, Envelope, IN_TOTO_PAYLOAD_TYPE};
use iotmark_attest::keys::PublicKey;
use iotmark_attest::statement::{Predicate, Statement, StatementError, Subject};
use iotmark_log::leaf::{LeafKind, LeafRecord};

/// What an attestation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A declaration of conformity or a certification.
    Conformity,
    /// A suspension, revocation, end of support or reinstatement of another attestation.
    Status,
}

impl Kind {
    /// The kind the log's leaf records.
    pub fn leaf_kind(self) -> LeafKind {
        match self {
            Kind::Conformity => LeafKind::Declaration,
            Kind::Status => LeafKind::Status,
        }
    }
}

/// Why an envelope did not open. Each variant is the sender's to put right.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Not a DSSE envelope, or not one carrying an in-toto statement.
    #[error("{0}")]
    Envelope(DsseError),
    /// There were no keys to check it against.
    #[error("no key to check the signature against")]
    NoKeys,
    /// None of the keys signed it.
    #[error("{0}")]
    Signature(DsseError),
    /// Signed, but the payload is not an iotmark statement.
    #[error("{0}")]
    Statement(StatementError),
}

/// A firmware image an attestation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub name: String,
    pub sha256: Sha256,
}

/// A verified attestation.
#[derive(Debug, Clone)]
pub struct Attestation {
    /// SHA-256 of the envelope's bytes, as received: what status changes refer to.
    pub envelope_sha256: Sha256,
    /// SHA-256 of the signed payload: the attestation's identity, whatever bytes carry it.
    pub statement_sha256: Sha256,
    /// Which of the keys given to [`Attestation::open`] signed it.
    pub signer: usize,
    /// That key's ID (hex SHA-256 of the raw public key).
    pub signer_key_id: String,
    pub statement: Statement,
}

impl Attestation {
    /// Parses `envelope` strictly, finds which of `keys` signed it, and parses the signed
    /// payload (never the envelope's text again) as an iotmark statement.
    pub fn open(envelope: &[u8], keys: &[PublicKey]) -> Result<Self, OpenError> {
        let parsed = Envelope::parse(envelope).map_err(OpenError::Envelope)?;
        parsed
            .expect_payload_type(IN_TOTO_PAYLOAD_TYPE)
            .map_err(OpenError::Envelope)?;
        if keys.is_empty() {
            return Err(OpenError::NoKeys);
        }
        let (_, signer, payload) = parsed.verify_any(keys).map_err(OpenError::Signature)?;
        let statement = Statement::parse(payload).map_err(OpenError::Statement)?;
        Ok(Attestation {
            envelope_sha256: Sha256::of(envelope),
            statement_sha256: Sha256::of(payload),
            signer,
            signer_key_id: keys[signer].key_id(),
            statement,
        })
    }

    pub fn kind(&self) -> Kind {
        match self.statement.predicate {
            Predicate::Conformity(_) => Kind::Conformity,
            Predicate::Status(_) => Kind::Status,
        }
    }

    /// The key ID the statement names as its assessor (conformity) or issuer (status).
    pub fn claimed_key_id(&self) -> &str {
        match &self.statement.predicate {
            Predicate::Conformity(p) => &p.assessor.key_id,
            Predicate::Status(p) => &p.issuer.key_id,
        }
    }

    /// The log leaf that records this attestation, accepted at `logged`.
    pub fn leaf(&self, logged: jiff::Timestamp) -> Result<LeafRecord, LeafTimeError> {
        Ok(LeafRecord {
            kind: self.kind().leaf_kind(),
            statement_digest: *self.statement_sha256.as_bytes(),
            envelope_digest: *self.envelope_sha256.as_bytes(),
            signer_key_id: self.signer_key_id.clone(),
            time: leaf_time(logged)?,
        })
    }

    /// The firmware images the statement's subject names.
    pub fn images(&self) -> Result<Vec<Image>, StatementError> {
        images(&self.statement.subject)
    }

    /// One line saying what this is, for people: "the manufacturer's declaration of
    /// conformity of Acme SecureCam 2.5.0", "revocation of envelope 3b1f…".
    pub fn describe(&self) -> String {
        match &self.statement.predicate {
            Predicate::Conformity(p) => format!(
                "{} of {} {} {}",
                p.route.describe(),
                p.product.manufacturer,
                p.product.name,
                p.product.version
            ),
            Predicate::Status(p) => format!(
                "{} of envelope {}",
                p.status.as_str(),
                &p.refers_to.envelope_sha256.to_hex()[..16]
            ),
        }
    }
}

/// A subject list as images. Statement parsing has checked every subject's SHA-256; one that
/// does not read here is an error naming the subject, never an empty digest.
pub fn images(subject: &[Subject]) -> Result<Vec<Image>, StatementError> {
    subject
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let field = format!("subject[{i}].digest.sha256");
            let hex = s.digest.get("sha256").ok_or_else(|| StatementError {
                field: field.clone(),
                message: "is missing".to_owned(),
            })?;
            let sha256 = Sha256::from_hex(hex).map_err(|e| StatementError {
                field,
                message: e.to_string(),
            })?;
            Ok(Image {
                name: s.name.clone(),
                sha256,
            })
        })
        .collect()
}

/// A time the log's leaf cannot hold: leaves count unsigned seconds since 1970.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is before 1970-01-01; a log leaf's time counts seconds since then")]
pub struct LeafTimeError(pub jiff::Timestamp);

/// Seconds since the epoch, as a leaf holds them.
pub fn leaf_time(t: jiff::Timestamp) -> Result<u64, LeafTimeError> {
    u64::try_from(t.as_second()).map_err(|_| LeafTimeError(t))
}

/// The time a leaf records, as a timestamp: an error, never the epoch, when it is not one.
pub fn leaf_timestamp(seconds: u64) -> Result<jiff::Timestamp, String> {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .ok_or_else(|| format!("the leaf's time {seconds} is not a time jiff can represent"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;
    use iotmark_attest::keys::{FileSigner, Signer};
    use iotmark_attest::statement::{Party, StatusKind, status_statement};

    fn revocation(signer: &FileSigner) -> (String, Statement) {
        let issued: jiff::Timestamp = "2026-11-22T10:00:00Z".parse().unwrap();
        let statement = status_statement(
            b"the original envelope",
            vec![Subject::sha256("fw.bin", &Sha256::of(b"fw").to_hex())],
            StatusKind::Revocation,
            "key compromise",
            issued,
            issued,
            Party {
                organisation: "Acme Devices Ltd".into(),
                key_id: signer.key_id(),
            },
        )
        .unwrap();
        let envelope = iotmark_attest::sign_statement(&statement, signer)
            .unwrap()
            .to_json();
        (envelope, statement)
    }

    #[test]
    fn an_envelope_opens_into_types_and_its_leaf_commits_to_both_digests() {
        let (acme, other) = (
            FileSigner::from_seed(&[1; 32]),
            FileSigner::from_seed(&[2; 32]),
        );
        let (envelope, statement) = revocation(&acme);
        let keys = [other.public_key(), acme.public_key()];
        let opened = Attestation::open(envelope.as_bytes(), &keys).unwrap();
        assert_eq!(opened.signer, 1);
        assert_eq!(opened.signer_key_id, acme.key_id());
        assert_eq!(opened.claimed_key_id(), acme.key_id());
        assert_eq!(opened.kind(), Kind::Status);
        assert_eq!(opened.envelope_sha256, Sha256::of(envelope.as_bytes()));
        assert_eq!(opened.statement_sha256, Sha256::of(&statement.to_json()));
        assert_eq!(opened.statement, statement);
        assert!(
            opened.describe().starts_with("revocation of envelope "),
            "{}",
            opened.describe()
        );
        assert_eq!(
            opened.images().unwrap(),
            vec![Image {
                name: "fw.bin".into(),
                sha256: Sha256::of(b"fw")
            }]
        );

        let logged: jiff::Timestamp = "2026-11-23T00:00:00Z".parse().unwrap();
        let leaf = opened.leaf(logged).unwrap();
        assert_eq!(leaf.kind, LeafKind::Status);
        assert_eq!(&leaf.envelope_digest, opened.envelope_sha256.as_bytes());
        assert_eq!(&leaf.statement_digest, opened.statement_sha256.as_bytes());
        assert_eq!(leaf_timestamp(leaf.time).unwrap(), logged);
        // A time before 1970 is an error, never the epoch.
        let before: jiff::Timestamp = "1969-12-31T23:59:59Z".parse().unwrap();
        assert_eq!(opened.leaf(before).unwrap_err(), LeafTimeError(before));
        assert!(leaf_timestamp(u64::MAX).is_err());
    }

    #[test]
    fn each_failure_says_whose_it_is() {
        let acme = FileSigner::from_seed(&[1; 32]);
        let stranger = FileSigner::from_seed(&[3; 32]);
        let (envelope, _) = revocation(&acme);
        assert!(matches!(
            Attestation::open(envelope.as_bytes(), &[stranger.public_key()]),
            Err(OpenError::Signature(_))
        ));
        assert!(matches!(
            Attestation::open(envelope.as_bytes(), &[]),
            Err(OpenError::NoKeys)
        ));
        assert!(matches!(
            Attestation::open(b"{}", &[acme.public_key()]),
            Err(OpenError::Envelope(_))
        ));
        // Signed, but not an iotmark statement.
        let other = iotmark_attest::dsse::Envelope::sign(
            iotmark_attest::dsse::IN_TOTO_PAYLOAD_TYPE,
            br#"{"_type":"https://in-toto.io/Statement/v1"}"#.to_vec(),
            &[&acme],
        )
        .unwrap()
        .to_json();
        assert!(matches!(
            Attestation::open(other.as_bytes(), &[acme.public_key()]),
            Err(OpenError::Statement(_))
        ));
    }
}
