//! The iotmark registry: where conformity becomes visible.
//!
//! * [`store`]: the registry's database, one [`store::Store`] on SQLite (the embedded
//!   default, WAL) or PostgreSQL, each with its own migrations.
//! * [`accept`]: the rules an attestation must meet to be published, each named in a refusal.
//! * [`service`]: the registry's operations: submissions through the log, receipts, replay.
//!   Accepted submissions reach the database through a group-committing indexer task.
//! * [`status`]: whether an attestation holds now.
//! * [`monitor`]: keeps every version's status true after sale: vulnerabilities, deadlines,
//!   support end and expiry, each change signed by the registry's monitor key.
//! * [`admin`]: organisations, keys, tokens and accreditations.
//! * [`http`]: the JSON API, the log's tiles and checkpoint.
//! * [`server`]: the accept loop that serves them, with header-read and idle timeouts and a
//!   connection cap.
//! * [`metrics`], [`ratelimit`]: Prometheus metrics, and token buckets for the write endpoints.
//! * [`label`]: the label for the box, SVG and PNG, with a QR code to the product page.
//! * [`pagecache`]: rendered product pages, dropped when their product changes.
//! * [`pages`]: the public pages: product page, search, manufacturer dashboard, log explorer.
//!
//! The transparency log, not the database, is the record of what was accepted: a submission
//! is appended to the log (durably) before its rows are written, and on start the registry
//! replays log entries the database has not seen. The database is an index for pages,
//! search and rules.

pub mod accept;
pub mod admin;
pub mod advisory;
pub mod appeals;
pub mod fleet;
pub mod http;
mod indexer;
pub mod label;
pub mod metrics;
pub mod monitor;
pub mod pagecache;
pub mod pages;
pub mod ratelimit;
pub mod record;
pub mod renewal;
pub mod server;
pub mod service;
pub mod status;
pub mod store;
pub mod webhooks;
