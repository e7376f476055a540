//! The popularity baseline: the most frequent items of the training parts, the same list for
//! every user. A sanity floor for the learned models.

use crate::data::Split;

/// Items ranked by how often they occur in the training parts (ties: lower index first).
pub fn ranking(split: &Split, items: usize) -> Vec<u32> {
    let mut counts = vec![0usize; items];
    for u in &split.users {
        for &i in &u.train {
            counts[i as usize] += 1;
        }
    }
    let mut order: Vec<u32> = (0..items as u32).collect();
    order.sort_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    order
}

/// Recall and NDCG of the popularity ranking on `part` of `split` (a catalogue of `items`), at
/// the cut-offs `ks`.
pub fn metrics(
    split: &Split,
    items: usize,
    part: crate::data::samples::Part,
    ks: &[usize],
) -> crate::eval::Metrics {
    let ranking = ranking(split, items);
    let top = &ranking[..ks.iter().copied().max().unwrap_or(0).min(ranking.len())];
    let mut acc = crate::eval::MetricsAccumulator::new(ks);
    for s in crate::data::samples::samples(split, part, 1) {
        acc.add_ranking(top, s.target);
    }
    acc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::UserSequence;

    #[test]
    fn most_frequent_training_items_first() {
        let u = |train: Vec<u32>| UserSequence {
            user: 0,
            train,
            valid: 9,
            test: 9,
        };
        let split = Split {
            k: 1,
            users: vec![u(vec![2, 1, 2]), u(vec![1, 2, 3])],
            interactions: 0,
            items: 0,
        };
        // 2 occurs 3×, 1 twice, 3 once; the validation/test item 9 does not count.
        assert_eq!(&ranking(&split, 10)[..4], &[2, 1, 3, 0]);
    }
}
