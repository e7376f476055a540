//! Iterative k-core filtering, stable chronological ordering and the leave-one-out split.

use super::dataset::Dataset;
use super::error::DataError;

/// One user's chronologically ordered items after filtering, split leave-one-out.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSequence {
    /// Index into [`Dataset::users`].
    pub user: u32,
    /// Training part: every item but the last two, oldest first.
    pub train: Vec<u32>,
    /// Validation target: the second-last item.
    pub valid: u32,
    /// Test target: the last item.
    pub test: u32,
}

/// The result of filtering and splitting a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// k used by the k-core filter.
    pub k: usize,
    /// One entry per kept user, in order of user index.
    pub users: Vec<UserSequence>,
    /// Interactions kept by the filter.
    pub interactions: usize,
    /// Distinct items kept by the filter.
    pub items: usize,
}

/// Keeps the interactions of the `k`-core: repeatedly drops users and items with fewer than `k`
/// interactions until none is left. Returns a keep-flag per interaction (file order).
pub fn k_core(dataset: &Dataset, k: usize) -> Vec<bool> {
    let mut keep = vec![true; dataset.interactions.len()];
    loop {
        let mut user_count = vec![0usize; dataset.users.len()];
        let mut item_count = vec![0usize; dataset.items.len()];
        for (i, it) in dataset.interactions.iter().enumerate() {
            if keep[i] {
                user_count[it.user as usize] += 1;
                item_count[it.item as usize] += 1;
            }
        }
        let mut changed = false;
        for (i, it) in dataset.interactions.iter().enumerate() {
            if keep[i] && (user_count[it.user as usize] < k || item_count[it.item as usize] < k) {
                keep[i] = false;
                changed = true;
            }
        }
        if !changed {
            return keep;
        }
    }
}

/// Filters to the `k`-core, orders each user's items by timestamp (ties keep file order) and splits
/// leave-one-out: last item = test, second last = validation, the rest trains. Users with fewer
/// than three items after filtering are dropped (possible only when `k < 3`).
pub fn split(dataset: &Dataset, k: usize) -> Result<Split, DataError> {
    let keep = k_core(dataset, k);
    let mut per_user: Vec<Vec<(f64, usize, u32)>> = vec![Vec::new(); dataset.users.len()];
    let mut item_seen = vec![false; dataset.items.len()];
    let mut interactions = 0;
    for (i, it) in dataset.interactions.iter().enumerate() {
        if keep[i] {
            per_user[it.user as usize].push((it.timestamp, i, it.item));
            item_seen[it.item as usize] = true;
            interactions += 1;
        }
    }
    let mut users = Vec::new();
    for (user, mut events) in per_user.into_iter().enumerate() {
        if events.len() < 3 {
            continue;
        }
        // Stable sort on the timestamp alone keeps file order among ties.
        events.sort_by(|a, b| a.0.total_cmp(&b.0));
        let items: Vec<u32> = events.into_iter().map(|e| e.2).collect();
        let n = items.len();
        users.push(UserSequence {
            user: user as u32,
            train: items[..n - 2].to_vec(),
            valid: items[n - 2],
            test: items[n - 1],
        });
    }
    if users.is_empty() {
        return Err(DataError::NothingLeft {
            path: dataset.source.clone(),
            min: 3.max(k),
            k,
        });
    }
    Ok(Split {
        k,
        users,
        interactions,
        items: item_seen.iter().filter(|s| **s).count(),
    })
}
