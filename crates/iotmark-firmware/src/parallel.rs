//! Work shared across cores: files of very different sizes (a 4 MiB libcrypto beside
//! hundreds of small scripts), so each worker takes the next item when it is free rather
//! than a fixed share, and results come back in the items' order.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` applied to every item on all cores (at most 8 threads). An item whose call panics
/// yields `None`, so one hostile input cannot take the others down or shift the results.
pub(crate) fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<Option<R>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(item)));
            done.push((i, result.ok()));
        }
        done
    };
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mine = work();
        for (i, r) in workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .chain(mine)
        {
            if let Some(slot) = results.get_mut(i) {
                *slot = r;
            }
        }
    });
    results
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
