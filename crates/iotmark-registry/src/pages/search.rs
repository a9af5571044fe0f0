//! The start page and search results.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::quoting::url_component;
use super::{Chrome, PageError, render};
use crate::service::{Registry, RegistryError};
use crate::store::ProductSummary;

/// Results per page.
const PAGE: u32 = 20;

#[derive(Debug)]
struct Hit {
    url: String,
    name: String,
    model: String,
    manufacturer: String,
    version: Option<String>,
}

impl From<ProductSummary> for Hit {
    fn from(p: ProductSummary) -> Hit {
        Hit {
            url: format!("/p/{}", url_component(&p.id)),
            name: p.name,
            model: p.model,
            manufacturer: p.manufacturer_name,
            version: p.latest_version,
        }
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    recent: Vec<Hit>,
}

pub(super) async fn home(State(registry): State<Arc<Registry>>) -> Result<Response, PageError> {
    let recent = registry
        .store
        .search("", 8, 0)
        .await?
        .into_iter()
        .map(Hit::from)
        .collect();
    Ok(render(
        StatusCode::OK,
        &HomePage {
            chrome: Chrome::new("Check a connected product", "search"),
            recent,
        },
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct SearchQuery {
    q: Option<String>,
    offset: Option<String>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    q: String,
    /// Why the query could not be run, in plain words.
    problem: Option<String>,
    hits: Vec<Hit>,
    first: u32,
    last: u32,
    previous: Option<String>,
    next: Option<String>,
}

pub(super) async fn results(
    State(registry): State<Arc<Registry>>,
    Query(query): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let q = query.q.unwrap_or_default().trim().to_owned();
    // A bad offset (hand-edited address) starts from the top rather than failing.
    let offset: u32 = query
        .offset
        .and_then(|o| o.parse().ok())
        .unwrap_or(0)
        .min(1_000_000);
    let mut page = SearchPage {
        chrome: Chrome::new(
            if q.is_empty() {
                "Search".to_owned()
            } else {
                format!("“{q}”: search")
            },
            "search",
        ),
        q: q.clone(),
        problem: None,
        hits: Vec::new(),
        first: offset + 1,
        last: offset,
        previous: None,
        next: None,
    };
    if q.is_empty() {
        return Ok(render(StatusCode::OK, &page));
    }
    // One more than a page tells whether there is a next page.
    let mut hits = match registry.search(&q, PAGE + 1, offset).await {
        Ok(h) => h,
        Err(RegistryError::Refused(refusal)) => {
            page.problem = Some(format!("The search cannot be run: {}.", refusal.message));
            return Ok(render(StatusCode::BAD_REQUEST, &page));
        }
        Err(e) => return Err(e.into()),
    };
    let more = hits.len() > PAGE as usize;
    hits.truncate(PAGE as usize);
    let link = |offset: u32| {
        if offset == 0 {
            format!("/search?q={}", url_component(&q))
        } else {
            format!("/search?q={}&offset={offset}", url_component(&q))
        }
    };
    page.last = offset + hits.len() as u32;
    page.previous = (offset > 0).then(|| link(offset.saturating_sub(PAGE)));
    page.next = more.then(|| link(offset + PAGE));
    page.hits = hits.into_iter().map(Hit::from).collect();
    Ok(render(StatusCode::OK, &page))
}
