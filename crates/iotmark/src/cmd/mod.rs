pub mod assess;
pub mod attest;
pub mod catalog;
pub mod declare;
pub mod landscape;
pub mod log;
pub mod registry;
pub mod scan;
