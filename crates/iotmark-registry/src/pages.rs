//! The registry's public pages, rendered on the server: what a consumer sees after scanning
//! the QR code on the box, and what anyone can look up and check.
//!
//! * `/`: search form; `/search?q=&offset=`: results.
//! * `/p/{id}`: the product page (the QR code's target): does the declaration hold now,
//!   until when updates come, how they arrive, how to change the default password, reports
//!   received, the history, and how to verify it all without trusting this server.
//!   `/p/{id}/receipt`, `/p/{id}/signer.pem`, `/p/{id}/label.svg`, `/p/{id}/label.png`.
//! * `/m/{organisation}`: a manufacturer's products, how many hold, coverage charts.
//! * `/log`, `/log/entry/{index}`, `/log/entry/{index}/receipt`: the log explorer.
//!
//! Every page is complete without JavaScript and loads nothing from anywhere: the one
//! stylesheet is inline and allowed by its hash in a strict Content-Security-Policy, charts
//! are SVG drawn here with presentation attributes (no `style` attributes, which the policy
//! would block). All text that came from a submission goes through askama's HTML escaping;
//! nothing from a submission is marked safe.

pub(crate) mod dashboard;
mod log;
mod product;
mod quoting;
mod search;
mod words;

use std::sync::{Arc, LazyLock};

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;

use crate::service::{Registry, RegistryError};
use crate::store::StoreError;

/// The pages on their own, as a service.
pub fn router(registry: Arc<Registry>) -> Router {
    routes().with_state(registry)
}

/// The pages' routes, to be merged into [`crate::http::router`] before its state is given.
pub fn routes() -> Router<Arc<Registry>> {
    Router::new()
        .route("/", get(search::home))
        .route("/search", get(search::results))
        .route("/p/{id}", get(product::page))
        .route("/p/{id}/receipt", get(product::receipt))
        .route("/p/{id}/signer.pem", get(product::signer_key))
        .route("/p/{id}/label.svg", get(product::label_svg))
        .route("/p/{id}/label.png", get(product::label_png))
        .route("/m/{organisation}", get(dashboard::page))
        .route("/log", get(log::explorer))
        .route("/log/entry/{index}", get(log::entry))
        .route("/log/entry/{index}/receipt", get(log::receipt))
}

/// The stylesheet of every page, inlined into `<style>` byte for byte so its hash matches.
pub(crate) const STYLE: &str = include_str!("../templates/style.css");

/// `'sha256-…'` of [`STYLE`], for the Content-Security-Policy.
static STYLE_SOURCE: LazyLock<String> = LazyLock::new(|| {
    let digest = iotmark_log::merkle::sha256(STYLE.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
});

/// The policy every page is sent with: nothing but the page's own stylesheet, images from
/// this registry (the label) and forms that submit here.
/// The policy header, built once.
static CSP: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
    HeaderValue::from_str(&content_security_policy())
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
});

fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; img-src 'self' data:; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'",
        *STYLE_SOURCE
    )
}

/// What every page's frame (`base.html`) needs.
#[derive(Debug)]
struct Chrome {
    /// The `<title>`, before " · iotmark registry".
    title: String,
    /// Which navigation item is the current page: `search`, `log` or empty.
    section: &'static str,
    style: &'static str,
}

impl Chrome {
    fn new(title: impl Into<String>, section: &'static str) -> Chrome {
        Chrome {
            title: title.into(),
            section,
            style: STYLE,
        }
    }
}

/// An HTML page with the pages' security headers.
fn html(status: StatusCode, body: String) -> Response {
    html_bytes(status, axum::body::Bytes::from(body))
}

fn html_bytes(status: StatusCode, body: axum::body::Bytes) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP.clone());
    protect(headers);
    // A status change must show at once: pages are revalidated on every visit (the registry's
    // own page cache is dropped by every change).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Headers for every answer of the pages' routes, HTML or not.
fn protect(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// Renders `page` as an HTML answer with `status`.
fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            PageError::Internal.into_response()
        }
    }
}

/// A page that could not be shown, as an HTML page that says why and what to do.
#[derive(Debug)]
enum PageError {
    /// No product with this ID is registered.
    NoProduct {
        id: String,
    },
    /// Something else is not here: what, and a sentence on what to try.
    NotFound {
        heading: String,
        message: String,
    },
    BadRequest {
        message: String,
    },
    Internal,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: String,
    message: String,
    /// Offer the search form (prefilled with this).
    search: Option<String>,
    hints: Vec<&'static str>,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, page) = match self {
            PageError::NoProduct { id } => {
                // The identifier came from the address bar: show no more of it than an
                // identifier can be long.
                let id = iotmark_declare::preview(&id);
                (
                StatusCode::NOT_FOUND,
                ErrorPage {
                    chrome: Chrome::new("Product not found", ""),
                    heading: "This product is not in the registry".to_owned(),
                    message: format!("No product with the identifier “{id}” is registered."),
                    search: Some(id.replace('-', " ")),
                    hints: vec![
                        "Check the address under the QR code on the box: it ends in the product's identifier.",
                        "Search by the product's name, model or manufacturer below.",
                        "A product that is not listed here has no published security declaration in this registry: be careful with labels that point elsewhere.",
                    ],
                },
            )
            }
            PageError::NotFound { heading, message } => (
                StatusCode::NOT_FOUND,
                ErrorPage {
                    chrome: Chrome::new("Not found", ""),
                    heading,
                    message,
                    search: Some(String::new()),
                    hints: Vec::new(),
                },
            ),
            PageError::BadRequest { message } => (
                StatusCode::BAD_REQUEST,
                ErrorPage {
                    chrome: Chrome::new("Cannot show this page", ""),
                    heading: "The address asks for something the registry cannot show".to_owned(),
                    message,
                    search: None,
                    hints: Vec::new(),
                },
            ),
            PageError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorPage {
                    chrome: Chrome::new("Something went wrong", ""),
                    heading: "The registry could not show this page".to_owned(),
                    message: "Something went wrong on our side; nothing you did caused it. Please try again in a minute."
                        .to_owned(),
                    search: None,
                    hints: Vec::new(),
                },
            ),
        };
        match page.render() {
            Ok(body) => html(status, body),
            // The error page itself failed: plain words, still with the headers.
            Err(_) => {
                let mut response =
                    (status, "The registry could not show this page.").into_response();
                protect(response.headers_mut());
                response
            }
        }
    }
}

impl From<RegistryError> for PageError {
    fn from(e: RegistryError) -> Self {
        tracing::error!(error = %e, "serving a page");
        PageError::Internal
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        RegistryError::from(e).into()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::STYLE;

    /// WCAG 2.x relative luminance of `#rrggbb`.
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap()) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    /// Every pair of text and background colour the stylesheet puts together reaches 4.5:1
    /// (WCAG AA for body text). The pairs are checked to be in the stylesheet, so a change of
    /// colour there fails here until the pair is checked again.
    #[test]
    fn text_colours_have_enough_contrast() {
        let pairs = [
            ("#1b1f24", "#f3f4f6", "body text on the page"),
            ("#1b1f24", "#ffffff", "body text on a card"),
            ("#0b57d0", "#f3f4f6", "links on the page"),
            ("#0b57d0", "#eaf6ee", "links on a green card"),
            ("#0b57d0", "#fdeeee", "links on a red card"),
            ("#3d4550", "#f3f4f6", "muted text on the page"),
            ("#3d4550", "#eaf6ee", "muted text on a green card"),
            ("#3d4550", "#ffffff", "muted text on a card"),
            ("#ffffff", "#12263f", "header text"),
            ("#0b0c0c", "#ffbf47", "the skip link"),
            ("#0d5227", "#eaf6ee", "a verdict that holds"),
            ("#6b3600", "#fff4e5", "a verdict that needs care"),
            ("#8c1d18", "#fdeeee", "a verdict that does not hold"),
            ("#6b3600", "#ffffff", "a warning pill"),
            ("#ffffff", "#0b57d0", "the search button"),
            ("#ffffff", "#083f9a", "the search button, hovered"),
            ("#e6edf5", "#0f1b2d", "commands"),
            ("#5b6470", "#ffffff", "the search box's placeholder"),
            ("#ffffff", "#1e7e3e", "the check mark"),
            ("#ffffff", "#b3261e", "the cross"),
            ("#ffffff", "#a35200", "the exclamation mark"),
        ];
        for (text, background, what) in pairs {
            for colour in [text, background] {
                assert!(
                    STYLE.contains(colour) || colour == "#ffffff",
                    "{what}: {colour} is no longer in style.css"
                );
            }
            let ratio = contrast(text, background);
            assert!(
                ratio >= 4.5,
                "{what}: {text} on {background} is {ratio:.2}:1"
            );
        }
    }
}
