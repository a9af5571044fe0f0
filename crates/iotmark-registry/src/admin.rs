//! Administration: what the operator does before anyone can submit. Organisations, their
//! signing keys, API tokens and lab accreditations, written straight to the database (the
//! `iotmark registry admin` commands run these against `--db`, no server needed).

use base64::Engine as _;
use iotmark_attest::keys::PublicKey;
use iotmark_log::merkle;

use crate::store::{Accreditation, ApiToken, Organisation, Role, SigningKey, Store, StoreError};

/// Why an administrative change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("organisation ID {0:?} must be 1 to 64 characters of a-z, 0-9 and '-'")]
    BadId(String),
    #[error("organisation {0:?} does not exist; create it with `iotmark registry admin org add`")]
    NoOrganisation(String),
    #[error("{id} is a {role}; only labs are accredited")]
    NotALab { id: String, role: &'static str },
    #[error("scheme {scheme:?} is not one the registry runs (it runs: {known})")]
    UnknownScheme { scheme: String, known: String },
    #[error("cannot create a token: {0}")]
    Random(String),
    #[error("organisation name {name:?}: {reason}")]
    BadName { name: String, reason: String },
    #[error(
        "the name {name:?} is taken by organisation {holder} ({holder_name:?}); each organisation has a name of its own, which certifications name the manufacturer by"
    )]
    NameTaken {
        name: String,
        holder: String,
        holder_name: String,
    },
}

/// Longest organisation display name, in characters (as long as any name in a statement).
const MAX_NAME_CHARS: usize = iotmark_attest::statement::MAX_NAME_CHARS;

/// A display name as compared for sameness: case folded, runs of white space as one space.
/// "ACME  Devices ltd" and "Acme Devices Ltd" are the same name to a reader.
fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn check_name(name: &str) -> Result<(), AdminError> {
    let bad = |reason: String| AdminError::BadName {
        name: name.to_owned(),
        reason,
    };
    if name.trim().is_empty() {
        return Err(bad("is empty".to_owned()));
    }
    if name.trim() != name {
        return Err(bad("starts or ends with white space".to_owned()));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(bad(format!(
            "has {chars} characters; at most {MAX_NAME_CHARS}"
        )));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(bad(format!("holds the control character {c:?}")));
    }
    Ok(())
}

fn check_id(id: &str) -> Result<(), AdminError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(AdminError::BadId(id.to_owned()))
    }
}

async fn existing(store: &Store, id: &str) -> Result<Organisation, AdminError> {
    store
        .organisation(id)
        .await?
        .ok_or_else(|| AdminError::NoOrganisation(id.to_owned()))
}

/// Registers an organisation.
pub async fn add_organisation(
    store: &Store,
    id: &str,
    name: &str,
    role: Role,
) -> Result<Organisation, AdminError> {
    check_id(id)?;
    check_name(name)?;
    let key = name_key(name);
    if let Some(holder) = store
        .organisations()
        .await?
        .into_iter()
        .find(|o| name_key(&o.name) == key)
    {
        return Err(AdminError::NameTaken {
            name: name.to_owned(),
            holder: holder.id,
            holder_name: holder.name,
        });
    }
    let org = Organisation {
        id: id.to_owned(),
        name: name.to_owned(),
        role,
        created: jiff::Timestamp::now(),
    };
    store.create_organisation(&org).await?;
    Ok(org)
}

/// Registers a public key for an organisation; attestations it signs count as theirs.
pub async fn add_key(
    store: &Store,
    organisation: &str,
    key: &PublicKey,
    label: &str,
) -> Result<SigningKey, AdminError> {
    existing(store, organisation).await?;
    let record = SigningKey {
        key_id: key.key_id(),
        organisation: organisation.to_owned(),
        public_key: key.to_bytes().to_vec(),
        label: label.to_owned(),
        added: jiff::Timestamp::now(),
        retired: None,
    };
    store.add_signing_key(&record).await?;
    Ok(record)
}

/// A new API token for an organisation, acting in its role. Returns the stored record and
/// the secret, which is shown once and never stored.
pub async fn create_token(
    store: &Store,
    organisation: &str,
    label: &str,
) -> Result<(ApiToken, String), AdminError> {
    let org = existing(store, organisation).await?;
    let mut secret_bytes = [0u8; 32];
    getrandom::fill(&mut secret_bytes).map_err(|e| AdminError::Random(e.to_string()))?;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret_bytes);
    let secret = format!("iotmark_{encoded}");
    let hash = merkle::sha256(secret.as_bytes());
    // The public ID is derived from the hash, so it reveals nothing about the secret.
    let token = ApiToken {
        id: format!("tok_{}", &merkle::hex(&hash)[..16]),
        organisation: org.id.clone(),
        role: org.role,
        secret_sha256: hash.to_vec(),
        label: label.to_owned(),
        created: jiff::Timestamp::now(),
        revoked: None,
    };
    store.create_token(&token).await?;
    Ok((token, secret))
}

/// Accredits a lab for a scheme the registry runs.
///
/// Only a lab is accredited: that rule is decided here, not by the store, which records any
/// accreditation of an organisation that exists. Deciding before the write is safe because an
/// organisation's role never changes.
pub async fn accredit(
    store: &Store,
    organisation: &str,
    scheme: &str,
    schemes: &[iotmark_assess::Scheme],
) -> Result<Accreditation, AdminError> {
    let org = existing(store, organisation).await?;
    if org.role != Role::Lab {
        return Err(AdminError::NotALab {
            id: org.id,
            role: org.role.as_str(),
        });
    }
    if !schemes.iter().any(|s| s.id == scheme) {
        return Err(AdminError::UnknownScheme {
            scheme: scheme.to_owned(),
            known: schemes
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let acc = Accreditation {
        organisation: org.id,
        scheme: scheme.to_owned(),
        granted: jiff::Timestamp::now(),
    };
    store.grant_accreditation(&acc).await?;
    Ok(acc)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    #[tokio::test]
    async fn only_a_lab_is_accredited() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("r.db").display());
        let store = crate::store::open(&url).await.unwrap();
        let schemes = iotmark_assess::bundled_schemes(iotmark_catalogs::Bundle::get()).unwrap();
        let scheme = schemes[0].id.clone();
        add_organisation(&store, "acme", "Acme Devices Ltd", Role::Manufacturer)
            .await
            .unwrap();
        add_organisation(&store, "testlab", "Trusted Test Lab", Role::Lab)
            .await
            .unwrap();

        let refused = accredit(&store, "acme", &scheme, &schemes)
            .await
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "acme is a manufacturer; only labs are accredited"
        );
        assert!(store.accreditations("acme").await.unwrap().is_empty());
        assert!(matches!(
            accredit(&store, "initech", &scheme, &schemes).await,
            Err(AdminError::NoOrganisation(id)) if id == "initech"
        ));

        accredit(&store, "testlab", &scheme, &schemes)
            .await
            .unwrap();
        assert_eq!(store.accreditations("testlab").await.unwrap().len(), 1);
        store.close().await;
    }
}
