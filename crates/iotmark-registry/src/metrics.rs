//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format: requests by route
//! and status with their latency, submissions accepted and refused by rule, the log's size,
//! and how many submissions each database commit carried.

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route pattern (`/p/{id}`), never the raw path, so the label set stays bounded.
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SubmissionLabels {
    /// `accepted`, or the rule that refused it.
    pub outcome: String,
}

/// The registry's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RequestLabels, Histogram>,
    pub submissions: Family<SubmissionLabels, Counter>,
    pub log_size: Gauge<u64, AtomicU64>,
    /// Submissions recorded per database transaction by the indexer.
    pub index_batch: Histogram,
    /// Time to record one such transaction.
    pub index_commit: Histogram,
    /// Status changes the monitor made.
    pub monitor_changes: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("iotmark");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            // 100 µs to ~3 s.
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        let submissions = Family::<SubmissionLabels, Counter>::default();
        let log_size = Gauge::<u64, AtomicU64>::default();
        // 1 to 1024 submissions.
        let index_batch = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        // 100 µs to ~3 s.
        let index_commit = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        registry.register(
            "submissions",
            "Attestation submissions, by outcome (accepted or the refusing rule)",
            submissions.clone(),
        );
        registry.register(
            "log_entries",
            "Entries in the transparency log (size of the latest checkpoint)",
            log_size.clone(),
        );
        registry.register(
            "index_batch_submissions",
            "Accepted submissions recorded in one database transaction",
            index_batch.clone(),
        );
        registry.register(
            "index_commit_duration_seconds",
            "Time to record one transaction of accepted submissions",
            index_commit.clone(),
        );
        let monitor_changes = Counter::default();
        registry.register(
            "monitor_changes",
            "Status changes the monitor made (vulnerable, suspension, expiry, …)",
            monitor_changes.clone(),
        );
        Metrics {
            registry,
            monitor_changes,
            requests,
            latency,
            submissions,
            log_size,
            index_batch,
            index_commit,
        }
    }
}

impl Metrics {
    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts a submission's outcome.
    pub fn submission(&self, outcome: &str) {
        self.submissions
            .get_or_create(&SubmissionLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }
}

/// Middleware: counts every request and times it, labelled by its route pattern.
pub async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let method = request.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    metrics.requests.get_or_create(&labels).inc();
    metrics
        .latency
        .get_or_create(&labels)
        .observe(start.elapsed().as_secs_f64());
    response
}
