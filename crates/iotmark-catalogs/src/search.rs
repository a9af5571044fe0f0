//! Full-text search over the bundled catalogs.

use serde::Serialize;

use crate::bundle::Bundle;

/// A control that matched, with where the match was and a score for ordering.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub catalog: String,
    pub id: String,
    pub label: String,
    pub title: String,
    pub statement: String,
    /// Which field matched best: `id`, `label`, `title` or `statement`.
    pub field: &'static str,
    #[serde(skip)]
    score: u32,
}

impl Bundle {
    /// Controls whose ID, label, title or statement contain every word of `text`
    /// (case-insensitive), best first: matches in IDs and labels, then titles, then prose.
    pub fn search(&self, text: &str, catalog: Option<&str>) -> Vec<SearchHit> {
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return Vec::new();
        }
        let mut hits = Vec::new();
        for bundled in self
            .catalogs()
            .iter()
            .filter(|c| catalog.is_none_or(|k| k == c.key))
        {
            for control in bundled.catalog.controls() {
                let statement = control.statement();
                let fields = [
                    ("id", control.id.to_lowercase(), 8),
                    ("label", control.label().to_lowercase(), 8),
                    ("title", control.title.to_lowercase(), 4),
                    ("statement", statement.to_lowercase(), 1),
                ];
                let all_found = words
                    .iter()
                    .all(|w| fields.iter().any(|(_, f, _)| f.contains(w.as_str())));
                if !all_found {
                    continue;
                }
                let (field, score) = fields
                    .iter()
                    .map(|(name, f, weight)| {
                        (
                            *name,
                            weight * words.iter().filter(|w| f.contains(w.as_str())).count() as u32,
                        )
                    })
                    .max_by_key(|(_, s)| *s)
                    .unwrap_or(("statement", 0));
                hits.push(SearchHit {
                    catalog: bundled.key.clone(),
                    id: control.id.clone(),
                    label: control.label().to_owned(),
                    title: control.title.clone(),
                    statement,
                    field,
                    score,
                });
            }
        }
        hits.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| a.catalog.cmp(&b.catalog))
        });
        hits
    }
}
