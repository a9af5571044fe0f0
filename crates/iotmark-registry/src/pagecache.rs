//! Rendered product pages and product API answers, kept briefly. The page behind a QR code is read far more often than
//! it changes; rendering it takes several queries and a template. An entry is dropped the
//! moment anything about its product changes (an accepted attestation or status change, a
//! published declaration, a vulnerability report), and otherwise lives at most [`MAX_AGE`], so
//! time-dependent words ("3 years left", an attestation that just expired) are at most that
//! old.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::body::Bytes;

/// How long a rendered page may be served without re-rendering.
pub const MAX_AGE: Duration = Duration::from_secs(5);
/// Past this many products, the cache is cleared before adding another (bounded memory).
const MAX_ENTRIES: usize = 10_000;

/// What is kept for a product: its HTML page or its JSON API answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Page,
    Json,
}

/// Rendered pages and API answers by product ID.
#[derive(Debug, Default)]
pub struct PageCache {
    /// (view, product) → (served until, body).
    entries: RwLock<HashMap<(View, String), (Instant, Bytes)>>,
}

/// How long an answer whose words next change by themselves at `next_change` (an
/// attestation expiring, a status change taking effect) may be kept: until then, and never
/// longer than [`MAX_AGE`].
pub fn keep_until(next_change: Option<jiff::Timestamp>) -> Duration {
    next_change.map_or(MAX_AGE, |t| {
        let secs = (t.as_second() - jiff::Timestamp::now().as_second()).max(0);
        MAX_AGE.min(Duration::from_secs(secs.unsigned_abs()))
    })
}

impl PageCache {
    /// The `view` of `product`, if rendered less than [`MAX_AGE`] ago and unchanged since.
    pub fn get(&self, view: View, product: &str) -> Option<Bytes> {
        let entries = self.entries.read().ok()?;
        let (until, body) = entries.get(&(view, product.to_owned()))?;
        (Instant::now() < *until).then(|| body.clone())
    }

    /// Keeps a body rendered at `rendered` (taken before the data was read) for `keep`, at
    /// most [`MAX_AGE`].
    pub fn put(&self, view: View, product: &str, rendered: Instant, keep: Duration, body: Bytes) {
        if keep.is_zero() {
            return;
        }
        let until = rendered + keep.min(MAX_AGE);
        let key = (view, product.to_owned());
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
                entries.clear();
            }
            entries.insert(key, (until, body));
        }
    }

    /// Forgets everything: something that many products show changed (a scheme's
    /// requirements, the label administrator).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// Forgets the page and the API answer of `product`: something about it changed.
    pub fn invalidate(&self, product: &str) {
        if let Ok(mut entries) = self.entries.write() {
            for view in [View::Page, View::Json] {
                entries.remove(&(view, product.to_owned()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_expire_and_are_dropped_when_their_product_changes() {
        let cache = PageCache::default();
        let now = Instant::now();
        let minute = Duration::from_secs(60);
        cache.put(View::Page, "a", now, minute, Bytes::from_static(b"A"));
        cache.put(View::Json, "a", now, minute, Bytes::from_static(b"{}"));
        cache.put(View::Page, "b", now, minute, Bytes::from_static(b"B"));
        assert_eq!(cache.get(View::Page, "a").as_deref(), Some(&b"A"[..]));
        assert_eq!(cache.get(View::Json, "a").as_deref(), Some(&b"{}"[..]));
        cache.invalidate("a");
        assert_eq!(cache.get(View::Page, "a"), None);
        assert_eq!(cache.get(View::Json, "a"), None, "the API answer goes too");
        assert_eq!(
            cache.get(View::Page, "b").as_deref(),
            Some(&b"B"[..]),
            "other products stay"
        );
        // Never longer than MAX_AGE, and not at all once the keep time has passed.
        let long_ago = now - MAX_AGE - Duration::from_millis(1);
        cache.put(
            View::Page,
            "c",
            long_ago,
            Duration::from_secs(3600),
            Bytes::from_static(b"C"),
        );
        assert_eq!(cache.get(View::Page, "c"), None);
        cache.put(
            View::Page,
            "d",
            now,
            Duration::ZERO,
            Bytes::from_static(b"D"),
        );
        assert_eq!(cache.get(View::Page, "d"), None);
    }
}
