pub mod assess;
pub mod catalog;
pub mod declare;
pub mod landscape;
pub mod scan;
