//! Offline verification of attestations against one public key or a trust policy, ending in
//! a plain-words [`Verdict`].
//!
//! # Trust policy
//!
//! The policy file follows C2SP tlog-policy (<https://c2sp.org/tlog-policy>, untagged editor's
//! copy as of 2026): line based; items separated by spaces or tabs; blank lines and `#`
//! comments ignored; only tab, newline, 0x20–0x7E and 0x80–0xFF octets; public keys in
//! signed-note vkey form. From that spec we take, and check as it says:
//!
//! * `log <vkey> [<url>]`: known logs (no duplicate keys);
//! * `witness <name> <vkey> [<url>]`: known witnesses (no duplicate keys);
//! * `group <name> all|any|<k> <name>...`: groups over names defined on earlier lines, each
//!   member at most once, 1 ≤ k ≤ n; witnesses and groups share one namespace; `none` is
//!   reserved;
//! * `quorum <name>|none`: at most one line, naming something defined earlier.
//!
//! Logs, witnesses and the quorum are parsed and kept for checking log proofs; verifying an
//! envelope does not use them yet.
//!
//! **Our extension** (tlog-policy leaves "trusted public keys for verifying signatures within
//! a logged entry" out of scope): `signer <vkey> [<url>]` names a key whose attestations are
//! trusted. The vkey must be Ed25519 (type 0x01); its key name (e.g. `acme.example`) is how
//! the verdict names the signer; the URL is informational. Duplicate signer keys are refused.
//! A policy must list at least one signer. The quorum line, which tlog-policy makes mandatory,
//! is required only when the policy lists logs or witnesses. We also require the file to be
//! UTF-8 (tlog-policy treats non-ASCII as opaque octets and recommends UTF-8).
//!
//! # Validity
//!
//! A conformity attestation is valid at `now` when a trusted key signed it, the predicate
//! names that key as its assessor, `issued ≤ now < valid_until`, and no status attestation
//! (signed by a trusted key, referring to this envelope's SHA-256, effective at or before
//! `now`) revoked it, ended its support, or suspended it without a later reinstatement.
//! A support end date in the past is reported but does not by itself invalidate: the
//! `end-of-support` status attestation does.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest as _;

use crate::digest::Sha256;

use crate::dsse::{DsseError, Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::keys::{PublicKey, hex};
use crate::statement::{
    ConformityPredicate, Predicate, Statement, StatementError, StatusKind, StatusPredicate, Subject,
};

/// Policies larger than this are refused.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;
/// At most this many logs, witnesses, groups and signers each (tlog-policy asks for ≥ 32).
pub const MAX_POLICY_ENTRIES: usize = 256;

/// A policy line that cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}: {message}")]
pub struct PolicyError {
    pub source_name: String,
    /// 1-based; 0 for whole-file problems.
    pub line: usize,
    pub message: String,
}

/// A key named in a policy by its signed-note vkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyKey {
    pub vkey: String,
    pub name: String,
    /// The signed-note signature type byte (0x01 Ed25519, 0x04 cosignature, …).
    pub key_type: u8,
    pub key: Vec<u8>,
    pub url: Option<String>,
}

/// A trusted attestation signer (`signer` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSigner {
    pub name: String,
    pub key: PublicKey,
    pub url: Option<String>,
}

/// A witness group (`group` line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessGroup {
    pub name: String,
    pub threshold: usize,
    pub members: Vec<String>,
}

/// A parsed trust policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustPolicy {
    pub signers: Vec<TrustedSigner>,
    pub logs: Vec<PolicyKey>,
    pub witnesses: BTreeMap<String, PolicyKey>,
    pub groups: Vec<WitnessGroup>,
    /// `None` when the file has no quorum line; `Some("none")` for `quorum none`.
    pub quorum: Option<String>,
}

fn parse_vkey_any(vkey: &str) -> Result<PolicyKey, String> {
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "{vkey:?} is not a verifier key `<name>+<hex key hash>+<base64 key>`"
        ));
    };
    if name.is_empty() {
        return Err("the verifier key's name is empty".to_owned());
    }
    if hash.len() != 8 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "the verifier key hash {hash:?} is not 8 hexadecimal digits"
        ));
    }
    let typed = STANDARD
        .decode(key)
        .map_err(|e| format!("the verifier key's key part is not base64: {e}"))?;
    let Some((&key_type, raw)) = typed.split_first() else {
        return Err("the verifier key's key part is empty".to_owned());
    };
    let mut h = sha2::Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(&typed);
    let expected = hex(&h.finalize()[..4]);
    if !hash.eq_ignore_ascii_case(&expected) {
        return Err(format!(
            "the verifier key hash is {hash} but name and key hash to {expected}"
        ));
    }
    Ok(PolicyKey {
        vkey: vkey.to_owned(),
        name: name.to_owned(),
        key_type,
        key: raw.to_vec(),
        url: None,
    })
}

impl TrustPolicy {
    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| PolicyError {
            source_name: name.clone(),
            line: 0,
            message: e.to_string(),
        })?;
        Self::parse(&bytes, &name)
    }

    /// Parses a policy; `source_name` names it in errors.
    pub fn parse(bytes: &[u8], source_name: &str) -> Result<Self, PolicyError> {
        let fail = |line: usize, message: String| PolicyError {
            source_name: source_name.to_owned(),
            line,
            message,
        };
        if bytes.len() > MAX_POLICY_BYTES {
            return Err(fail(
                0,
                format!(
                    "the policy is {} bytes; the limit is {MAX_POLICY_BYTES}",
                    bytes.len()
                ),
            ));
        }
        if let Some(pos) = bytes
            .iter()
            .position(|&b| b < 0x20 && b != b'\t' && b != b'\n' || b == 0x7f)
        {
            let line = 1 + bytes[..pos].iter().filter(|&&b| b == b'\n').count();
            return Err(fail(
                line,
                format!(
                    "control character 0x{:02x}; only tab and newline are allowed",
                    bytes[pos]
                ),
            ));
        }
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            fail(line, "not UTF-8".to_owned())
        })?;

        let mut policy = TrustPolicy::default();
        // Witness and group names share one namespace; `none` is predefined.
        let mut names: BTreeSet<String> = BTreeSet::new();
        let mut keys_seen: BTreeSet<(u8, Vec<u8>)> = BTreeSet::new();
        let mut signer_keys: BTreeSet<[u8; 32]> = BTreeSet::new();
        for (i, raw_line) in text.split('\n').enumerate() {
            let n = i + 1;
            let items: Vec<&str> = raw_line
                .split([' ', '\t'])
                .filter(|s| !s.is_empty())
                .collect();
            let Some(&keyword) = items.first() else {
                continue;
            };
            if keyword.starts_with('#') {
                continue;
            }
            let too_many = |what: &str, count: usize| {
                if count >= MAX_POLICY_ENTRIES {
                    Err(fail(
                        n,
                        format!("more than {MAX_POLICY_ENTRIES} {what} lines"),
                    ))
                } else {
                    Ok(())
                }
            };
            let url =
                |items: &[&str], at: usize, form: &str| -> Result<Option<String>, PolicyError> {
                    match items.len() {
                        l if l == at => Ok(None),
                        l if l == at + 1 => Ok(Some(items[at].to_owned())),
                        _ => Err(fail(n, format!("expected `{form}`"))),
                    }
                };
            match keyword {
                "log" => {
                    too_many("log", policy.logs.len())?;
                    if items.len() < 2 {
                        return Err(fail(n, "expected `log <vkey> [<url>]`".to_owned()));
                    }
                    let mut key = parse_vkey_any(items[1]).map_err(|m| fail(n, m))?;
                    key.url = url(&items, 2, "log <vkey> [<url>]")?;
                    if !keys_seen.insert((key.key_type, key.key.clone())) {
                        return Err(fail(n, format!("duplicate key: log {}", key.name)));
                    }
                    policy.logs.push(key);
                }
                "witness" => {
                    too_many("witness", policy.witnesses.len())?;
                    if items.len() < 3 {
                        return Err(fail(
                            n,
                            "expected `witness <name> <vkey> [<url>]`".to_owned(),
                        ));
                    }
                    let name = items[1];
                    if name == "none" || !names.insert(name.to_owned()) {
                        return Err(fail(n, format!("the name {name:?} is already defined")));
                    }
                    let mut key = parse_vkey_any(items[2]).map_err(|m| fail(n, m))?;
                    key.url = url(&items, 3, "witness <name> <vkey> [<url>]")?;
                    if !keys_seen.insert((key.key_type, key.key.clone())) {
                        return Err(fail(n, format!("duplicate key: witness {name}")));
                    }
                    policy.witnesses.insert(name.to_owned(), key);
                }
                "group" => {
                    too_many("group", policy.groups.len())?;
                    if items.len() < 4 {
                        return Err(fail(
                            n,
                            "expected `group <name> all|any|<k> <name>...` with at least one member"
                                .to_owned(),
                        ));
                    }
                    let name = items[1];
                    let members: Vec<String> = items[3..].iter().map(|s| (*s).to_owned()).collect();
                    let mut unique = BTreeSet::new();
                    for m in &members {
                        if m == "none" {
                            return Err(fail(n, "`none` cannot be a group member".to_owned()));
                        }
                        if !names.contains(m) {
                            return Err(fail(
                                n,
                                format!("group member {m:?} is not defined on an earlier line"),
                            ));
                        }
                        if !unique.insert(m) {
                            return Err(fail(n, format!("group member {m:?} is listed twice")));
                        }
                    }
                    let threshold = match items[2] {
                        "all" => members.len(),
                        "any" => 1,
                        k => {
                            k
                                .parse::<usize>()
                                .ok()
                                .filter(|k| (1..=members.len()).contains(k) && !items[2].starts_with('+'))
                                .ok_or_else(|| {
                                    fail(
                                        n,
                                        format!(
                                            "threshold {k:?} is not `all`, `any` or a number from 1 to {}",
                                            members.len()
                                        ),
                                    )
                                })?
                        }
                    };
                    if name == "none" || !names.insert(name.to_owned()) {
                        return Err(fail(n, format!("the name {name:?} is already defined")));
                    }
                    policy.groups.push(WitnessGroup {
                        name: name.to_owned(),
                        threshold,
                        members,
                    });
                }
                "quorum" => {
                    if items.len() != 2 {
                        return Err(fail(n, "expected `quorum <name>`".to_owned()));
                    }
                    if policy.quorum.is_some() {
                        return Err(fail(
                            n,
                            "a second quorum line; exactly one is allowed".to_owned(),
                        ));
                    }
                    let name = items[1];
                    if name != "none" && !names.contains(name) {
                        return Err(fail(
                            n,
                            format!("quorum {name:?} is not defined on an earlier line"),
                        ));
                    }
                    policy.quorum = Some(name.to_owned());
                }
                "signer" => {
                    too_many("signer", policy.signers.len())?;
                    if items.len() < 2 {
                        return Err(fail(n, "expected `signer <vkey> [<url>]`".to_owned()));
                    }
                    let (name, key) =
                        PublicKey::from_vkey(items[1]).map_err(|e| fail(n, e.to_string()))?;
                    let url = url(&items, 2, "signer <vkey> [<url>]")?;
                    if !signer_keys.insert(key.to_bytes()) {
                        return Err(fail(n, format!("duplicate key: signer {name}")));
                    }
                    policy.signers.push(TrustedSigner { name, key, url });
                }
                other => {
                    return Err(fail(
                        n,
                        format!(
                            "unknown line type {other:?}; expected log, witness, group, quorum or signer"
                        ),
                    ));
                }
            }
        }
        if policy.signers.is_empty() {
            return Err(fail(
                0,
                "the policy names no signer; add `signer <vkey>` lines for the keys whose attestations you trust".to_owned(),
            ));
        }
        if policy.quorum.is_none() && (!policy.logs.is_empty() || !policy.witnesses.is_empty()) {
            return Err(fail(
                0,
                "the policy lists logs or witnesses but no quorum line (`quorum none` if no cosignatures are needed)".to_owned(),
            ));
        }
        Ok(policy)
    }
}

/// Whom to trust.
#[derive(Debug, Clone, Copy)]
pub enum Trust<'a> {
    /// Exactly this key.
    Key(&'a PublicKey),
    /// Any signer the policy lists.
    Policy(&'a TrustPolicy),
}

impl Trust<'_> {
    fn keys(&self) -> Vec<PublicKey> {
        match self {
            Trust::Key(k) => vec![**k],
            Trust::Policy(p) => p.signers.iter().map(|s| s.key).collect(),
        }
    }

    fn name_of(&self, key: &PublicKey) -> Option<String> {
        match self {
            Trust::Key(_) => None,
            Trust::Policy(p) => p
                .signers
                .iter()
                .find(|s| s.key == *key)
                .map(|s| s.name.clone()),
        }
    }
}

/// Why an attestation is not accepted. The time and status variants carry the verdict so a
/// caller can still show what was attested.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{0}")]
    Envelope(DsseError),
    #[error("the signature is good but the payload is not an iotmark attestation: {0}")]
    Statement(StatementError),
    #[error(
        "the statement names assessor key {claimed} but was signed by key {signed}; an organisation can only attest with its own key"
    )]
    AssessorKeyMismatch { claimed: String, signed: String },
    #[error("not yet valid: issued {issued}, but the time now is {now}\n{verdict}")]
    NotYetValid {
        issued: jiff::Timestamp,
        now: jiff::Timestamp,
        verdict: Box<Verdict>,
    },
    #[error("expired: valid until {valid_until}, and the time now is {now}\n{verdict}")]
    Expired {
        valid_until: jiff::Timestamp,
        now: jiff::Timestamp,
        verdict: Box<Verdict>,
    },
    #[error("{}: {} from {} ({})\n{verdict}", status_word(.change.kind), .change.signer, .change.effective, .change.reason)]
    StatusChanged {
        change: AppliedStatus,
        verdict: Box<Verdict>,
    },
    #[error("status attestation {index}: {source}")]
    Status {
        index: usize,
        #[source]
        source: Box<VerifyError>,
    },
}

fn status_word(kind: StatusKind) -> &'static str {
    match kind {
        StatusKind::Vulnerable => "vulnerable",
        StatusKind::Revocation => "revoked",
        StatusKind::Suspension => "suspended",
        StatusKind::EndOfSupport => "support ended",
        StatusKind::Reinstatement => "reinstated",
        StatusKind::Expiry => "expired",
        StatusKind::Withdrawal => "withdrawn by its manufacturer",
    }
}

impl From<DsseError> for VerifyError {
    fn from(e: DsseError) -> Self {
        VerifyError::Envelope(e)
    }
}

/// A status attestation that applies to the verified one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedStatus {
    pub kind: StatusKind,
    pub effective: jiff::Timestamp,
    pub reason: String,
    /// Organisation and key, as in [`Verdict::signer`].
    pub signer: String,
}

/// Whether the verified attestation holds at the time checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Valid,
    NotYetValid,
    Expired,
    Revoked,
    Suspended,
    SupportEnded,
    /// A known exploitable vulnerability is open and the deadline to fix it runs.
    Vulnerable,
    /// The manufacturer marked the version invalid.
    Withdrawn,
    /// A status attestation: it has no validity period of its own.
    StatusRecord,
}

impl Validity {
    pub fn describe(self) -> &'static str {
        match self {
            Validity::Valid => "VALID",
            Validity::NotYetValid => "NOT VALID: not yet valid",
            Validity::Expired => "NOT VALID: expired",
            Validity::Revoked => "NOT VALID: revoked",
            Validity::Suspended => "NOT VALID: suspended",
            Validity::SupportEnded => "NOT VALID: security-update support ended",
            Validity::Vulnerable => "NOT VALID: a known exploitable vulnerability is open",
            Validity::Withdrawn => "NOT VALID: withdrawn by its manufacturer",
            Validity::StatusRecord => "a genuine status record",
        }
    }
}

/// What was verified, in plain words (see `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// SHA-256 of the envelope bytes: what status attestations refer to.
    pub envelope_sha256: Sha256,
    pub subject: Vec<Subject>,
    pub predicate: Predicate,
    /// Key ID of the key that verified.
    pub key_id: String,
    /// The policy's name for that key, when verified against a policy.
    pub key_name: Option<String>,
    pub checked_at: jiff::Timestamp,
    pub validity: Validity,
    /// Status attestations that apply, in effective order.
    pub statuses: Vec<AppliedStatus>,
    /// Facts worth knowing that do not invalidate (e.g. support has ended).
    pub notes: Vec<String>,
}

impl Verdict {
    /// Whether the attestation holds at the time checked.
    pub fn is_valid(&self) -> bool {
        self.validity == Validity::Valid
    }

    /// The verdict as JSON, for `--json` output.
    pub fn to_json(&self) -> serde_json::Value {
        let predicate = match &self.predicate {
            Predicate::Conformity(p) => serde_json::to_value(p),
            Predicate::Status(p) => serde_json::to_value(p),
        }
        .unwrap_or(serde_json::Value::Null);
        serde_json::json!({
            "valid": self.is_valid(),
            "validity": self.validity.describe(),
            "checked_at": self.checked_at.to_string(),
            "envelope_sha256": self.envelope_sha256,
            "key_id": self.key_id,
            "key_name": self.key_name,
            "subject": self.subject,
            "predicateType": self.predicate.type_uri(),
            "predicate": predicate,
            "statuses": self.statuses.iter().map(|s| serde_json::json!({
                "status": s.kind.as_str(),
                "effective": s.effective.to_string(),
                "reason": s.reason,
                "signer": s.signer,
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }

    /// "Acme Devices Ltd, key 3b1f…" (with the policy name when known).
    pub fn signer(&self) -> String {
        let org = match &self.predicate {
            Predicate::Conformity(p) => &p.assessor.organisation,
            Predicate::Status(p) => &p.issuer.organisation,
        };
        match &self.key_name {
            Some(name) => format!("{org} (policy signer {name}, key {})", self.key_id),
            None => format!("{org} (key {})", self.key_id),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.predicate {
            Predicate::Conformity(p) => write_conformity(f, self, p)?,
            Predicate::Status(p) => write_status(f, self, p)?,
        }
        for s in &self.statuses {
            writeln!(
                f,
                "  {} from {} by {}: {}",
                s.kind.as_str(),
                s.effective,
                s.signer,
                s.reason
            )?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        write!(
            f,
            "  checked at {}: {}",
            self.checked_at,
            self.validity.describe()
        )
    }
}

fn write_subjects(f: &mut fmt::Formatter<'_>, subjects: &[Subject]) -> fmt::Result {
    for s in subjects {
        let digest = s.digest.get("sha256").map(String::as_str).unwrap_or("?");
        writeln!(f, "  firmware:   {} (sha256 {digest})", s.name)?;
    }
    Ok(())
}

fn write_conformity(
    f: &mut fmt::Formatter<'_>,
    v: &Verdict,
    p: &ConformityPredicate,
) -> fmt::Result {
    let c = &p.assessment.summary;
    writeln!(
        f,
        "{} {} ({}), version {}: {} to scheme {} (tier {}), by {} ({})",
        p.product.manufacturer,
        p.product.name,
        p.product.model,
        p.product.version,
        if p.assessment.conforms {
            "conforms"
        } else {
            "DOES NOT conform"
        },
        p.scheme,
        p.tier,
        p.route.describe(),
        p.route.as_str()
    )?;
    write_subjects(f, &v.subject)?;
    writeln!(f, "  signed by:  {}", v.signer())?;
    writeln!(
        f,
        "  assessment: {} satisfied, {} not satisfied, {} not applicable, {} need review (results sha256 {})",
        c.satisfied, c.not_satisfied, c.not_applicable, c.needs_review, p.assessment.results_sha256
    )?;
    if let Some(profile) = &p.profile {
        writeln!(f, "  profile:    {profile}")?;
    }
    writeln!(f, "  issued:     {}", p.issued)?;
    writeln!(f, "  valid until {}", p.valid_until)?;
    match &p.support_end {
        Some(end) => writeln!(f, "  security updates until {end}")?,
        None => writeln!(f, "  security updates: no end date declared")?,
    }
    writeln!(f, "  envelope:   sha256 {}", v.envelope_sha256)
}

fn write_status(f: &mut fmt::Formatter<'_>, v: &Verdict, p: &StatusPredicate) -> fmt::Result {
    writeln!(
        f,
        "{} of the attestation with envelope sha256 {}, effective {}: {}",
        p.status.as_str(),
        p.refers_to.envelope_sha256,
        p.effective,
        p.reason
    )?;
    write_subjects(f, &p.refers_to.subject)?;
    writeln!(f, "  signed by:  {}", v.signer())?;
    writeln!(f, "  issued:     {}", p.issued)?;
    writeln!(f, "  envelope:   sha256 {}", v.envelope_sha256)
}

/// Verifies one envelope's signature and statement, without time checks: the shared first
/// half of [`verify`] and of checking status attestations.
fn verify_signed(
    envelope: &[u8],
    trust: Trust<'_>,
    now: jiff::Timestamp,
) -> Result<Verdict, VerifyError> {
    let env = Envelope::parse(envelope)?;
    env.expect_payload_type(IN_TOTO_PAYLOAD_TYPE)?;
    let keys = trust.keys();
    let (_, key_index, payload) = env.verify_any(&keys)?;
    let key = keys[key_index];
    // Only the verified bytes are parsed (DSSE: never re-read the envelope).
    let statement = Statement::parse(payload).map_err(VerifyError::Statement)?;
    let claimed = match &statement.predicate {
        Predicate::Conformity(p) => &p.assessor.key_id,
        Predicate::Status(p) => &p.issuer.key_id,
    };
    // Status records are not time-bound; a conformity attestation is valid until a check
    // below says otherwise.
    let validity = match &statement.predicate {
        Predicate::Conformity(_) => Validity::Valid,
        Predicate::Status(_) => Validity::StatusRecord,
    };
    if *claimed != key.key_id() {
        return Err(VerifyError::AssessorKeyMismatch {
            claimed: claimed.clone(),
            signed: key.key_id(),
        });
    }
    Ok(Verdict {
        envelope_sha256: Sha256::of(envelope),
        subject: statement.subject,
        predicate: statement.predicate,
        key_id: key.key_id(),
        key_name: trust.name_of(&key),
        checked_at: now,
        validity,
        statuses: Vec::new(),
        notes: Vec::new(),
    })
}

/// Verifies an attestation envelope (its bytes as published) at time `now`.
pub fn verify(
    envelope: &[u8],
    trust: Trust<'_>,
    now: jiff::Timestamp,
) -> Result<Verdict, VerifyError> {
    verify_with_status(envelope, &[], trust, now)
}

/// Verifies an attestation and applies the status attestations among `statuses` that refer
/// to it (others are ignored). Each status attestation must itself verify under `trust`.
pub fn verify_with_status(
    envelope: &[u8],
    statuses: &[&[u8]],
    trust: Trust<'_>,
    now: jiff::Timestamp,
) -> Result<Verdict, VerifyError> {
    let mut verdict = verify_signed(envelope, trust, now)?;
    let Predicate::Conformity(p) = &verdict.predicate else {
        // A status attestation: its signature and form are what there is to check.
        return Ok(verdict);
    };
    let (issued, until) = (p.issued, p.valid_until);
    if let Some(end) = p.support_end
        && end < now.to_zoned(jiff::tz::TimeZone::UTC).date()
    {
        verdict.notes.push(format!(
            "the declared security-update support period ended on {end}"
        ));
    }

    let mut applied: Vec<(jiff::Timestamp, AppliedStatus)> = Vec::new();
    for (index, bytes) in statuses.iter().enumerate() {
        let wrap = |e: VerifyError| VerifyError::Status {
            index,
            source: Box::new(e),
        };
        let status = verify_signed(bytes, trust, now).map_err(wrap)?;
        let Predicate::Status(sp) = &status.predicate else {
            return Err(wrap(VerifyError::Statement(StatementError {
                field: "predicateType".to_owned(),
                message: "is a conformity attestation, expected a status attestation".to_owned(),
            })));
        };
        if sp.refers_to.envelope_sha256 != verdict.envelope_sha256 {
            continue;
        }
        let effective = sp.effective;
        if effective > now {
            verdict.notes.push(format!(
                "a {} takes effect on {}: {}",
                sp.status.as_str(),
                sp.effective,
                sp.reason
            ));
            continue;
        }
        applied.push((
            effective,
            AppliedStatus {
                kind: sp.status,
                effective: sp.effective,
                reason: sp.reason.clone(),
                signer: status.signer(),
            },
        ));
    }
    applied.sort_by_key(|(t, _)| *t);
    verdict.statuses = applied.into_iter().map(|(_, s)| s).collect();

    // Where the attestation stands after the changes in force, as the lifecycle table says
    // (revocation, end of support and withdrawal are final; a reinstatement lifts a
    // suspension or the vulnerable state); the change that put it there is the one to show.
    use iotmark_lifecycle::machine::{State, replay_records};
    let state = replay_records(
        State::Conformant,
        verdict.statuses.iter().map(|s| s.kind.record()),
    );
    let validity = match state {
        State::Revoked => Some(Validity::Revoked),
        State::EndOfSupport => Some(Validity::SupportEnded),
        State::Suspended => Some(Validity::Suspended),
        State::Vulnerable => Some(Validity::Vulnerable),
        State::Withdrawn => Some(Validity::Withdrawn),
        State::Expired => Some(Validity::Expired),
        State::Conformant | State::Unassessed => None,
    };
    if let Some(validity) = validity {
        let mut change = None;
        let mut reached = State::Conformant;
        for s in &verdict.statuses {
            let after = replay_records(reached, [s.kind.record()]);
            if after != reached {
                change = Some(s.clone());
                reached = after;
            }
        }
        if let Some(change) = change {
            verdict.validity = validity;
            return Err(VerifyError::StatusChanged {
                change,
                verdict: Box::new(verdict),
            });
        }
    }
    if now < issued {
        verdict.validity = Validity::NotYetValid;
        return Err(VerifyError::NotYetValid {
            issued: p.issued,
            now,
            verdict: Box::new(verdict),
        });
    }
    if now >= until {
        verdict.validity = Validity::Expired;
        return Err(VerifyError::Expired {
            valid_until: p.valid_until,
            now,
            verdict: Box::new(verdict),
        });
    }
    Ok(verdict)
}

/// The fuzz entry point: `data` as an envelope (and its payload as a statement, unverified),
/// as a statement, and as a trust policy. Shared by the libFuzzer target and the corpus test.
#[doc(hidden)]
pub fn fuzz_dsse_envelope(data: &[u8]) {
    if let Ok(env) = Envelope::parse(data) {
        let _ = Statement::parse(&env.payload);
        let key = crate::keys::FileSigner::from_seed(&[7u8; 32]);
        let public = crate::keys::Signer::public_key(&key);
        let _ = env.verify(&public);
        let _ = env.to_json();
    }
    if let Ok(statement) = Statement::parse(data) {
        let _ = statement.to_json();
    }
    if let Ok(policy) = TrustPolicy::parse(data, "fuzz") {
        let now = jiff::Timestamp::UNIX_EPOCH;
        let _ = verify(data, Trust::Policy(&policy), now);
    }
}
