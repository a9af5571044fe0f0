//! `iotmark init`: a complete, commented declaration to start from. Every key the model has
//! is present with a realistic value and a comment that says what it means, so the file is
//! valid as written and the manufacturer edits rather than researches.

/// What the user told `init` (flags or prompts); the rest of the template is defaults.
#[derive(Debug, Clone)]
pub struct Scaffold {
    pub product_id: String,
    pub manufacturer: String,
    pub name: String,
    pub model: String,
    pub category: String,
    /// End of the security-update support period (YYYY-MM-DD).
    pub support_end: String,
    pub contact: String,
}

fn yaml_string(s: &str) -> String {
    // Double-quoted YAML scalars escape like JSON strings.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

impl Scaffold {
    pub fn render(&self) -> String {
        TEMPLATE
            .replace("{product_id}", &self.product_id)
            .replace("{manufacturer}", &yaml_string(&self.manufacturer))
            .replace("{name}", &yaml_string(&self.name))
            .replace("{model}", &yaml_string(&self.model))
            .replace("{category}", &self.category)
            .replace("{support_end}", &self.support_end)
            .replace("{contact}", &yaml_string(&self.contact))
    }
}

const TEMPLATE: &str = r#"# yaml-language-server: $schema=https://iotmark.dev/schemas/declaration.schema.json
# iotmark product declaration. Check it with `iotmark check FILE`; assess it with
# `iotmark assess FILE --scheme en303645-self-declaration`. Field reference: docs/ASSESSMENT.md.

product:
  id: {product_id}                 # stable across versions: lower case, digits, dashes
  manufacturer:
    name: {manufacturer}
    url: https://example.com        # the manufacturer's site (https)
  name: {name}
  model: {model}
  category: {category}            # camera, router, smart-lock, toy, ... (see the schema)
  description: One paragraph a buyer would understand.

components:                      # at least one device; add hub, app and backend as they exist
  - id: device
    type: device
    name: {name}
    version: 1.0.0
    constrained: false           # EN 303 645 "constrained device"
    firmware:                    # the images this version ships; `sha256sum FILE`
      - file: firmware-1.0.0.bin
        sha256: "0000000000000000000000000000000000000000000000000000000000000000"  # quoted: digits alone read as a number
  - id: app
    type: app
    name: Companion app
    version: 1.0.0

use:
  users: consumer                # consumer, enterprise, government, industrial
  sector: consumer               # healthcare, energy, transport, ... raise the risk tier
  environment: home
  safety_impact: none            # none, low, moderate, high
  data:
    personal: true
    sensitive: []                # audio, video, location, health, biometric, children, ...
    telemetry: false
    consent_based: false

interfaces:
  network:                       # every service a component listens on
    - name: local API
      component: device
      protocol: https
      port: 443
      transport: tcp
      exposure: lan              # local, lan, internet
      authentication: token      # none, password, certificate, token, pairing
      encryption: tls            # none, tls, dtls, other
      enabled_by_default: true
  radios: [wifi]
  physical:                      # debug and service ports
    - name: UART header
      component: device
      kind: uart                 # uart, jtag, swd, usb, sd-card, button, other
      accessible: false          # reachable without breaking the enclosure?
      disabled_in_software: true
  cloud:                         # every endpoint the device connects to by itself
    - host: api.example.com      # a DNS name; `iotmark mud` allows these and nothing else
      port: 443
      transport: tcp
      protocol: https
      purpose: app and cloud API

updates:                         # the NTIA update-transparency elements
  updatable: true
  support_end: {support_end}     # end of security updates (YYYY-MM-DD)
  automatic: true
  notification: true
  owner_action: Nothing; updates install overnight. The app shows what changed.
  delivery:
    transport: https             # https, http, app, local
    signed: true                 # the device verifies a signature before installing
    signature_algorithm: ed25519
  rollback_protection: true
  after_support: The device keeps working locally; remote access is switched off.

vulnerability_disclosure:
  contact: {contact}             # e-mail or https URL
  policy_url: https://example.com/security/policy
  security_txt: https://example.com/.well-known/security.txt
  response_days: 5

credentials:
  uses_passwords: true
  default_password: set-at-setup # none, unique-per-device, set-at-setup, shared
  user_authentication: true
  change_procedure: Settings > Account > Change password in the app.
  brute_force_protection: true

security:
  secure_boot: true
  secure_storage: true
  per_device_secrets: true
  input_validation: true
  least_privilege: true
  logging: true
  sbom: true
  configuration_guidance: https://example.com/secure-setup   # shown on the registry page

data_protection:
  user_deletion: true            # factory reset erases user data
  service_deletion: true         # account deletion erases cloud data
  privacy_notice_url: https://example.com/privacy
  sensing_disclosed: true

claims:                          # per requirement: how you meet it, and the evidence
  en303645-5.1-1:
    status: implemented          # implemented, partial, planned, not-applicable
    statement: The owner sets a password during setup; no password ships in the firmware.
    evidence: []
"#;
