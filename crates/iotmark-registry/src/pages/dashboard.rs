//! A manufacturer's dashboard: its products, which hold and which need attention, and two
//! charts drawn here as SVG: assessment coverage per product and standing across products.
//!
//! The charts size their bars in percentages of the chart's width and their text in pixels,
//! so labels stay readable from a phone to a wide screen. Each has a `<title>` and `<desc>`,
//! and the table beside them holds every number they show.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::product::{Loaded, badge, finding_counts};
use super::quoting::url_component;
use super::{Chrome, PageError, render, words};
use crate::service::Registry;
use crate::status::Standing;
use crate::store::Role;

/// Colours of the four finding kinds, as in the legend (`.sw-*` in style.css).
const SATISFIED: &str = "#1e7e3e";
const NOT_SATISFIED: &str = "#b3261e";
const NOT_APPLICABLE: &str = "#9aa3ad";
const NEEDS_REVIEW: &str = "#d98e04";

/// Rows of a chart: a line of text, then the bar under it.
const ROW: u32 = 46;
const TEXT_BASELINE: u32 = 16;
const BAR_TOP: u32 = 22;
const BAR_HEIGHT: u32 = 16;

#[derive(Debug)]
pub(crate) struct Segment {
    /// Percentages of the chart's width, formatted for the attribute.
    pub(crate) x: String,
    pub(crate) width: String,
    pub(crate) fill: &'static str,
    pub(crate) title: String,
}

#[derive(Debug)]
pub(crate) struct ChartRow {
    pub(crate) text: String,
    pub(crate) text_y: u32,
    pub(crate) bar_y: u32,
    pub(crate) segments: Vec<Segment>,
}

#[derive(Debug)]
pub(crate) struct Chart {
    pub(crate) height: u32,
    pub(crate) bar_height: u32,
    pub(crate) rows: Vec<ChartRow>,
}

/// One bar to draw: its line of text and its parts (count, colour, tooltip).
pub(crate) struct Bar {
    pub(crate) text: String,
    pub(crate) parts: Vec<(u32, &'static str, String)>,
}

impl Chart {
    /// Bars as shares of their own total, or of `scale_to` when given (one scale for all).
    pub(crate) fn new(bars: Vec<Bar>, scale_to: Option<u32>) -> Chart {
        let rows: Vec<ChartRow> = bars
            .into_iter()
            .enumerate()
            .map(|(i, Bar { text, parts })| {
                let top = u32::try_from(i).unwrap_or(u32::MAX / ROW) * ROW;
                let total: u32 = scale_to.unwrap_or_else(|| parts.iter().map(|p| p.0).sum());
                let mut x = 0.0_f64;
                let segments = parts
                    .into_iter()
                    .filter(|p| p.0 > 0 && total > 0)
                    .map(|(n, fill, title)| {
                        let width = 100.0 * f64::from(n) / f64::from(total);
                        let s = Segment {
                            x: format!("{x:.2}%"),
                            width: format!("{width:.2}%"),
                            fill,
                            title,
                        };
                        x += width;
                        s
                    })
                    .collect();
                ChartRow {
                    text,
                    text_y: top + TEXT_BASELINE,
                    bar_y: top + BAR_TOP,
                    segments,
                }
            })
            .collect();
        Chart {
            height: u32::try_from(rows.len()).unwrap_or(0) * ROW,
            bar_height: BAR_HEIGHT,
            rows,
        }
    }
}

#[derive(Debug)]
struct ProductRow {
    url: String,
    name: String,
    model: String,
    version: String,
    badge: &'static str,
    tone: &'static str,
    support: String,
    counts: Option<[u32; 4]>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    name: String,
    products: Vec<ProductRow>,
    holds: usize,
    attention: usize,
    coverage: Chart,
    coverage_desc: String,
    standing: Chart,
    standing_desc: String,
}

pub(super) async fn page(
    State(registry): State<Arc<Registry>>,
    Path(organisation): Path<String>,
) -> Result<Response, PageError> {
    let org = registry
        .store
        .organisation(&organisation)
        .await?
        .filter(|o| o.role == Role::Manufacturer)
        .ok_or_else(|| PageError::NotFound {
            heading: "No such manufacturer".to_owned(),
            message: format!("No manufacturer “{organisation}” is registered."),
        })?;
    let mut rows = Vec::new();
    let mut standings: Vec<Option<Standing>> = Vec::new();
    for summary in registry.store.products_of(&org.id).await? {
        let Some(loaded) = Loaded::read(&registry, &summary.id).await? else {
            continue;
        };
        let current = loaded.current();
        standings.push(current.map(|(_, s)| s));
        let (badge, tone) = current.map_or(("No declaration", "bad"), |(_, s)| badge(s));
        let support = current
            .and_then(|(r, _)| r.support_end)
            .map_or_else(|| "not declared".to_owned(), words::date);
        let counts = current
            .map(|(r, _)| finding_counts(&registry, &r.envelope_sha256))
            .transpose()?
            .flatten()
            .map(|c| {
                [
                    c.satisfied,
                    c.not_satisfied,
                    c.not_applicable,
                    c.needs_review,
                ]
            });
        rows.push(ProductRow {
            url: format!("/p/{}", url_component(&summary.id)),
            name: summary.name,
            model: summary.model,
            version: summary.latest_version.unwrap_or_default(),
            badge,
            tone,
            support,
            counts,
        });
    }
    let holds = standings
        .iter()
        .filter(|s| s.is_some_and(Standing::holds))
        .count();

    let coverage = Chart::new(
        rows.iter()
            .map(|r| {
                let c = r.counts.unwrap_or_default();
                let total: u32 = c.iter().sum();
                let text = if r.counts.is_some() {
                    format!("{} {}: {} of {total} satisfied", r.name, r.model, c[0])
                } else {
                    format!("{} {}: no assessment", r.name, r.model)
                };
                Bar {
                    text,
                    parts: vec![
                        (c[0], SATISFIED, format!("{} satisfied", c[0])),
                        (c[1], NOT_SATISFIED, format!("{} not satisfied", c[1])),
                        (c[2], NOT_APPLICABLE, format!("{} not applicable", c[2])),
                        (c[3], NEEDS_REVIEW, format!("{} need review", c[3])),
                    ],
                }
            })
            .collect(),
        None,
    );
    let coverage_desc = format!(
        "One bar per product, split into the share of requirements satisfied, not satisfied, \
         not applicable and needing review in its current assessment. {}",
        rows.iter()
            .map(|r| match r.counts {
                Some(c) => format!(
                    "{} {}: {} satisfied, {} not satisfied, {} not applicable, {} need review.",
                    r.name, r.model, c[0], c[1], c[2], c[3]
                ),
                None => format!("{} {}: no assessment.", r.name, r.model),
            })
            .collect::<Vec<_>>()
            .join(" ")
    );

    let kinds = [
        (Some(Standing::Valid), SATISFIED),
        (Some(Standing::NotYetValid), NEEDS_REVIEW),
        (Some(Standing::Expired), NEEDS_REVIEW),
        (Some(Standing::Suspended), NOT_SATISFIED),
        (Some(Standing::Revoked), NOT_SATISFIED),
        (Some(Standing::EndOfSupport), NOT_SATISFIED),
        (Some(Standing::Vulnerable), NOT_SATISFIED),
        (Some(Standing::Withdrawn), NOT_SATISFIED),
        (None, NOT_APPLICABLE),
    ];
    let counted: Vec<(&'static str, &'static str, u32)> = kinds
        .iter()
        .map(|(kind, fill)| {
            let n = standings.iter().filter(|s| *s == kind).count();
            let word = kind.map_or("No declaration", |k| badge(k).0);
            (word, *fill, u32::try_from(n).unwrap_or(u32::MAX))
        })
        .filter(|(word, _, n)| *n > 0 || *word == "Holds")
        .collect();
    let most = counted.iter().map(|c| c.2).max().unwrap_or(0).max(1);
    let standing = Chart::new(
        counted
            .iter()
            .map(|(word, fill, n)| Bar {
                text: format!(
                    "{word}: {}",
                    words::plural(i64::from(*n), "product", "products")
                ),
                parts: vec![(*n, *fill, format!("{word}: {n}"))],
            })
            .collect(),
        Some(most),
    );
    let standing_desc = format!(
        "How many of the manufacturer's products are in each standing. {}",
        counted
            .iter()
            .map(|(word, _, n)| format!("{word}: {n}."))
            .collect::<Vec<_>>()
            .join(" ")
    );

    let page = DashboardPage {
        chrome: Chrome::new(format!("{}: dashboard", org.name), ""),
        name: org.name,
        attention: rows.len() - holds,
        holds,
        products: rows,
        coverage,
        coverage_desc,
        standing,
        standing_desc,
    };
    Ok(render(StatusCode::OK, &page))
}
