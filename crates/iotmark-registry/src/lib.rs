//! The iotmark registry: where conformity becomes visible.
//!
//! * [`store`]: the registry's database behind one [`store::Store`] trait, with SQLite (the
//!   embedded default, WAL) and PostgreSQL backends, each with its own migrations.
//!
//! The transparency log, not the database, is the record of what was accepted: a submission
//! is appended to the log (durably) before its rows are written, and on start the registry
//! replays log entries the database has not seen. The database is an index for pages,
//! search and rules.

pub mod label;
pub mod store;
