//! The registry record of a product: the items a public IoT registry shows for each labelled
//! product (the FCC's list in 47 CFR 8.222, which the other schemes' registries share), each
//! from where it is known: the product and its manufacturer from the attestations, status
//! and validity from the log, the rest from the manufacturer's published declaration. One
//! struct, so the page and the API say the same.

use iotmark_attest::statement::Route;
use iotmark_declare::{Declaration, DefaultPassword};

use crate::status::Standing;
use crate::store::{AttestationRecord, Product};

/// Who runs the label for the scheme this registry serves, and how to reach them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LabelAdministrator {
    pub name: String,
    /// An e-mail address or a URL.
    pub contact: String,
}

/// The default password and how to change it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PasswordRecord {
    pub uses_passwords: bool,
    /// `none`, `unique-per-device`, `set-at-setup` or `shared`.
    #[schema(value_type = String)]
    pub default_password: DefaultPassword,
    /// How the owner changes it; absent when the declaration does not say (for a product
    /// with passwords, the page says it cannot be changed as far as anyone was told).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_procedure: Option<String>,
}

/// Whether there is an SBOM, and whether the registry holds the one the attestation names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SbomRecord {
    /// The manufacturer's declaration says it keeps one.
    pub declared: bool,
    /// SHA-256 of the SBOM the current attestation is bound to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The registry holds that SBOM (and the monitor watches it).
    pub held_by_registry: bool,
}

/// A product's registry record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RegistryRecord {
    pub product_name: String,
    pub model: String,
    pub manufacturer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_url: Option<String>,
    /// The version the record speaks for (the newest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When its conformity was declared or certified.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub authorised: Option<jiff::Timestamp>,
    /// `sdoc` or `certification`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Standing>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Absent when the operator has not named one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_administrator: Option<LabelAdministrator>,
    /// The certifying lab's organisation; absent for a manufacturer's own declaration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_lab: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_guidance: Option<String>,
    /// Whether updates install by themselves; absent when the product takes none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic_updates: Option<bool>,
    /// What the owner does to get updates, when they do not install by themselves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_instructions: Option<String>,
    /// End of the security-support period, `YYYY-MM-DD`; absent when not declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub support_end: Option<jiff::civil::Date>,
    pub sbom: SbomRecord,
    /// Until when the label may be used; after it, the label has expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub label_valid_until: Option<jiff::Timestamp>,
}

/// What a record is made from.
#[derive(Debug)]
pub struct Sources<'a> {
    pub product: &'a Product,
    pub declaration: Option<&'a Declaration>,
    /// The attestation that speaks for the newest version, and its standing.
    pub current: Option<(&'a AttestationRecord, Standing)>,
    pub administrator: Option<LabelAdministrator>,
    /// The certifying lab's name, by organisation ID.
    pub lab_name: Option<String>,
    /// Whether the registry holds the SBOM the current attestation names.
    pub sbom_held: bool,
}

impl RegistryRecord {
    pub fn of(s: Sources<'_>) -> RegistryRecord {
        let record = s.current.map(|(r, _)| r);
        let certified = record.is_some_and(|r| r.route == Some(Route::Certification));
        let updates = s.declaration.map(|d| &d.updates);
        RegistryRecord {
            product_name: s.product.name.clone(),
            model: s.product.model.clone(),
            manufacturer: s.product.manufacturer_name.clone(),
            manufacturer_url: s
                .declaration
                .and_then(|d| d.product.manufacturer.url.clone()),
            version: record.map(|r| r.version.clone()),
            authorised: record.map(|r| r.issued.unwrap_or(r.logged)),
            route: record.and_then(|r| r.route.map(|r| r.as_str().to_owned())),
            status: s.current.map(|(_, standing)| standing),
            scheme: record.and_then(|r| r.scheme.clone()),
            label_administrator: s.administrator,
            test_lab: if certified { s.lab_name } else { None },
            password: s.declaration.map(|d| PasswordRecord {
                uses_passwords: d.credentials.uses_passwords,
                default_password: d.credentials.default_password,
                change_procedure: d.credentials.change_procedure.clone(),
            }),
            configuration_guidance: s
                .declaration
                .and_then(|d| d.security.configuration_guidance.clone()),
            automatic_updates: updates.filter(|u| u.updatable).map(|u| u.automatic),
            update_instructions: updates
                .filter(|u| u.updatable && !u.automatic)
                .and_then(|u| u.owner_action.clone()),
            support_end: record.and_then(|r| r.support_end).or_else(|| {
                updates
                    .and_then(|u| u.support_end.as_deref())
                    .and_then(|d| d.parse().ok())
            }),
            sbom: SbomRecord {
                declared: s.declaration.is_some_and(|d| d.security.sbom),
                sha256: record.and_then(|r| r.sbom_sha256.clone()),
                held_by_registry: s.sbom_held,
            },
            label_valid_until: record.and_then(|r| r.valid_until),
        }
    }
}
