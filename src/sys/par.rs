//! A tiny, deterministic parallel map for per-file work (planning, diff rendering): items are
//! spread over the machine's cores by estimated cost, and results come back in input order,
//! so output never depends on scheduling. Small inputs run inline.

use std::thread;

/// Below this total estimated cost (bytes), threads cost more than they save.
const INLINE_BELOW: usize = 64 * 1024;

pub fn map<T: Sync, R: Send>(
    items: &[T],
    cost: impl Fn(&T) -> usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let costs: Vec<usize> = items.iter().map(&cost).collect();
    let total: usize = costs.iter().sum();
    let workers = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if workers <= 1 || total < INLINE_BELOW {
        return items.iter().map(f).collect();
    }
    // Greedy: heaviest items first, each to the lightest bin.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(costs[i]));
    let mut bins: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); workers];
    for i in order {
        let bin = bins.iter_mut().min_by_key(|b| b.0).expect("workers > 0");
        bin.0 += costs[i];
        bin.1.push(i);
    }
    let f = &f;
    let mut done: Vec<(usize, R)> = thread::scope(|s| {
        let handles: Vec<_> = bins
            .into_iter()
            .map(|(_, idx)| {
                s.spawn(move || {
                    idx.into_iter()
                        .map(|i| (i, f(&items[i])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker panicked"))
            .collect()
    });
    // Every index is in exactly one bin: back in input order.
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_input_order() {
        let items: Vec<usize> = (0..100).collect();
        let out = super::map(&items, |_| 10_000, |i| i * 2);
        assert_eq!(out, (0..100).map(|i| i * 2).collect::<Vec<_>>());
    }
}
