//! Renderings of an assessment.

pub mod html;
pub mod markdown;
pub mod oscal;
pub mod sarif;
