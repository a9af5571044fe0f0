//! The NISTIR 8200 landscape: cybersecurity core areas with example standards, and the IoT
//! application areas, with how sure our sources are of each.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Landscape {
    pub key: String,
    pub title: String,
    pub publication: Publication,
    pub remarks: String,
    pub core_areas: Vec<CoreArea>,
    pub application_areas: Vec<ApplicationArea>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publication {
    pub id: String,
    pub date: String,
    pub doi: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreArea {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub confidence: String,
    pub unconfirmed: bool,
    pub standards: Vec<Standard>,
    /// Bundled catalog controls or groups this area bears on.
    #[serde(default)]
    pub related_catalog_areas: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standard {
    pub id: String,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationArea {
    pub id: String,
    pub name: String,
    pub summary: String,
    pub confidence: String,
    pub unconfirmed: bool,
}

/// A core or application area, as found by [`Landscape::find`].
#[derive(Debug, Clone, Copy)]
pub enum Area<'a> {
    Core(&'a CoreArea),
    Application(&'a ApplicationArea),
}

impl Landscape {
    /// Finds areas by ID, or by a case-insensitive piece of the name; a standard's ID
    /// (`ISO/IEC 27001`) finds the core areas that list it.
    pub fn find(&self, query: &str) -> Vec<Area<'_>> {
        let q = query.to_lowercase();
        let exact_core = self.core_areas.iter().filter(|a| a.id == q).map(Area::Core);
        let exact_app = self
            .application_areas
            .iter()
            .filter(|a| a.id == q)
            .map(Area::Application);
        let exact: Vec<Area<'_>> = exact_core.chain(exact_app).collect();
        if !exact.is_empty() {
            return exact;
        }
        let core = self.core_areas.iter().filter(|a| {
            a.name.to_lowercase().contains(&q)
                || a.standards.iter().any(|s| s.id.to_lowercase().contains(&q))
        });
        let apps = self
            .application_areas
            .iter()
            .filter(|a| a.name.to_lowercase().contains(&q));
        core.map(Area::Core)
            .chain(apps.map(Area::Application))
            .collect()
    }
}
