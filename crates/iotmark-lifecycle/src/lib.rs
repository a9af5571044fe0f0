//! The post-market life of one attested product version.
//!
//! Conformity assessed once goes stale: firmware changes, vulnerabilities are found and
//! exploited, support ends. This crate holds the rules of that life as data and pure
//! functions, so the registry's monitor, its pages and its tests read them from one place:
//!
//! * [`machine`]: the states a product version can be in, and the one table of transitions,
//!   each with its trigger, the actors who may cause it and the status change it records.
//! * [`rules`]: a scheme's post-market rules (deadlines to fix by severity and KEV status,
//!   when a missed deadline suspends and a long suspension revokes, validity and renewal
//!   windows), as the scheme file states them.
//! * [`clocks`]: the EU Cyber Resilience Act's Article 14 reporting clocks for an actively
//!   exploited vulnerability or a severe incident.
//!
//! Nothing here reads a clock or a database: every function is given the time it works at.

pub mod clocks;
pub mod machine;
pub mod rules;
