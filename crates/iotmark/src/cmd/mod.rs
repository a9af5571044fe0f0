pub mod catalog;
pub mod landscape;
