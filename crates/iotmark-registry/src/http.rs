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
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::service::{Registry, RegistryError};
use crate::status;
use crate::store::{Store, VulnerabilityReport};

/// Largest request body: an envelope with its declaration is a few kilobytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Builds the router.
pub fn router<S: Store>(registry: Arc<Registry<S>>) -> Router {
    Router::new()
        .route("/api/v1/attestations", post(submit::<S>))
        .route("/api/v1/attestations/{sha256}", get(attestation::<S>))
        .route("/api/v1/attestations/{sha256}/envelope", get(envelope::<S>))
        .route("/api/v1/products/{id}", get(product::<S>))
        .route(
            "/api/v1/products/{id}/vulnerability-reports",
            post(report_vulnerability::<S>),
        )
        .route("/api/v1/search", get(search::<S>))
        .route("/log/checkpoint", get(checkpoint::<S>))
        .route("/log/tile/{*path}", get(tile::<S>))
        .merge(crate::pages::routes())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(registry)
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
            axum::Json(json!({"error": {"rule": self.rule, "message": self.message}})),
        )
            .into_response()
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Refused(r) => ApiError::new(
                StatusCode::from_u16(r.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                r.rule,
                r.message,
            ),
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

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        RegistryError::from(e).into()
    }
}

async fn authenticate<S: Store>(
    registry: &Registry<S>,
    headers: &HeaderMap,
) -> Result<crate::store::Organisation, ApiError> {
    let unauthorised = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "token", m);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorised("send the API token as `Authorization: Bearer <token>`"))?;
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorised("the Authorization header must be `Bearer <token>`"))?;
    registry
        .authenticate(secret.trim())
        .await?
        .map(|(_, org)| org)
        .ok_or_else(|| unauthorised("the token is unknown or revoked"))
}

/// A submission: the body is the DSSE envelope exactly as signed and published. Its SHA-256
/// identifies it from then on (status changes refer to it), so the bytes are kept as sent.
async fn submit<S: Store>(
    State(registry): State<Arc<Registry<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let submitter = authenticate(&registry, &headers).await?;
    let receipted = registry.submit(&submitter, &body, None).await?;
    let url = format!("{}/p/{}", registry.config.public_url, receipted.product_id);
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/attestations/{}", receipted.envelope_sha256),
        )],
        axum::Json(json!({
            "log_index": receipted.log_index,
            "envelope_sha256": receipted.envelope_sha256,
            "kind": receipted.kind,
            "product_id": receipted.product_id,
            "version": receipted.version,
            "product_url": url,
            "receipt": receipted.receipt,
        })),
    )
        .into_response())
}

async fn attestation<S: Store>(
    State(registry): State<Arc<Registry<S>>>,
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
    Ok(axum::Json(json!({"attestation": record, "receipt": receipt})).into_response())
}

async fn envelope<S: Store>(
    State(registry): State<Arc<Registry<S>>>,
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

#[derive(Debug, Serialize)]
struct VersionView {
    version: String,
    images: Vec<crate::store::Image>,
    standing: Option<status::Standing>,
    holds: bool,
    attestation: Option<String>,
    scheme: Option<String>,
    route: Option<String>,
    valid_until: Option<jiff::Timestamp>,
    support_end: Option<String>,
}

async fn product<S: Store>(
    State(registry): State<Arc<Registry<S>>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let product = registry.store.product(&id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no product {id:?} is registered"),
        )
    })?;
    let history = registry.store.history(&id).await?;
    let now = jiff::Timestamp::now();
    let versions: Vec<VersionView> = registry
        .store
        .versions(&id)
        .await?
        .into_iter()
        .map(|v| {
            let current = status::current(&v.version, &history, now);
            VersionView {
                holds: current.is_some_and(|(_, s)| s.holds()),
                standing: current.map(|(_, s)| s),
                attestation: current.map(|(r, _)| r.envelope_sha256.clone()),
                scheme: current.and_then(|(r, _)| r.scheme.clone()),
                route: current.and_then(|(r, _)| r.route.clone()),
                valid_until: current.and_then(|(r, _)| r.valid_until),
                support_end: current.and_then(|(r, _)| r.support_end.clone()),
                version: v.version,
                images: v.images,
            }
        })
        .collect();
    let declaration: Option<serde_json::Value> = product
        .declaration_json
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok());
    Ok(axum::Json(json!({
        "product": {
            "id": product.id,
            "manufacturer": product.manufacturer,
            "manufacturer_name": product.manufacturer_name,
            "name": product.name,
            "model": product.model,
            "created": product.created,
            "updated": product.updated,
        },
        "versions": versions,
        "history": history,
        "declaration": declaration,
        "page": format!("{}/p/{}", registry.config.public_url, product.id),
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default = "default_limit")]
    limit: u32,
    #[serde(default)]
    offset: u32,
}

fn default_limit() -> u32 {
    20
}

async fn search<S: Store>(
    State(registry): State<Arc<Registry<S>>>,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    if query.limit == 0 || query.limit > 100 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "query",
            "limit must be between 1 and 100",
        ));
    }
    if query.q.len() > 200 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "query",
            "the query is longer than 200 characters",
        ));
    }
    let hits = registry
        .store
        .search(&query.q, query.limit, query.offset)
        .await?;
    Ok(axum::Json(json!({"query": query.q, "results": hits})).into_response())
}

/// A vulnerability report from anyone (IR 8259B information and query reception).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    summary: String,
    details: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    contact: Option<String>,
}

async fn report_vulnerability<S: Store>(
    State(registry): State<Arc<Registry<S>>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let report: ReportBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "body",
            format!("the body is not a report ({e}); send {{\"summary\", \"details\", \"version\"?, \"contact\"?}}"),
        )
    })?;
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
            product_id: id,
            version: report.version,
            summary: report.summary,
            details: report.details,
            contact: report.contact,
            received: jiff::Timestamp::now(),
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!({"id": stored}))).into_response())
}

async fn checkpoint<S: Store>(
    State(registry): State<Arc<Registry<S>>>,
) -> Result<Response, ApiError> {
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

/// Tiles and entry bundles, read from the log directory. The path is parsed as a tile path
/// first, so nothing outside `tile/` can be named.
async fn tile<S: Store>(
    State(registry): State<Arc<Registry<S>>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    let full = format!("tile/{path}");
    let (kind, id) = iotmark_log::tiles::TileId::parse_path(&full)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, "not-found", e.to_string()))?;
    let file = registry.log_dir().join(id.path(kind));
    let bytes = match tokio::fs::read(&file).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("{full} does not exist"),
            ));
        }
        Err(e) => {
            return Err(RegistryError::DataDir {
                path: file,
                message: e.to_string(),
            }
            .into());
        }
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
