//! The registry's HTTP interface: the JSON API, the log's tiles at the C2SP tlog-tiles paths,
//! and metrics. Handlers are thin: they authenticate, parse, call [`Registry`], and map its
//! answers and refusals to status codes with a JSON body that names the rule.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};

use crate::accept::Rule;
use crate::pagecache::View;
use crate::service::{Registry, RegistryError};
use crate::status;
use crate::store::VulnerabilityReport;

/// Largest request body: an envelope with its declaration is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Largest SBOM upload: a firmware image's SBOM with thousands of components and their
/// hashes runs to megabytes.
pub const MAX_SBOM_BYTES: usize = 64 * 1024 * 1024;

/// Longest a request may take, body upload included; then it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the router.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/api/v1/attestations", post(submit))
        .route("/api/v1/attestations/{sha256}", get(attestation))
        .route("/api/v1/attestations/{sha256}/envelope", get(envelope))
        .route("/api/v1/attestations/{sha256}/csaf", get(csaf_advisory))
        .route("/api/v1/products/lookup", post(lookup))
        .route("/api/v1/products/{id}", get(product))
        .route(
            "/api/v1/products/{id}/declaration",
            axum::routing::put(publish_declaration),
        )
        .route(
            "/api/v1/products/{id}/vulnerability-reports",
            post(report_vulnerability),
        )
        .route(
            "/api/v1/products/{id}/vulnerability-reports/{report}",
            axum::routing::put(triage_report),
        )
        .route(
            "/api/v1/sboms/{sha256}",
            axum::routing::put(upload_sbom).layer(DefaultBodyLimit::max(MAX_SBOM_BYTES)),
        )
        .route("/api/v1/monitor", post(run_monitor))
        .route("/api/v1/products/{id}/announcements", post(announce))
        .route("/api/v1/products/{id}/cra", get(cra_cases))
        .route(
            "/api/v1/products/{id}/cra/{vulnerability}/reports",
            post(cra_report),
        )
        .route(
            "/api/v1/products/{id}/cra/{vulnerability}/fix",
            post(cra_fix),
        )
        .route(
            "/api/v1/products/{id}/appeals",
            post(file_appeal).get(appeals),
        )
        .route("/api/v1/appeals/{id}/decision", post(decide_appeal))
        .route(
            "/api/v1/schemes/{id}/requirement-changes",
            post(record_requirement_change).get(requirement_changes),
        )
        .route("/api/v1/webhooks", post(add_webhook).get(webhooks))
        .route("/api/v1/webhooks/{id}", delete(remove_webhook))
        .route("/api/v1/search", get(search))
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/tile/{*path}", get(tile))
        .route("/log/envelopes/{prefix}/{sha256}", get(log_envelope))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .merge(crate::pages::routes())
        .layer(axum::middleware::from_fn_with_state(
            registry.metrics.clone(),
            crate::metrics::track,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(registry)
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// Which rule refused the request, and how to put it right.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// `signature`, `role`, `accreditation`, `route`, `replay`, `token`, `body`, `not-found`,
    /// `rate-limit`, … (see the acceptance rules in the registry documentation).
    pub rule: String,
    pub message: String,
}

/// An error answer: `{"error": {"rule": …, "message": …}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    rule: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, rule: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            rule,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(ErrorBody {
                error: ErrorDetail {
                    rule: self.rule.to_owned(),
                    message: self.message,
                },
            }),
        )
            .into_response()
    }
}

fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate-limit",
        format!("too many requests; try again in {seconds} s"),
    )
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Refused(r) => {
                ApiError::new(status_of(r.rule), r.rule.as_str(), r.message)
            }
            RegistryError::ShuttingDown => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                e.to_string(),
            ),
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the registry could not complete the request; nothing was accepted",
                )
            }
        }
    }
}

/// The HTTP status of a refusal: 400 for what does not parse, 403 for who may not, 404 for
/// what is not there, 409 for what was done before, 422 for what parses but does not hold.
pub fn status_of(rule: Rule) -> StatusCode {
    match rule {
        Rule::Envelope | Rule::Query => StatusCode::BAD_REQUEST,
        Rule::Signature
        | Rule::Assessor
        | Rule::Role
        | Rule::Accreditation
        | Rule::Manufacturer
        | Rule::Authority => StatusCode::FORBIDDEN,
        Rule::RefersTo | Rule::NotFound => StatusCode::NOT_FOUND,
        Rule::Replay => StatusCode::CONFLICT,
        Rule::Scheme
        | Rule::Route
        | Rule::UnknownManufacturer
        | Rule::Conforms
        | Rule::Validity
        | Rule::Support
        | Rule::RefersToStatus
        | Rule::State
        | Rule::Declaration
        | Rule::Sbom
        | Rule::Announcement
        | Rule::Webhook
        | Rule::Appeal
        | Rule::Triage => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        RegistryError::from(e).into()
    }
}

/// 201 for something recorded now, 200 for a repeat of something recorded before.
fn created_or_ok(new: bool) -> Response {
    if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
    .into_response()
}

/// The request body as a `T`, or a 400 that says what was expected: `what` names it ("an
/// appeal") and `shape` shows its fields.
fn json_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    what: &str,
    shape: &str,
) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "body",
            format!("the body is not {what} ({e}); send {shape}"),
        )
    })
}

async fn authenticate(
    registry: &Registry,
    headers: &HeaderMap,
) -> Result<crate::store::Organisation, ApiError> {
    let unauthorised = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "token", m);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorised("send the API token as `Authorization: Bearer <token>`"))?;
    let secret = value
        .to_str()
        .ok()
        .and_then(bearer_token)
        .ok_or_else(|| unauthorised("the Authorization header must be `Bearer <token>`"))?;
    registry
        .authenticate(secret)
        .await?
        .map(|(_, org)| org)
        .ok_or_else(|| unauthorised("the token is unknown or revoked"))
}

/// The token of an `Authorization: Bearer <token>` value. The scheme's name is
/// case-insensitive (RFC 9110 §11.1), and one or more spaces separate it from the token.
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// A product ID from a URL path: the declaration's form, or a 400 that says it.
fn product_id(id: &str) -> Result<&str, ApiError> {
    iotmark_declare::check_product_id(id).map_err(|reason| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "product-id",
            format!(
                "{:?} is not a product ID: {reason}",
                iotmark_declare::preview(id)
            ),
        )
    })?;
    Ok(id)
}

/// What an accepted submission gets back.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub log_index: u64,
    pub envelope_sha256: String,
    pub kind: crate::store::EntryKind,
    pub product_id: String,
    pub version: String,
    /// The public product page (the QR code's target).
    pub product_url: String,
    /// A C2SP tlog-proof receipt proving the entry is in the log.
    pub receipt: String,
}

/// A DSSE envelope (for the documentation; the body is kept byte for byte as sent).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct DsseEnvelope {
    /// Base64 of the in-toto Statement v1 (JSON).
    payload: String,
    /// `application/vnd.in-toto+json`
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<DsseSignature>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
struct DsseSignature {
    keyid: String,
    /// Base64 Ed25519 signature of the PAE of payload type and payload.
    sig: String,
}

/// Submit an attestation: a declaration of conformity, a certification, or a status change
/// (suspension, revocation, end of support, reinstatement).
///
/// The body is the DSSE envelope exactly as signed and published: its SHA-256 identifies it
/// from then on (status changes refer to it), so the bytes are kept as sent. The attestation
/// is appended to the transparency log before the answer, which carries the receipt.
#[utoipa::path(
    post,
    path = "/api/v1/attestations",
    tag = "attestations",
    request_body(content = DsseEnvelope, content_type = "application/json"),
    responses(
        (status = 201, description = "Accepted and logged", body = Accepted),
        (status = 400, description = "Not a DSSE envelope with an iotmark statement", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Signature, role, accreditation or authority rule failed", body = ErrorBody),
        (status = 404, description = "A status change refers to an unknown attestation", body = ErrorBody),
        (status = 409, description = "Accepted before (replay)", body = ErrorBody),
        (status = 413, description = "Body larger than 256 KiB"),
        (status = 422, description = "Scheme, route, validity or state rule failed", body = ErrorBody),
        (status = 429, description = "Rate limit; see Retry-After", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn submit(
    State(registry): State<Arc<Registry>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let submitter = authenticate(&registry, &headers).await?;
    if let Err(wait) = registry.submission_limit.check(&submitter.id) {
        registry.metrics.submission("rate-limit");
        return Ok(too_many(wait));
    }
    let receipted = registry.submit(&submitter, &body, None).await?;
    let url = format!("{}/p/{}", registry.config.public_url, receipted.product_id);
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/attestations/{}", receipted.envelope_sha256),
        )],
        axum::Json(Accepted {
            log_index: receipted.log_index,
            envelope_sha256: receipted.envelope_sha256,
            kind: receipted.kind,
            product_id: receipted.product_id,
            version: receipted.version,
            product_url: url,
            receipt: receipted.receipt,
        }),
    )
        .into_response())
}

/// An attestation and its receipt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttestationView {
    pub attestation: crate::store::AttestationRecord,
    /// A C2SP tlog-proof receipt against the current checkpoint.
    pub receipt: String,
}

/// An accepted attestation by its envelope's SHA-256, with a fresh receipt.
#[utoipa::path(
    get,
    path = "/api/v1/attestations/{sha256}",
    tag = "attestations",
    params(("sha256" = String, Path, description = "SHA-256 of the envelope, hex")),
    responses(
        (status = 200, description = "The attestation and a fresh receipt", body = AttestationView),
        (status = 404, description = "Not found", body = ErrorBody),
    )
)]
async fn attestation(
    State(registry): State<Arc<Registry>>,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let record = registry
        .store
        .attestation(&sha256.to_ascii_lowercase())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no attestation has envelope SHA-256 {sha256}"),
            )
        })?;
    let receipt = registry.receipt(record.log_index)?.encode();
    Ok(axum::Json(AttestationView {
        attestation: record,
        receipt,
    })
    .into_response())
}

/// The CSAF 2.0 security advisory of a status change the monitor made because of
/// vulnerabilities (found vulnerable, or suspended when the deadline passed): the product
/// version by its image digests, each vulnerability, and the remedy.
#[utoipa::path(
    get,
    path = "/api/v1/attestations/{sha256}/csaf",
    tag = "attestations",
    params(("sha256" = String, Path, description = "SHA-256 of the status change's envelope, hex")),
    responses(
        (status = 200, description = "The advisory (CSAF 2.0, csaf_security_advisory)", content_type = "application/json", body = Object),
        (status = 404, description = "No such attestation, or not a change made because of vulnerabilities", body = ErrorBody),
    )
)]
async fn csaf_advisory(
    State(registry): State<Arc<Registry>>,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let advisory = registry.advisory(&sha256.to_ascii_lowercase()).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec_pretty(&advisory).unwrap_or_default(),
    )
        .into_response())
}

/// The envelope as submitted, byte for byte.
#[utoipa::path(
    get,
    path = "/api/v1/attestations/{sha256}/envelope",
    tag = "attestations",
    params(("sha256" = String, Path, description = "SHA-256 of the envelope, hex")),
    responses(
        (status = 200, description = "The envelope, byte for byte as submitted", content_type = "application/json", body = DsseEnvelope),
        (status = 404, description = "Not found", body = ErrorBody),
    )
)]
async fn envelope(
    State(registry): State<Arc<Registry>>,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let bytes = registry
        .envelope(&sha256.to_ascii_lowercase())?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no envelope has SHA-256 {sha256}"),
            )
        })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response())
}

/// Envelopes at the same paths as in a log directory, so `iotmark log audit --envelopes`
/// checks a served log exactly as a local one.
async fn log_envelope(
    state: State<Arc<Registry>>,
    Path((prefix, sha256)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    if !sha256.starts_with(&prefix) || prefix.len() != 2 {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "envelopes live at /log/envelopes/<first two hex digits>/<SHA-256>",
        ));
    }
    envelope(state, Path(sha256)).await
}

/// A version of a product and whether its attestation holds now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionView {
    pub version: String,
    pub images: Vec<crate::store::Image>,
    /// The standing of the attestation that speaks for this version now.
    pub standing: Option<status::Standing>,
    pub holds: bool,
    /// That attestation's envelope SHA-256.
    pub attestation: Option<String>,
    /// Its log entry (`/log/entry/{index}`; its inclusion proof at `…/receipt`).
    pub log_index: Option<u64>,
    pub scheme: Option<String>,
    pub route: Option<String>,
    pub valid_until: Option<jiff::Timestamp>,
    /// End of the security-support period, `YYYY-MM-DD`.
    #[schema(value_type = Option<String>)]
    pub support_end: Option<jiff::civil::Date>,
    /// When the label's renewal may be asked, under a scheme with renewal rules: from …
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub renewal_opens: Option<jiff::Timestamp>,
    /// … until.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub renewal_closes: Option<jiff::Timestamp>,
    /// When the label lapses because its scheme's requirements changed after it was issued
    /// (unless the version is attested again).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub lapses: Option<jiff::Timestamp>,
}

/// The product, its versions and standing, and its whole history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductView {
    pub product: ProductInfo,
    pub versions: Vec<VersionView>,
    /// Every attestation and status change, in log order.
    pub history: Vec<crate::store::AttestationRecord>,
    /// The product declaration the manufacturer published, if any.
    #[schema(value_type = Option<Object>)]
    pub declaration: Option<serde_json::Value>,
    /// Vulnerability reports received, with the manufacturer's answers, oldest first.
    pub vulnerability_reports: Vec<crate::store::PublicReport>,
    /// The public product page.
    pub page: String,
    /// The items a public IoT registry shows for a labelled product (47 CFR 8.222), for its
    /// newest version.
    pub registry_record: crate::record::RegistryRecord,
    /// Versions announced by the manufacturer or seen in the field, newest first, and
    /// whether an attestation covers each one's image (`assessed: false`: not assessed).
    pub announcements: Vec<AnnouncementView>,
    /// Appeals against suspensions and revocations, oldest first: what each contests, when
    /// it was filed and, once made, the decision and the status change that logged it. The
    /// grounds and evidence are for the manufacturer and the operator
    /// (`GET /api/v1/products/{id}/appeals`).
    pub appeals: Vec<AppealView>,
}

/// An appeal as the public sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AppealView {
    pub id: String,
    pub contests: String,
    pub version: String,
    #[schema(value_type = String)]
    pub filed: jiff::Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<crate::store::AppealDecision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub decided: Option<jiff::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_attestation: Option<String>,
}

/// An announced version and whether an attestation covers its image.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnnouncementView {
    #[serde(flatten)]
    pub announcement: crate::store::Announcement,
    pub assessed: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProductInfo {
    pub id: String,
    /// The manufacturer organisation's ID.
    pub manufacturer: String,
    pub manufacturer_name: String,
    pub name: String,
    pub model: String,
    pub created: jiff::Timestamp,
    pub updated: jiff::Timestamp,
}

/// Publish the product declaration its page shows: how updates arrive, how to change the
/// default password, the support period. YAML or JSON, as `iotmark check` accepts it.
#[utoipa::path(
    put,
    path = "/api/v1/products/{id}/declaration",
    tag = "products",
    params(("id" = String, Path, description = "The product ID")),
    request_body(content = String, description = "The declaration (YAML or JSON)", content_type = "application/yaml"),
    responses(
        (status = 204, description = "Published"),
        (status = 400, description = "Not a product ID", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not the product's manufacturer", body = ErrorBody),
        (status = 404, description = "Unknown product", body = ErrorBody),
        (status = 422, description = "The declaration has errors, is for another product, or names unattested firmware", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn publish_declaration(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = product_id(&id)?;
    let submitter = authenticate(&registry, &headers).await?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    let name = if json {
        "declaration.json"
    } else {
        "declaration.yaml"
    };
    registry
        .publish_declaration(&submitter, id, name, &body)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Keeps the SBOM a conformity attestation names (by its SHA-256), so the monitor can match
/// it against new vulnerability data.
#[utoipa::path(
    put,
    path = "/api/v1/sboms/{sha256}",
    tag = "attestations",
    params(("sha256" = String, Path, description = "The SBOM's SHA-256, as the attestation's `sbom_sha256` names it")),
    request_body(content = String, description = "The SBOM (CycloneDX or SPDX JSON), its bytes as attested", content_type = "application/json"),
    responses(
        (status = 204, description = "Kept (or already kept)"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Neither the attestation's submitter, the product's manufacturer nor the operator", body = ErrorBody),
        (status = 404, description = "No conformity attestation names this SBOM", body = ErrorBody),
        (status = 422, description = "The body has another digest, or is not a CycloneDX or SPDX JSON SBOM", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn upload_sbom(
    State(registry): State<Arc<Registry>>,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let submitter = authenticate(&registry, &headers).await?;
    if sha256.len() != 64
        || !sha256
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "sbom",
            "the path names the SBOM by its SHA-256: 64 lower-case hex digits",
        ));
    }
    registry.upload_sbom(&submitter, &sha256, &body).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Announces a firmware version (its manufacturer), or reports one seen in the field (a lab or
/// the operator). Until a conformity attestation covers the image's digest, the product's
/// page and API show the version as not assessed.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/announcements",
    tag = "products",
    params(("id" = String, Path, description = "The product ID")),
    request_body = crate::service::AnnounceRequest,
    responses(
        (status = 201, description = "Recorded"),
        (status = 200, description = "Announced before with the same image; nothing changed"),
        (status = 400, description = "Malformed request, or not a product ID", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Another manufacturer's product", body = ErrorBody),
        (status = 404, description = "Unknown product", body = ErrorBody),
        (status = 422, description = "A malformed field, or another image for a version announced before", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn announce(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = product_id(&id)?;
    let submitter = authenticate(&registry, &headers).await?;
    let request: crate::service::AnnounceRequest = json_body(
        &body,
        "an announcement",
        "{\"version\", \"image\": {\"sha256\", \"size\"}, \"url\", \"min_version\"?, \"release_notes\"?}",
    )?;
    let new = registry.announce(&submitter, id, request).await?;
    Ok(created_or_ok(new))
}

/// The product's CRA Article 14 reporting clocks: each actively exploited vulnerability the
/// monitor found in its attested firmware, the early-warning, notification and final-report
/// deadlines and where each stands, and the reports' fields filled in (its manufacturer and
/// the operator only).
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/cra",
    tag = "products",
    params(("id" = String, Path, description = "The product ID")),
    responses(
        (status = 200, description = "The cases, their clocks and prefilled fields"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not the product's manufacturer or the operator", body = ErrorBody),
        (status = 404, description = "Unknown product", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn cra_cases(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = product_id(&id)?;
    let submitter = authenticate(&registry, &headers).await?;
    let cases = registry
        .cra_cases(&submitter, id, jiff::Timestamp::now())
        .await?;
    Ok(axum::Json(cases).into_response())
}

/// Records that the manufacturer made one of a case's CRA reports.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/cra/{vulnerability}/reports",
    tag = "products",
    params(("id" = String, Path, description = "The product ID"), ("vulnerability" = String, Path, description = "The case's vulnerability ID")),
    request_body = crate::service::CraReportRequest,
    responses(
        (status = 201, description = "Recorded"),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not the product's manufacturer or the operator", body = ErrorBody),
        (status = 404, description = "No such product or case", body = ErrorBody),
        (status = 409, description = "That report was recorded before", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn cra_report(
    State(registry): State<Arc<Registry>>,
    Path((id, vulnerability)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = product_id(&id)?;
    let submitter = authenticate(&registry, &headers).await?;
    let request: crate::service::CraReportRequest = json_body(
        &body,
        "a CRA report",
        "{\"report\": \"early-warning\", \"made\"?, \"reference\"?}",
    )?;
    registry
        .record_cra_report(&submitter, id, &vulnerability, request)
        .await?;
    Ok(StatusCode::CREATED.into_response())
}

/// Records that a fix of a case's vulnerability is available: the final report's 14 days
/// start.
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/cra/{vulnerability}/fix",
    tag = "products",
    params(("id" = String, Path, description = "The product ID"), ("vulnerability" = String, Path, description = "The case's vulnerability ID")),
    request_body = crate::service::CraFixRequest,
    responses(
        (status = 204, description = "Recorded"),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not the product's manufacturer or the operator", body = ErrorBody),
        (status = 404, description = "No such product or case", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn cra_fix(
    State(registry): State<Arc<Registry>>,
    Path((id, vulnerability)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = product_id(&id)?;
    let submitter = authenticate(&registry, &headers).await?;
    let request: crate::service::CraFixRequest =
        json_body(&body, "a fix", "{\"fixed_in\": \"2.6.1\", \"available\"?}")?;
    registry
        .record_cra_fix(
            &submitter,
            id,
            &vulnerability,
            &request.fixed_in,
            request.available,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Runs the monitor now (the operator only): every living attestation is checked against
/// the vulnerability store, its deadlines, its support end and its validity, and each change
/// is logged as a status attestation signed by the registry's monitor key.
#[utoipa::path(
    post,
    path = "/api/v1/monitor",
    tag = "operations",
    responses(
        (status = 200, description = "The run: what it looked at and the changes it made"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not the operator", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn run_monitor(
    State(registry): State<Arc<Registry>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let submitter = authenticate(&registry, &headers).await?;
    if submitter.role != crate::store::Role::Operator {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "authority",
            "only the registry's operator runs the monitor on demand; it also runs on its schedule",
        ));
    }
    let run = registry.monitor_now().await?;
    Ok(axum::Json(run).into_response())
}

/// A product: versions, whether each one's attestation holds now, and the history.
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}",
    tag = "products",
    params(("id" = String, Path, description = "The product ID from its declaration")),
    responses((status = 200, description = "The product, its versions and history", body = ProductView), (status = 400, description = "Not a product ID (2 to 63 of a-z, 0-9 and '-')", body = ErrorBody), (status = 404, description = "Not found", body = ErrorBody))
)]
async fn product(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = product_id(&id)?;
    let body = match product_json(&registry, id).await? {
        Some(body) => body,
        None => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("no product {id:?} is registered"),
            ));
        }
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// Most lookups in one batch.
pub const MAX_LOOKUPS: usize = 1000;

/// One question of a batch lookup: a product, a version of it, or a firmware image.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    /// A product ID
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product: Option<String>,
    /// A version of that product (with `product`)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    /// The SHA-256 of a firmware image (64 lower-case hex digits), instead of a product
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image_sha256: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    /// Up to 1000 lookups, answered in order
    lookups: Vec<Lookup>,
}

/// The answer to one lookup.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LookupResult {
    /// The product found (the key of its answer in `products`), or none
    product: Option<String>,
    /// The version asked for or shipping the image; whether the product lists it is in
    /// `version_known`
    version: Option<String>,
    /// Whether the product is registered and (when a version or image was asked) lists it
    found: bool,
    version_known: bool,
    /// Other products whose versions also ship the image (rare: shared firmware)
    #[serde(skip_serializing_if = "Vec::is_empty")]
    also: Vec<LookupHit>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LookupHit {
    product: String,
    version: String,
}

/// The batch answer: each product once, and one result per lookup.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LookupAnswer {
    /// Each product found, as `GET /api/v1/products/{id}` answers it
    products: std::collections::BTreeMap<String, ProductView>,
    results: Vec<LookupResult>,
}

/// Many products at once, by product, version or firmware image digest: what a fleet tool
/// asks about everything it runs.
#[utoipa::path(
    post,
    path = "/api/v1/products/lookup",
    tag = "products",
    request_body = LookupRequest,
    responses(
        (status = 200, description = "One result per lookup, in order, and each product found once", body = LookupAnswer),
        (status = 400, description = "Malformed request: not JSON, more than 1000 lookups, or a lookup that names neither a product nor an image", body = ErrorBody),
    )
)]
async fn lookup(State(registry): State<Arc<Registry>>, body: Bytes) -> Result<Response, ApiError> {
    let request: LookupRequest = json_body(
        &body,
        "a batch lookup",
        r#"{"lookups": [{"product": "ID", "version": "V"}, {"image_sha256": "HEX"}]}"#,
    )?;
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "body", m);
    if request.lookups.len() > MAX_LOOKUPS {
        return Err(bad(format!(
            "{} lookups; send at most {MAX_LOOKUPS} per request",
            request.lookups.len()
        )));
    }
    let mut answers: std::collections::BTreeMap<String, Option<Bytes>> = Default::default();
    let mut results = Vec::with_capacity(request.lookups.len());
    for (i, l) in request.lookups.iter().enumerate() {
        let (product, version, also) = match (&l.product, &l.image_sha256) {
            (Some(p), None) => {
                let p = product_id(p)
                    .map_err(|e| bad(format!("lookups[{i}].product: {}", e.message)))?;
                (Some(p.to_owned()), l.version.clone(), Vec::new())
            }
            (None, Some(digest)) if l.version.is_none() => {
                if digest.len() != 64
                    || !digest
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(bad(format!(
                        "lookups[{i}].image_sha256: give 64 lower-case hexadecimal digits"
                    )));
                }
                let mut hits = registry.store.versions_by_image(digest).await?.into_iter();
                match hits.next() {
                    Some((p, v)) => (
                        Some(p),
                        Some(v),
                        hits.map(|(product, version)| LookupHit { product, version })
                            .collect(),
                    ),
                    None => (None, None, Vec::new()),
                }
            }
            _ => {
                return Err(bad(format!(
                    "lookups[{i}]: name a product (and optionally its version), or an image_sha256 alone"
                )));
            }
        };
        let body = match &product {
            Some(p) => match answers.get(p) {
                Some(body) => body.clone(),
                None => {
                    let body = product_json(&registry, p).await?;
                    answers.insert(p.clone(), body.clone());
                    body
                }
            },
            None => None,
        };
        let version_known = match (&body, &version) {
            (Some(body), Some(v)) => product_lists_version(body, v),
            (Some(_), None) => true,
            (None, _) => false,
        };
        results.push(LookupResult {
            found: body.is_some() && version_known,
            product: product.filter(|_| body.is_some()),
            version,
            version_known,
            also,
        });
    }
    // Each product's cached answer is pasted in as it is: no re-serialising.
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(b"{\"products\":{");
    let mut first = true;
    for (id, body) in &answers {
        let Some(body) = body else { continue };
        if !first {
            out.push(b',');
        }
        first = false;
        // Product IDs are checked to be [a-z0-9-]: nothing to escape.
        out.extend_from_slice(format!("\"{id}\":").as_bytes());
        out.extend_from_slice(body);
    }
    out.extend_from_slice(b"},\"results\":");
    serde_json::to_writer(&mut out, &results)
        .map_err(|e| RegistryError::Internal(format!("lookup: {e}")))?;
    out.push(b'}');
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Bytes::from(out),
    )
        .into_response())
}

/// Whether a product's API answer lists `version` among its versions.
fn product_lists_version(answer: &[u8], version: &str) -> bool {
    #[derive(Deserialize)]
    struct Versions {
        versions: Vec<Named>,
    }
    #[derive(Deserialize)]
    struct Named {
        version: String,
    }
    serde_json::from_slice::<Versions>(answer)
        .is_ok_and(|a| a.versions.iter().any(|v| v.version == version))
}

/// The product's API answer as JSON bytes, from the cache when nothing about the product
/// changed since and no moment of its history passed; `None` when it is not registered.
/// Like the page, an answer is dropped by any write about its product (the same
/// invalidations), and kept at most until its words change by themselves.
async fn product_json(registry: &Arc<Registry>, id: &str) -> Result<Option<Bytes>, ApiError> {
    if let Some(body) = registry.pages.get(View::Json, id) {
        return Ok(Some(body));
    }
    let started = std::time::Instant::now();
    let Some((view, next_change)) = product_view(registry, id).await? else {
        return Ok(None);
    };
    let body = Bytes::from(
        serde_json::to_vec(&view)
            .map_err(|e| RegistryError::Internal(format!("product {id:?}: {e}")))?,
    );
    let keep = crate::pagecache::keep_until(next_change);
    registry
        .pages
        .put(View::Json, id, started, keep, body.clone());
    Ok(Some(body))
}

/// The product, its versions and history as of now, with the next moment the answer changes
/// by itself; `None` when it is not registered.
async fn product_view(
    registry: &Arc<Registry>,
    id: &str,
) -> Result<Option<(ProductView, Option<jiff::Timestamp>)>, ApiError> {
    let Some(product) = registry.store.product(id).await? else {
        return Ok(None);
    };
    let history = registry.store.history(id).await?;
    let now = jiff::Timestamp::now();
    let next_change = status::next_change(&history, now);
    let stored_versions = registry.store.versions(id).await?;
    let announcements: Vec<AnnouncementView> = registry
        .store
        .announcements(id)
        .await?
        .into_iter()
        .map(|a| AnnouncementView {
            assessed: status::assessed(&a, &stored_versions),
            announcement: a,
        })
        .collect();
    // Newest first.
    let newest_version = stored_versions.first().map(|v| v.version.clone());
    let requirement_changes = registry.store.requirement_changes().await?;
    let versions: Vec<VersionView> = stored_versions
        .into_iter()
        .map(|v| {
            let current = status::current(&v.version, &history, now);
            let record = current.map(|(r, _)| r);
            let renewal =
                crate::renewal::rules(&registry.schemes, record.and_then(|r| r.scheme.as_deref()));
            let window = renewal
                .zip(record.and_then(|r| r.valid_until))
                .map(|(rules, until)| rules.window(until));
            let lapses = renewal.zip(record).and_then(|(rules, r)| {
                crate::renewal::lapse(
                    rules,
                    &requirement_changes,
                    r.scheme.as_deref().unwrap_or_default(),
                    r.issued.unwrap_or(r.logged),
                    now,
                )
                .map(|(_, when)| when)
            });
            VersionView {
                renewal_opens: window.map(|w| w.0),
                renewal_closes: window.map(|w| w.1),
                lapses,
                holds: current.is_some_and(|(_, s)| s.holds()),
                standing: current.map(|(_, s)| s),
                attestation: current.map(|(r, _)| r.envelope_sha256.clone()),
                log_index: current.map(|(r, _)| r.log_index),
                scheme: current.and_then(|(r, _)| r.scheme.clone()),
                route: current.and_then(|(r, _)| r.route.map(|r| r.as_str().to_owned())),
                valid_until: current.and_then(|(r, _)| r.valid_until),
                support_end: current.and_then(|(r, _)| r.support_end),
                version: v.version,
                images: v.images,
            }
        })
        .collect();
    // Stored only after it checked: one that does not read now is the registry's fault.
    let declaration: Option<serde_json::Value> = product
        .declaration_json
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| RegistryError::Internal(format!("product {id:?}: stored declaration: {e}")))?;
    let typed_declaration: Option<iotmark_declare::Declaration> = product
        .declaration_json
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| RegistryError::Internal(format!("product {id:?}: stored declaration: {e}")))?;
    let newest = newest_version
        .as_deref()
        .and_then(|v| status::current(v, &history, now));
    let registry_record = registry
        .registry_record(&product, typed_declaration.as_ref(), newest)
        .await?;
    let vulnerability_reports = registry
        .store
        .vulnerability_reports(&product.id)
        .await?
        .iter()
        .map(VulnerabilityReport::public)
        .collect();
    let appeals = registry
        .store
        .appeals_of(id)
        .await?
        .into_iter()
        .map(|a| AppealView {
            version: history
                .iter()
                .find(|r| r.envelope_sha256 == a.contests)
                .map(|r| r.version.clone())
                .unwrap_or_default(),
            id: a.id,
            contests: a.contests,
            filed: a.filed,
            decision: a.decision,
            decided: a.decided,
            decision_attestation: a.decision_attestation,
        })
        .collect();
    let view = ProductView {
        page: format!("{}/p/{}", registry.config.public_url, product.id),
        registry_record,
        product: ProductInfo {
            id: product.id,
            manufacturer: product.manufacturer,
            manufacturer_name: product.manufacturer_name,
            name: product.name,
            model: product.model,
            created: product.created,
            updated: product.updated,
        },
        versions,
        history,
        declaration,
        vulnerability_reports,
        announcements,
        appeals,
    };
    Ok(Some((view, next_change)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Words that must all appear in the product's ID, manufacturer, name or model
    #[serde(default)]
    q: String,
    #[serde(default = "default_limit")]
    /// At most this many results (1 to 100; default 20)
    limit: u32,
    #[serde(default)]
    /// Skip this many results
    offset: u32,
}

/// Search results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResults {
    pub query: String,
    pub results: Vec<crate::store::ProductSummary>,
}

fn default_limit() -> u32 {
    20
}

/// Search products by words.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "products",
    params(SearchQuery),
    responses((status = 200, description = "OK", body = SearchResults), (status = 400, description = "Malformed request", body = ErrorBody))
)]
async fn search(
    State(registry): State<Arc<Registry>>,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    if query.limit == 0 || query.limit > 100 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "query",
            "limit must be between 1 and 100",
        ));
    }
    let hits = registry.search(&query.q, query.limit, query.offset).await?;
    Ok(axum::Json(SearchResults {
        query: query.q,
        results: hits,
    })
    .into_response())
}

/// A vulnerability report from anyone (IR 8259B information and query reception).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    summary: String,
    details: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    contact: Option<String>,
}

/// The ID a report was filed under.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportFiled {
    pub id: i64,
}

/// Report a vulnerability in a product (anyone may; IR 8259B information and query reception).
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/vulnerability-reports",
    tag = "products",
    params(("id" = String, Path, description = "The product ID")),
    request_body = ReportBody,
    responses(
        (status = 201, description = "Created", body = ReportFiled),
        (status = 400, description = "Malformed request, or not a product ID", body = ErrorBody),
        (status = 404, description = "Not found", body = ErrorBody),
        (status = 429, description = "Rate limit; see Retry-After", body = ErrorBody),
    )
)]
async fn report_vulnerability(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    parts: axum::http::request::Parts,
    body: Bytes,
) -> Result<Response, ApiError> {
    product_id(&id)?;
    // The peer address when the server records it; behind a proxy, all share one bucket.
    let client = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    if let Err(wait) = registry.report_limit.check(&client) {
        return Ok(too_many(wait));
    }
    let report: ReportBody = json_body(
        &body,
        "a report",
        "{\"summary\", \"details\", \"version\"?, \"contact\"?}",
    )?;
    let bounded = |field: &'static str, value: &str, max: usize| {
        if value.trim().is_empty() || value.len() > max {
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "body",
                format!("{field} must be 1 to {max} bytes"),
            ))
        } else {
            Ok(())
        }
    };
    bounded("summary", &report.summary, 200)?;
    bounded("details", &report.details, 20_000)?;
    if let Some(version) = &report.version {
        bounded("version", version, 64)?;
    }
    if let Some(contact) = &report.contact {
        bounded("contact", contact, 320)?;
    }
    if registry.store.product(&id).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no product {id:?} is registered"),
        ));
    }
    let stored = registry
        .store
        .add_vulnerability_report(&VulnerabilityReport {
            id: 0,
            product_id: id.clone(),
            version: report.version,
            summary: report.summary,
            details: report.details,
            contact: report.contact,
            received: jiff::Timestamp::now(),
            triage: None,
        })
        .await?;
    registry.pages.invalidate(&id);
    Ok((StatusCode::CREATED, axum::Json(ReportFiled { id: stored })).into_response())
}

/// The manufacturer's answer to a vulnerability report.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TriageBody {
    status: crate::store::ReportStatus,
    /// Shown on the product page: what was found, or what the owner should do
    #[serde(default)]
    note: Option<String>,
    /// The first version with the fix; required for `fixed`, refused otherwise
    #[serde(default)]
    fixed_in: Option<String>,
}

/// Answer a vulnerability report of your product: under investigation, affected, not affected,
/// or fixed in a version (OpenVEX statuses). The product page shows the answer.
#[utoipa::path(
    put,
    path = "/api/v1/products/{id}/vulnerability-reports/{report}",
    tag = "products",
    params(
        ("id" = String, Path, description = "The product ID"),
        ("report" = i64, Path, description = "The report's ID, as filed"),
    ),
    request_body = TriageBody,
    responses(
        (status = 200, description = "Recorded", body = crate::store::Triage),
        (status = 400, description = "Malformed request, or not a product ID", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not the product's manufacturer", body = ErrorBody),
        (status = 404, description = "Unknown product or report", body = ErrorBody),
        (status = 422, description = "A fixed report without fixed_in, another with it, or a note too long", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn triage_report(
    State(registry): State<Arc<Registry>>,
    Path((id, report)): Path<(String, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    product_id(&id)?;
    let submitter = authenticate(&registry, &headers).await?;
    let triage: TriageBody = json_body(
        &body,
        "a triage",
        "{\"status\": \"under_investigation\" | \"affected\" | \"not_affected\" | \"fixed\", \"note\"?, \"fixed_in\"?}",
    )?;
    let recorded = registry
        .triage_report(
            &submitter,
            &id,
            report,
            triage.status,
            triage.note,
            triage.fixed_in,
        )
        .await?;
    Ok(axum::Json(recorded).into_response())
}

/// The log's current signed checkpoint (C2SP tlog-checkpoint).
#[utoipa::path(
    get,
    path = "/log/checkpoint",
    tag = "log",
    responses((status = 200, description = "OK", content_type = "text/plain", body = String))
)]
async fn checkpoint(State(registry): State<Arc<Registry>>) -> Result<Response, ApiError> {
    let bytes = registry.checkpoint()?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response())
}

/// A hash tile or entry bundle at its C2SP tlog-tiles path (immutable).
///
/// Read from the log directory; the path is parsed as a tile path first, so nothing outside
/// `tile/` can be named.
#[utoipa::path(
    get,
    path = "/log/tile/{path}",
    tag = "log",
    params(("path" = String, Path, description = "e.g. `0/x001/234`, `1/000.p/3`, `entries/000`")),
    responses((status = 200, description = "OK", content_type = "application/octet-stream", body = Vec<u8>), (status = 404, description = "Not found", body = ErrorBody))
)]
async fn tile(
    State(registry): State<Arc<Registry>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let full = format!("tile/{path}");
    let (kind, id) = iotmark_log::tiles::TileId::parse_path(&full)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "not-found", e.to_string()))?;
    let Some(bytes) = registry.tile(kind, id).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{full} does not exist"),
        ));
    };
    // Full tiles never change; partial ones are replaced by wider ones at other paths, so
    // every tile path is immutable.
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        bytes,
    )
        .into_response())
}

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "OK", content_type = "text/plain", body = String)))]
async fn metrics(State(registry): State<Arc<Registry>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        registry.metrics.render(),
    )
        .into_response()
}

/// Files the manufacturer's appeal against the suspension or revocation in force on one of
/// its product's attestations, with its grounds and evidence. The operator decides
/// (`POST /api/v1/appeals/{id}/decision`).
#[utoipa::path(
    post,
    path = "/api/v1/products/{id}/appeals",
    tag = "products",
    params(("id" = String, Path, description = "The product ID")),
    request_body = crate::appeals::AppealRequest,
    responses(
        (status = 201, description = "Filed", body = crate::store::Appeal),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not the product's manufacturer", body = ErrorBody),
        (status = 404, description = "No such product or attestation", body = ErrorBody),
        (status = 409, description = "That change was appealed before", body = ErrorBody),
        (status = 422, description = "Not a suspension or revocation in force, or a malformed field", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn file_appeal(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = product_id(&id)?;
    let submitter = authenticate(&registry, &headers).await?;
    let request: crate::appeals::AppealRequest = json_body(
        &body,
        "an appeal",
        "{\"contests\": SHA256, \"grounds\", \"evidence\"?: [{\"description\", \"sha256\"?, \"url\"?}]}",
    )?;
    let appeal = registry.file_appeal(&submitter, id, request).await?;
    Ok((StatusCode::CREATED, axum::Json(appeal)).into_response())
}

/// A product's appeals with their grounds, evidence and decisions (its manufacturer and the
/// operator).
#[utoipa::path(
    get,
    path = "/api/v1/products/{id}/appeals",
    tag = "products",
    params(("id" = String, Path, description = "The product ID")),
    responses(
        (status = 200, description = "The appeals, oldest first", body = [crate::store::Appeal]),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not the product's manufacturer or the operator", body = ErrorBody),
        (status = 404, description = "Unknown product", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn appeals(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = product_id(&id)?;
    let caller = authenticate(&registry, &headers).await?;
    Ok(axum::Json(registry.appeals(&caller, id).await?).into_response())
}

/// The operator's decision of an appeal, with reasons: logged as a status change the
/// registry signs (an upheld appeal reinstates; a dismissed one records the contested change
/// again) and shown in the product's timeline.
#[utoipa::path(
    post,
    path = "/api/v1/appeals/{id}/decision",
    tag = "products",
    params(("id" = String, Path, description = "The appeal's ID (`ap_…`)")),
    request_body = crate::appeals::DecisionRequest,
    responses(
        (status = 201, description = "Decided and logged", body = crate::appeals::DecisionMade),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not the operator", body = ErrorBody),
        (status = 404, description = "No such appeal", body = ErrorBody),
        (status = 409, description = "Decided before", body = ErrorBody),
        (status = 422, description = "The contested change is no longer in force", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn decide_appeal(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&registry, &headers).await?;
    let request: crate::appeals::DecisionRequest = json_body(
        &body,
        "a decision",
        "{\"decision\": \"upheld\" or \"dismissed\", \"reasons\"}",
    )?;
    let made = registry.decide_appeal(&caller, &id, request).await?;
    Ok((StatusCode::CREATED, axum::Json(made)).into_response())
}

/// Records that a scheme's requirements changed (the operator): labels of the scheme issued
/// before the change lapse when its rules say (six weeks for a BSI-style label) unless their
/// version is attested again; the product pages say so meanwhile.
#[utoipa::path(
    post,
    path = "/api/v1/schemes/{id}/requirement-changes",
    tag = "schemes",
    params(("id" = String, Path, description = "The scheme's ID")),
    request_body = crate::renewal::RequirementChangeRequest,
    responses(
        (status = 201, description = "Recorded"),
        (status = 200, description = "That change was recorded before"),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 403, description = "Not the operator", body = ErrorBody),
        (status = 404, description = "No such scheme", body = ErrorBody),
        (status = 422, description = "The scheme does not lapse labels, or a malformed field", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn record_requirement_change(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&registry, &headers).await?;
    let request: crate::renewal::RequirementChangeRequest = json_body(
        &body,
        "a change of requirements",
        "{\"changed\": RFC3339, \"summary\"}",
    )?;
    let added = registry
        .record_requirement_change(&caller, &id, request)
        .await?;
    Ok(created_or_ok(added))
}

/// The recorded changes of a scheme's requirements, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/schemes/{id}/requirement-changes",
    tag = "schemes",
    params(("id" = String, Path, description = "The scheme's ID")),
    responses(
        (status = 200, description = "The changes", body = [crate::store::RequirementChange]),
    )
)]
async fn requirement_changes(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let changes: Vec<crate::store::RequirementChange> = registry
        .store
        .requirement_changes()
        .await?
        .into_iter()
        .filter(|c| c.scheme == id)
        .collect();
    Ok(axum::Json(changes).into_response())
}

/// A webhook subscription, as the API takes it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where to POST each message (`http` or `https`).
    pub url: String,
    /// The one product to hear about; absent for every product.
    #[serde(default)]
    pub product_id: Option<String>,
}

/// Subscribes the caller to every attestation the registry records about a product (or all
/// products): each is POSTed to the URL, signed in the Standard Webhooks format with the
/// secret in the answer, which is shown only now. Any organisation may subscribe: what is
/// sent is public.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    request_body = WebhookRequest,
    responses(
        (status = 201, description = "Subscribed; the answer carries the signing secret", body = crate::store::NewWebhook),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 404, description = "Unknown product", body = ErrorBody),
        (status = 422, description = "A URL the registry will not send to, or too many subscriptions", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn add_webhook(
    State(registry): State<Arc<Registry>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = authenticate(&registry, &headers).await?;
    let request: WebhookRequest = json_body(
        &body,
        "a webhook subscription",
        "{\"url\", \"product_id\"?}",
    )?;
    if let Some(id) = &request.product_id {
        product_id(id)?;
    }
    let webhook = registry
        .add_webhook(&caller, &request.url, request.product_id.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(webhook)).into_response())
}

/// The caller's webhook subscriptions and what became of their messages: pending,
/// delivered, given up on, and the last error.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    responses(
        (status = 200, description = "The caller's subscriptions", body = [crate::store::WebhookView]),
        (status = 401, description = "No valid API token", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn webhooks(
    State(registry): State<Arc<Registry>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&registry, &headers).await?;
    let webhooks = registry.store.webhooks_of(&caller.id).await?;
    Ok(axum::Json(webhooks).into_response())
}

/// Removes one of the caller's subscriptions; its messages not yet delivered are dropped.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    params(("id" = String, Path, description = "The subscription's ID (`wh_…`)")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid API token", body = ErrorBody),
        (status = 404, description = "The caller has no such subscription", body = ErrorBody),
    ),
    security(("token" = []))
)]
async fn remove_webhook(
    State(registry): State<Arc<Registry>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authenticate(&registry, &headers).await?;
    if registry
        .store
        .remove_webhook(&caller.id, &id, jiff::Timestamp::now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "webhook",
            format!(
                "{} has no webhook {id:?}; GET /api/v1/webhooks lists its own",
                caller.id
            ),
        ))
    }
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", responses((status = 200, description = "OK", content_type = "application/json", body = Object)))]
async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json()).into_response()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "iotmark registry",
        description = "Publishes signed conformity attestations of IoT products in a transparency log, and serves what they say.",
        license(name = "Apache-2.0 OR MIT")
    ),
    paths(
        submit, attestation, envelope, csaf_advisory, product, lookup, publish_declaration, search, report_vulnerability,
        triage_report, upload_sbom, run_monitor, announce, cra_cases, cra_report, cra_fix,
        file_appeal, appeals, decide_appeal, record_requirement_change, requirement_changes, add_webhook, webhooks, remove_webhook, checkpoint, tile,
        metrics, openapi
    ),
    modifiers(&TokenScheme),
    tags(
        (name = "attestations", description = "Submitting and reading attestations"),
        (name = "products", description = "Products, their standing and history; vulnerability reports"),
        (name = "schemes", description = "The schemes' rules in time: changes of their requirements"),
        (name = "webhooks", description = "Signed notices of every attestation recorded about a product (Standard Webhooks)"),
        (name = "log", description = "The transparency log at its C2SP tlog-tiles paths"),
        (name = "operations", description = "Metrics and this document"),
    )
)]
struct ApiDoc;

struct TokenScheme;

impl utoipa::Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "token",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(
                            "An API token from `iotmark registry admin token-create`",
                        ))
                        .build(),
                ),
            );
    }
}

/// The OpenAPI document, pretty-printed (also what the snapshot test compares).
pub fn openapi_json() -> String {
    use utoipa::OpenApi as _;
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}
