//! Rendered product pages, kept briefly. The page behind a QR code is read far more often than
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

/// Rendered pages by product ID.
#[derive(Debug, Default)]
pub struct PageCache {
    /// Product → (served until, page).
    entries: RwLock<HashMap<String, (Instant, Bytes)>>,
}

impl PageCache {
    /// The page of `product`, if rendered less than [`MAX_AGE`] ago and unchanged since.
    pub fn get(&self, product: &str) -> Option<Bytes> {
        let entries = self.entries.read().ok()?;
        let (until, body) = entries.get(product)?;
        (Instant::now() < *until).then(|| body.clone())
    }

    /// Keeps a page rendered at `rendered` (taken before the data was read) for `keep`, at
    /// most [`MAX_AGE`].
    pub fn put(&self, product: &str, rendered: Instant, keep: Duration, body: Bytes) {
        let until = rendered + keep.min(MAX_AGE);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(product) {
                entries.clear();
            }
            entries.insert(product.to_owned(), (until, body));
        }
    }

    /// Forgets every page: something that many products show changed (a scheme's
    /// requirements, the label administrator).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }

    /// Forgets the page of `product`: something about it changed.
    pub fn invalidate(&self, product: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(product);
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
        cache.put("a", now, Duration::from_secs(60), Bytes::from_static(b"A"));
        cache.put("b", now, Duration::from_secs(60), Bytes::from_static(b"B"));
        assert_eq!(cache.get("a").as_deref(), Some(&b"A"[..]));
        cache.invalidate("a");
        assert_eq!(cache.get("a"), None);
        assert_eq!(
            cache.get("b").as_deref(),
            Some(&b"B"[..]),
            "other products stay"
        );
        // Never longer than MAX_AGE, and not at all once the keep time has passed.
        let long_ago = now - MAX_AGE - Duration::from_millis(1);
        cache.put(
            "c",
            long_ago,
            Duration::from_secs(3600),
            Bytes::from_static(b"C"),
        );
        assert_eq!(cache.get("c"), None);
        cache.put("d", now, Duration::ZERO, Bytes::from_static(b"D"));
        assert_eq!(cache.get("d"), None);
    }
}
