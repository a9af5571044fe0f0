//! Webhooks: every attestation the registry records (a conformity attestation published, a
//! status changed) is sent to the subscriptions that ask about its product, signed in the
//! Standard Webhooks format.
//!
//! Delivery is at least once. Each message waits in the outbox, written by the transaction
//! that records its attestation, until a receiver answers 2xx. A failed attempt is retried
//! after a delay that grows fourfold from [`WebhookPolicy::first_retry`] up to
//! [`WebhookPolicy::longest_retry`], [`WebhookPolicy::attempts`] times in all. A worker
//! killed mid-attempt leaves the message due again when the attempt's lease ends, so a
//! receiver may see a message twice; it is sent with the same `webhook-id` every time, which
//! receivers use to drop repeats.
//!
//! A receiver's URL is checked when it subscribes and again before each attempt: `http` or
//! `https`, and, unless the operator allows private networks, every address its host
//! resolves to is a public one (the registry is no proxy into its own network). Redirects are
//! not followed.

use std::net::{IpAddr, ToSocketAddrs as _};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit as _, Mac as _};

use crate::accept::{Refusal, Rule};
use crate::service::{Registry, RegistryError};
use crate::store::{AttestationRecord, DueMessage, EntryKind, NewWebhook, Organisation};

/// Messages taken per round of attempts.
const ROUND: u32 = 64;

/// Longest receiver URL, in bytes.
const MAX_URL_BYTES: usize = 2048;

/// Subscriptions one organisation may hold.
const MAX_WEBHOOKS_PER_ORGANISATION: usize = 50;

/// How the registry delivers webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// Whether receivers on loopback, private, link-local or other non-public addresses
    /// are allowed (a registry inside a closed network, or a test).
    pub private_networks: bool,
    /// The delay before the first retry; each later one is four times the one before.
    pub first_retry: Duration,
    /// The longest delay between two attempts.
    pub longest_retry: Duration,
    /// Attempts in all before a message is given up on.
    pub attempts: u32,
    /// How long one attempt may take, connection to answer.
    pub timeout: Duration,
}

impl Default for WebhookPolicy {
    /// Retries after 5 s, 20 s, 80 s, … up to 10 h apart: 13 attempts over about 2.4 days.
    fn default() -> Self {
        WebhookPolicy {
            private_networks: false,
            first_retry: Duration::from_secs(5),
            longest_retry: Duration::from_secs(10 * 3600),
            attempts: 13,
            timeout: Duration::from_secs(15),
        }
    }
}

impl WebhookPolicy {
    /// The delay after the `attempt`-th failed attempt (1 for the first).
    pub fn retry_after(&self, attempt: u32) -> Duration {
        let factor = 4u32.saturating_pow(attempt.saturating_sub(1));
        self.first_retry
            .saturating_mul(factor)
            .min(self.longest_retry)
    }
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Deliveries {
    pub delivered: u64,
    /// Attempts that failed and will be retried.
    pub retrying: u64,
    /// Messages given up on after their last attempt.
    pub given_up: u64,
}

/// The Standard Webhooks event type of an attestation.
pub fn event_type(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Conformity => "attestation.published",
        EntryKind::Status => "attestation.status_changed",
    }
}

/// The body of the message about `record`: the event type, the time it was logged, and the
/// attestation as the API shows it, with links to its product page, its envelope and the
/// log. Built from the recorded attestation alone, so every attempt sends the same bytes.
pub fn payload(record: &AttestationRecord, public_url: &str) -> Vec<u8> {
    let mut links = serde_json::json!({
        "product": format!("{public_url}/p/{}", record.product_id),
        "attestation": format!("{public_url}/api/v1/attestations/{}", record.envelope_sha256),
        "envelope": format!("{public_url}/api/v1/attestations/{}/envelope", record.envelope_sha256),
        "log_entry": format!("{public_url}/log/entry/{}", record.log_index),
        // The inclusion proof for offline checking (`iotmark verify --receipt`).
        "receipt": format!("{public_url}/log/entry/{}/receipt", record.log_index),
    });
    if !record.vulnerabilities.is_empty() {
        links["csaf"] = serde_json::json!(format!(
            "{public_url}/api/v1/attestations/{}/csaf",
            record.envelope_sha256
        ));
    }
    let body = serde_json::json!({
        "type": event_type(record.kind),
        "timestamp": record.logged,
        "data": { "attestation": record, "links": links },
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The `webhook-signature` header for a message: `v1,` and the base64 HMAC-SHA256, keyed
/// with the secret's bytes, of `{id}.{timestamp}.{body}`.
pub fn signature(
    secret: &str,
    message_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, String> {
    let key = secret_key(secret)?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key)
        .map_err(|e| format!("the webhook secret cannot key HMAC-SHA256: {e}"))?;
    mac.update(format!("{message_id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

/// The key bytes of a `whsec_…` secret.
fn secret_key(secret: &str) -> Result<Vec<u8>, String> {
    let encoded = secret
        .strip_prefix("whsec_")
        .ok_or("a webhook secret starts with whsec_")?;
    let key = BASE64
        .decode(encoded)
        .map_err(|e| format!("the webhook secret is not base64 after whsec_: {e}"))?;
    if key.is_empty() {
        return Err("the webhook secret is empty".to_owned());
    }
    Ok(key)
}

/// A new secret: 32 random bytes.
fn new_secret() -> Result<String, RegistryError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| RegistryError::Internal(format!("random: {e}")))?;
    Ok(format!("whsec_{}", BASE64.encode(key)))
}

/// A new subscription ID: `wh_` and 32 hex digits.
fn new_id() -> Result<String, RegistryError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| RegistryError::Internal(format!("random: {e}")))?;
    Ok(format!(
        "wh_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Whether an address is one the public internet routes to. Not loopback, private (RFC 1918,
/// IPv6 unique local), carrier-grade NAT, link-local, documentation, benchmarking, multicast,
/// broadcast, unspecified, or an IPv4 one of those in IPv6 form.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || first == 0x0064 && v6.segments()[1] == 0xff9b)
        }
    }
}

/// Checks a receiver URL: its form, and where its host resolves (blocking: DNS).
fn check_url(url: &str, private_networks: bool) -> Result<(), String> {
    if url.len() > MAX_URL_BYTES {
        return Err(format!("the URL is longer than {MAX_URL_BYTES} bytes"));
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{url:?} is not an http:// or https:// URL; webhooks are sent over HTTP"
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL carries a user name or password; put a secret in its path or rely on the signature instead".to_owned());
    }
    if parsed.fragment().is_some() {
        return Err("the URL has a #fragment, which is never sent".to_owned());
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| format!("{url:?} has no host"))?;
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| format!("{url:?} has no port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .map(|a| a.ip())
        .collect();
    if addresses.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    if !private_networks && let Some(private) = addresses.iter().find(|a| !is_public(**a)) {
        return Err(format!(
            "{host} resolves to {private}, which is not a public address; this registry sends \
             webhooks to public addresses only (its operator may allow private networks with \
             --webhooks-to-private-networks)"
        ));
    }
    Ok(())
}

/// One attempt's outcome.
enum Outcome {
    Delivered,
    Failed(String),
}

/// The HTTP client of one delivery pass: the policy's timeout, no redirects, answers of any
/// status returned rather than raised. Shared by the pass's attempts (its connection pool
/// too).
fn agent(policy: WebhookPolicy) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(policy.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("iotmark-registry/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent()
}

/// Sends one message (blocking): checks the URL again, then POSTs the body with the
/// Standard Webhooks headers.
fn send(agent: &ureq::Agent, policy: WebhookPolicy, message: &DueMessage, body: &[u8]) -> Outcome {
    if let Err(e) = check_url(&message.url, policy.private_networks) {
        return Outcome::Failed(e);
    }
    let timestamp = jiff::Timestamp::now().as_second();
    let signature = match signature(&message.secret, &message.message_id, timestamp, body) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(e),
    };
    let response = agent
        .post(&message.url)
        .header("webhook-id", &message.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .content_type("application/json")
        .send(body);
    match response {
        Ok(r) if r.status().is_success() => Outcome::Delivered,
        Ok(r) => Outcome::Failed(format!(
            "the receiver answered HTTP {}",
            r.status().as_u16()
        )),
        Err(e) => Outcome::Failed(format!("sending failed: {e}")),
    }
}

impl Registry {
    /// Subscribes `organisation` to the attestations about `product_id` (every product when
    /// `None`), delivered to `url`. The answer carries the signing secret, shown only here.
    pub async fn add_webhook(
        &self,
        organisation: &Organisation,
        url: &str,
        product_id: Option<&str>,
    ) -> Result<NewWebhook, RegistryError> {
        let refused = |message: String| {
            RegistryError::Refused(Refusal {
                rule: Rule::Webhook,
                message,
            })
        };
        let live = self.store.webhooks_of(&organisation.id).await?;
        if live.len() >= MAX_WEBHOOKS_PER_ORGANISATION {
            return Err(refused(format!(
                "{} already has {MAX_WEBHOOKS_PER_ORGANISATION} webhooks; remove one first \
                 (DELETE /api/v1/webhooks/ID)",
                organisation.id
            )));
        }
        if let Some(product) = product_id
            && self.store.product(product).await?.is_none()
        {
            return Err(RegistryError::Refused(Refusal {
                rule: Rule::NotFound,
                message: format!("no product {product:?} is registered"),
            }));
        }
        let private = self.webhook_policy().private_networks;
        let checked = url.to_owned();
        tokio::task::spawn_blocking(move || check_url(&checked, private))
            .await
            .map_err(|e| RegistryError::Internal(e.to_string()))?
            .map_err(refused)?;
        let webhook = NewWebhook {
            id: new_id()?,
            organisation: organisation.id.clone(),
            url: url.to_owned(),
            secret: new_secret()?,
            product_id: product_id.map(str::to_owned),
            created: jiff::Timestamp::now(),
        };
        self.store.add_webhook(&webhook).await?;
        Ok(webhook)
    }

    /// Sends every message due now, each once, and records what happened to it; messages
    /// that fall due meanwhile wait for the next pass.
    pub async fn deliver_webhooks(&self) -> Result<Deliveries, RegistryError> {
        let policy = self.webhook_policy();
        let client = agent(policy);
        let mut done = Deliveries::default();
        let started = jiff::Timestamp::now().as_millisecond();
        loop {
            let due = self.store.due_webhook_messages(started, ROUND).await?;
            if due.is_empty() {
                return Ok(done);
            }
            let mut attempts = tokio::task::JoinSet::new();
            for message in due {
                let now = jiff::Timestamp::now();
                // The lease: long enough for the attempt, after which a dead worker's message
                // is due again.
                let lease = now.as_millisecond()
                    + i64::try_from(policy.timeout.as_millis().saturating_mul(2))
                        .unwrap_or(i64::MAX / 2);
                if !self
                    .store
                    .claim_webhook_message(&message, lease, now)
                    .await?
                {
                    continue;
                }
                let Some(record) = self.store.attestation(&message.envelope_sha256).await? else {
                    // The outbox's foreign key makes this impossible; say so if it happens.
                    return Err(RegistryError::Internal(format!(
                        "webhook message {} is about attestation {}, which is not recorded",
                        message.message_id, message.envelope_sha256
                    )));
                };
                let body = payload(&record, &self.config.public_url);
                let client = client.clone();
                attempts.spawn_blocking(move || {
                    let outcome = send(&client, policy, &message, &body);
                    (message, outcome)
                });
            }
            while let Some(joined) = attempts.join_next().await {
                let (message, outcome) =
                    joined.map_err(|e| RegistryError::Internal(e.to_string()))?;
                let attempt = message.attempts + 1;
                match outcome {
                    Outcome::Delivered => {
                        self.store
                            .webhook_delivered(&message.message_id, jiff::Timestamp::now())
                            .await?;
                        done.delivered += 1;
                    }
                    Outcome::Failed(error) if attempt >= policy.attempts => {
                        tracing::warn!(message = %message.message_id, url = %message.url, %error, "webhook given up");
                        self.store
                            .webhook_given_up(&message.message_id, jiff::Timestamp::now(), &error)
                            .await?;
                        done.given_up += 1;
                    }
                    Outcome::Failed(error) => {
                        let next = jiff::Timestamp::now().as_millisecond()
                            + i64::try_from(policy.retry_after(attempt).as_millis())
                                .unwrap_or(i64::MAX / 2);
                        self.store
                            .webhook_retry(&message.message_id, next, &error)
                            .await?;
                        done.retrying += 1;
                    }
                }
            }
        }
    }

    /// Delivers webhooks until the registry is dropped: a pass every `every`.
    pub async fn deliver_webhooks_forever(self: std::sync::Arc<Self>, every: Duration) {
        loop {
            if let Err(e) = self.deliver_webhooks().await {
                tracing::error!(error = %e, "webhook delivery failed");
            }
            tokio::time::sleep(every).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (and of its reference libraries'
    /// tests): secret, message ID, timestamp and body, and the signature they give.
    #[test]
    fn signs_the_specifications_example() {
        assert_eq!(
            signature(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#,
            )
            .unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_secret_must_be_whsec_and_base64() {
        assert!(signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, b"").is_err());
        assert!(signature("whsec_not base64!", "m", 1, b"").is_err());
        assert!(signature("whsec_", "m", 1, b"").is_err());
    }

    #[test]
    fn retries_grow_fourfold_to_the_longest() {
        let policy = WebhookPolicy::default();
        let delays: Vec<u64> = (1..=policy.attempts)
            .map(|n| policy.retry_after(n).as_secs())
            .collect();
        assert_eq!(&delays[..5], &[5, 20, 80, 320, 1280]);
        assert_eq!(delays[8], 10 * 3600);
        let total: u64 = delays[..policy.attempts as usize - 1].iter().sum();
        assert!(
            (2 * 86_400..3 * 86_400).contains(&total),
            "retries span {total} s"
        );
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn receiver_urls_are_checked() {
        let refused = |url: &str| check_url(url, false).unwrap_err();
        assert!(refused("ftp://example.org/x").contains("http"));
        assert!(refused("not a url").contains("not a URL"));
        assert!(refused("http://user:pw@127.0.0.1/hook").contains("password"));
        assert!(refused("http://127.0.0.1:9/hook").contains("not a public address"));
        assert!(refused("http://[::1]:9/hook").contains("not a public address"));
        assert!(check_url("http://127.0.0.1:9/hook", true).is_ok());
    }
}
