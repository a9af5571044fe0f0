//! The product declaration: what a manufacturer states about an IoT product.
//!
//! Field names are the dotted paths that rules and schemes refer to (docs/ASSESSMENT.md §1).
//! Every struct denies unknown keys, so a misspelt key is an error with a suggestion rather
//! than a silently ignored fact.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One IoT product, as its manufacturer declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "iotmark product declaration")]
pub struct Declaration {
    /// The JSON Schema this file follows (for editors); ignored by iotmark.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub product: Product,
    /// The product's parts: at least one device, and any hub, companion app or backend.
    #[schemars(length(min = 1))]
    pub components: Vec<Component>,
    #[serde(rename = "use")]
    pub intended_use: IntendedUse,
    #[serde(default)]
    pub interfaces: Interfaces,
    pub updates: Updates,
    pub vulnerability_disclosure: VulnerabilityDisclosure,
    pub credentials: Credentials,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub data_protection: DataProtection,
    /// Per-requirement implementation claims, keyed by requirement ID (`en303645-5.1-1`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, Claim>,
}

/// The form of a product ID, as the declaration's schema states it. Every place an ID enters
/// (a declaration, a signed statement, a registry URL) checks it with [`check_product_id`].
pub const PRODUCT_ID_PATTERN: &str = r"^[a-z0-9][a-z0-9-]{1,62}$";

/// Untrusted text as an error message or a page shows it: no more than a product ID can be
/// long (64 characters), with `…` where it was cut, so a huge value is never echoed whole.
pub fn preview(text: &str) -> String {
    const SHOWN: usize = 64;
    let mut out: String = text.chars().take(SHOWN).collect();
    if text.chars().nth(SHOWN).is_some() {
        out.push('…');
    }
    out
}

/// Whether `id` has the form of a product ID (see [`PRODUCT_ID_PATTERN`]): 2 to 63 lower-case
/// letters, digits and dashes, not starting with a dash. The error says what is wrong, in
/// words a submitter can act on.
pub fn check_product_id(id: &str) -> Result<(), String> {
    let len = id.chars().count();
    if !(2..=63).contains(&len) {
        return Err(format!(
            "a product ID has 2 to 63 characters; this one has {len}"
        ));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "a product ID holds lower-case letters, digits and dashes only; {bad:?} is not allowed"
        ));
    }
    if id.starts_with('-') {
        return Err("a product ID starts with a letter or digit, not a dash".to_owned());
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// A unique, stable product identifier: lower case letters, digits and dashes.
    #[schemars(regex(pattern = PRODUCT_ID_PATTERN))]
    pub id: String,
    pub manufacturer: Manufacturer,
    /// The product name as printed on the box.
    #[schemars(length(min = 1))]
    pub name: String,
    #[schemars(length(min = 1))]
    pub model: String,
    pub category: Category,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manufacturer {
    #[schemars(length(min = 1))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https://"))]
    pub url: Option<String>,
}

/// The kind of product; schemes derive risk tiers and CRA classes from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Camera,
    SmartSpeaker,
    Router,
    Hub,
    Thermostat,
    SmartLock,
    Alarm,
    Lighting,
    Plug,
    Appliance,
    Wearable,
    Toy,
    BabyMonitor,
    HealthMonitor,
    MedicalDevice,
    IndustrialController,
    Vehicle,
    Firewall,
    Vpn,
    SmartMeter,
    Smartcard,
    Hsm,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Referred to by interfaces and evidence: lower case letters, digits and dashes.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"))]
    pub id: String,
    #[serde(rename = "type")]
    pub component_type: ComponentType,
    #[schemars(length(min = 1))]
    pub name: String,
    #[schemars(length(min = 1))]
    pub version: String,
    /// EN 303 645's "constrained device": too limited for some security measures.
    #[serde(default)]
    pub constrained: bool,
    /// The firmware images this version ships, by SHA-256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firmware: Vec<FirmwareImage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ComponentType {
    Device,
    Hub,
    App,
    Backend,
}

impl ComponentType {
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentType::Device => "device",
            ComponentType::Hub => "hub",
            ComponentType::App => "app",
            ComponentType::Backend => "backend",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareImage {
    #[schemars(length(min = 1))]
    pub file: String,
    /// SHA-256 of the image: 64 lower-case hexadecimal digits.
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntendedUse {
    pub users: Users,
    pub sector: Sector,
    pub environment: Environment,
    /// Harm to people if the product is compromised.
    pub safety_impact: SafetyImpact,
    pub data: DataHandled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Users {
    Consumer,
    Enterprise,
    Government,
    Industrial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Sector {
    Consumer,
    Healthcare,
    Energy,
    Transport,
    Manufacturing,
    Government,
    Finance,
    Education,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Environment {
    Home,
    Office,
    Industrial,
    Outdoor,
    Vehicle,
    Clinical,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum SafetyImpact {
    None,
    Low,
    Moderate,
    High,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataHandled {
    pub personal: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<SensitiveData>,
    /// Collects telemetry (EN 303 645 condition C6).
    #[serde(default)]
    pub telemetry: bool,
    /// Processing relies on the user's consent (condition C7).
    #[serde(default)]
    pub consent_based: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SensitiveData {
    Audio,
    Video,
    Location,
    Health,
    Biometric,
    Children,
    Financial,
    Credentials,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interfaces {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network: Vec<NetworkService>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub radios: Vec<Radio>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub physical: Vec<PhysicalPort>,
    /// Every remote endpoint the product connects to by itself (its cloud, update server,
    /// time servers): what a Manufacturer Usage Description (RFC 8520) allows, and nothing else.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cloud: Vec<CloudEndpoint>,
}

/// A remote endpoint the product initiates connections to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloudEndpoint {
    /// The DNS name connected to, as the device resolves it (`api.acme.example`): no scheme,
    /// port or path.
    #[schemars(regex(pattern = HOST_NAME_PATTERN), length(min = 1, max = 253))]
    pub host: String,
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    pub transport: Transport,
    /// Application protocol, e.g. `https`, `mqtts`, `ntp`.
    #[schemars(length(min = 1))]
    pub protocol: String,
    /// What the product uses it for, e.g. `firmware updates`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

/// A DNS host name: dot-separated labels of letters, digits and inner dashes (RFC 1123).
pub const HOST_NAME_PATTERN: &str = r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkService {
    #[schemars(length(min = 1))]
    pub name: String,
    /// The component (by ID) that offers it.
    pub component: String,
    /// Application protocol, e.g. `https`, `mqtt`, `ssh`, `rtsp`.
    #[schemars(length(min = 1))]
    pub protocol: String,
    #[schemars(range(min = 1, max = 65535))]
    pub port: u16,
    pub transport: Transport,
    pub exposure: Exposure,
    pub authentication: Authentication,
    pub encryption: Encryption,
    #[serde(default = "default_true")]
    pub enabled_by_default: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    Tcp,
    Udp,
}

/// How far the service reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    /// Only on the device itself (loopback).
    Local,
    /// The local network.
    Lan,
    /// Reachable from the internet.
    Internet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Authentication {
    None,
    Password,
    Certificate,
    Token,
    Pairing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Encryption {
    None,
    Tls,
    Dtls,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Radio {
    Wifi,
    Ethernet,
    Bluetooth,
    BluetoothLe,
    Zigbee,
    Thread,
    ZWave,
    Matter,
    Cellular,
    Nfc,
    Lora,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhysicalPort {
    #[schemars(length(min = 1))]
    pub name: String,
    pub component: String,
    pub kind: PortKind,
    /// Reachable without opening the enclosure destructively.
    pub accessible: bool,
    pub disabled_in_software: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PortKind {
    Uart,
    Jtag,
    Swd,
    Usb,
    SdCard,
    Button,
    Other,
}

/// The NTIA update-transparency elements, and how updates are delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Updates {
    pub updatable: bool,
    /// End of the security-update support period (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    pub support_end: Option<String>,
    #[serde(default)]
    pub automatic: bool,
    #[serde(default)]
    pub notification: bool,
    /// What the owner must do to receive updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<UpdateDelivery>,
    #[serde(default)]
    pub rollback_protection: bool,
    /// What happens when support ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_support: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDelivery {
    pub transport: UpdateTransport,
    /// Images are signed and the device verifies the signature before installing.
    pub signed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateTransport {
    Https,
    Http,
    App,
    Local,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VulnerabilityDisclosure {
    /// Where to report: an e-mail address or an https URL.
    #[schemars(regex(pattern = r"^(https://\S+|[^@\s]+@[^@\s]+\.[^@\s]+)$"))]
    pub contact: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https://"))]
    pub policy_url: Option<String>,
    /// An RFC 9116 security.txt URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https://"))]
    pub security_txt: Option<String>,
    /// Promised time to a first response, in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 365))]
    pub response_days: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Passwords are used anywhere in the product (EN 303 645 condition C1).
    pub uses_passwords: bool,
    pub default_password: DefaultPassword,
    /// The device authenticates its users (condition C8).
    #[serde(default)]
    pub user_authentication: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_procedure: Option<String>,
    #[serde(default)]
    pub brute_force_protection: bool,
}

/// The state a unit leaves the factory in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DefaultPassword {
    /// No password is pre-installed.
    None,
    /// Each unit has its own, generated password.
    UniquePerDevice,
    /// The owner must set one before first use.
    SetAtSetup,
    /// Every unit shares one password: a universal default.
    Shared,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Security {
    #[serde(default)]
    pub secure_boot: bool,
    #[serde(default)]
    pub secure_storage: bool,
    #[serde(default)]
    pub per_device_secrets: bool,
    #[serde(default)]
    pub input_validation: bool,
    #[serde(default)]
    pub least_privilege: bool,
    #[serde(default)]
    pub logging: bool,
    #[serde(default)]
    pub sbom: bool,
    /// Where the owner finds how to configure the product securely (a URL, or the guidance
    /// itself in a sentence or two): the FCC registry shows it (47 CFR 8.222).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_guidance: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataProtection {
    #[serde(default)]
    pub user_deletion: bool,
    #[serde(default)]
    pub service_deletion: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^https://"))]
    pub privacy_notice_url: Option<String>,
    #[serde(default)]
    pub sensing_disclosed: bool,
}

/// What the manufacturer says about one requirement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub status: ClaimStatus,
    /// How the product meets the requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// Why the requirement does not apply (required with `not-applicable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Evidence record IDs, or paths of documents, that support the claim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimStatus {
    Implemented,
    Partial,
    Planned,
    NotApplicable,
}
