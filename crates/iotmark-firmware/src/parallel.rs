//! Work shared across cores: files of very different sizes (a 4 MiB libcrypto beside
//! hundreds of small scripts), so each item is a task of its own that an idle core takes,
//! rather than a fixed share, and results come back in the items' order.
//!
//! Every stage of a scan runs on rayon's one pool of a thread per core. Threads spawned
//! afresh for each stage (as this module once did) left the kernel to place them: two could
//! share a core for milliseconds while the other core idled.

use rayon::prelude::*;

/// `f` applied to every item on all cores. An item whose call panics yields `None`, so one
/// hostile input cannot take the others down or shift the results.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<Option<R>> {
    items
        .par_iter()
        .with_max_len(1)
        .map(|item| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(item))).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_items_order_and_a_panic_stays_local() {
        let items: Vec<u32> = (0..1000).collect();
        let out = super::map(&items, |&x| {
            assert!(x != 500, "hostile item");
            x * 2
        });
        assert_eq!(out.len(), 1000);
        assert_eq!(out[0], Some(0));
        assert_eq!(out[999], Some(1998));
        assert_eq!(out[500], None);
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, r)| i == 500 || *r == Some(i as u32 * 2))
        );
    }
}
