//! The semantic-ID quality report, computed from the catalogue's codes: per level usage,
//! perplexity, entropy, Gini of the code counts and dead codes; the share of items whose codes no
//! other item shares, the sizes of the collision groups and the largest of them.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Health of one codebook level over the whole catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelStats {
    /// Share of the level's codes used by at least one item, in percent.
    pub usage_pct: f64,
    /// exp(entropy) of the level's code distribution over items (max = codebook size).
    pub perplexity: f64,
    /// Codes used by no item.
    pub dead_codes: usize,
    /// Entropy of the level's code distribution over items, in bits (max = log2 codebook size).
    #[serde(default)]
    pub entropy_bits: f64,
    /// Gini coefficient of the items per code, dead codes included: 0 when every code holds as
    /// many items, near 1 when one code holds them all.
    #[serde(default)]
    pub gini: f64,
}

/// Figures reported every log interval and written to `rqvae_stats.json` at the end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct QuantizeStats {
    /// Training step these figures belong to.
    pub step: usize,
    /// Mean squared reconstruction error on the last batch (in the model's input space).
    pub recon_loss: f64,
    /// Quantization loss (codebook + β·commitment) per level on the last batch.
    pub quant_loss: Vec<f64>,
    /// Per-level usage, perplexity and dead codes over the catalogue.
    pub levels: Vec<LevelStats>,
    /// Percentage of items whose L-code prefix no other item shares.
    pub unique_prefix_pct: f64,
    /// Size of the largest group of items sharing all L codes (1 = no collisions).
    pub largest_collision_group: usize,
    /// Number of items.
    pub items: usize,
    /// Items per code, per level (`[levels][codebook_size]`): the usage histogram.
    #[serde(default)]
    pub code_counts: Vec<Vec<u32>>,
    /// Collision groups by size: `[size, groups]` pairs, smallest size first (size 1 = items
    /// alone on their codes).
    #[serde(default)]
    pub collision_groups: Vec<[usize; 2]>,
}

impl QuantizeStats {
    /// Whether the figures added to the report later (entropy, Gini, collision groups) are
    /// missing, as in the statistics of runs written before them.
    pub fn lacks_report(&self) -> bool {
        self.items > 0 && self.collision_groups.is_empty()
    }

    /// Takes the catalogue figures of `fresh` (computed from the same run's codes) into these
    /// statistics, keeping their step and losses.
    pub fn take_report(&mut self, fresh: QuantizeStats) {
        let QuantizeStats {
            levels,
            unique_prefix_pct,
            largest_collision_group,
            items,
            code_counts,
            collision_groups,
            ..
        } = fresh;
        self.levels = levels;
        self.unique_prefix_pct = unique_prefix_pct;
        self.largest_collision_group = largest_collision_group;
        self.items = items;
        self.code_counts = code_counts;
        self.collision_groups = collision_groups;
    }

    /// The collision groups as `size×groups` pairs, smallest first: `1×9000  2×50  3×2`.
    pub fn collision_histogram(&self) -> String {
        self.collision_groups
            .iter()
            .map(|[size, n]| format!("{size}×{n}"))
            .collect::<Vec<_>>()
            .join("  ")
    }
}

/// Computes the catalogue figures from `codes` (`[items, levels]` row-major) for codebooks of
/// `codebook_size` entries. Loss fields are left for the caller.
pub fn catalogue_stats(codes: &[u32], levels: usize, codebook_size: usize) -> QuantizeStats {
    let items = codes.len().checked_div(levels).unwrap_or(0);
    let mut per_level = Vec::with_capacity(levels);
    let mut code_counts = Vec::with_capacity(levels);
    for l in 0..levels {
        let mut counts = vec![0usize; codebook_size];
        for row in codes.chunks_exact(levels) {
            if let Some(c) = counts.get_mut(row[l] as usize) {
                *c += 1;
            }
        }
        let used = counts.iter().filter(|&&c| c > 0).count();
        let entropy: f64 = counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = c as f64 / items.max(1) as f64;
                // p · ln(1/p): never −0 (a level whose items all share one code has entropy 0).
                p * (1.0 / p).ln()
            })
            .sum();
        per_level.push(LevelStats {
            usage_pct: 100.0 * used as f64 / codebook_size.max(1) as f64,
            perplexity: entropy.exp(),
            dead_codes: codebook_size - used,
            entropy_bits: entropy / std::f64::consts::LN_2,
            gini: gini(&counts),
        });
        code_counts.push(counts.iter().map(|&c| c as u32).collect());
    }
    let mut groups: HashMap<&[u32], usize> = HashMap::new();
    for row in codes.chunks_exact(levels.max(1)) {
        *groups.entry(row).or_default() += 1;
    }
    let unique = groups.values().filter(|&&n| n == 1).count();
    let mut by_size = std::collections::BTreeMap::<usize, usize>::new();
    for &n in groups.values() {
        *by_size.entry(n).or_default() += 1;
    }
    QuantizeStats {
        levels: per_level,
        unique_prefix_pct: 100.0 * unique as f64 / items.max(1) as f64,
        largest_collision_group: groups.values().copied().max().unwrap_or(0),
        items,
        code_counts,
        collision_groups: by_size.into_iter().map(|(size, n)| [size, n]).collect(),
        ..Default::default()
    }
}

/// Gini coefficient of `counts`: the mean absolute difference between two entries over twice
/// their mean (0 for no entries or all zero).
fn gini(counts: &[usize]) -> f64 {
    let n = counts.len() as f64;
    let total: f64 = counts.iter().map(|&c| c as f64).sum();
    if counts.is_empty() || total == 0.0 {
        return 0.0;
    }
    let mut sorted = counts.to_vec();
    sorted.sort_unstable();
    // With x ascending and i from 1: G = 2 Σ i·x_i / (n Σ x) − (n + 1) / n.
    let weighted: f64 = sorted
        .iter()
        .enumerate()
        .map(|(i, &c)| (i + 1) as f64 * c as f64)
        .sum();
    2.0 * weighted / (n * total) - (n + 1.0) / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_checked_figures() {
        // 4 items, 2 levels, codebook of 4: level 1 uses codes {0,1}, level 2 uses {0,1,2}.
        let codes = [0, 0, 0, 0, 1, 1, 1, 2];
        let s = catalogue_stats(&codes, 2, 4);
        assert_eq!(s.items, 4);
        assert!((s.levels[0].usage_pct - 50.0).abs() < 1e-9);
        assert_eq!(s.levels[0].dead_codes, 2);
        // Level 1: two codes used twice each → perplexity 2.
        assert!((s.levels[0].perplexity - 2.0).abs() < 1e-9);
        assert_eq!(s.levels[1].dead_codes, 1);
        // Items (0,0),(0,0) collide; (1,1),(1,2) are unique → 50 %.
        assert!((s.unique_prefix_pct - 50.0).abs() < 1e-9);
        assert_eq!(s.largest_collision_group, 2);
        assert_eq!(s.code_counts, vec![vec![2, 2, 0, 0], vec![2, 1, 1, 0]]);
        // Level 1: p = (½, ½) → 1 bit; level 2: p = (½, ¼, ¼) → 1.5 bits.
        assert!((s.levels[0].entropy_bits - 1.0).abs() < 1e-9);
        assert!((s.levels[1].entropy_bits - 1.5).abs() < 1e-9);
        // Gini by pairs: level 1 counts (2,2,0,0): Σ|xi−xj| over ordered pairs = 8·2 = 16,
        // 2·n²·mean = 2·16·1 = 32 → 0.5. Level 2 (2,1,1,0): Σ = 2·(1+1+2+0+1+1) = 12 → 0.375.
        assert!((s.levels[0].gini - 0.5).abs() < 1e-9);
        assert!((s.levels[1].gini - 0.375).abs() < 1e-9);
        // One pair and two items alone.
        assert_eq!(s.collision_groups, vec![[1, 2], [2, 1]]);
        assert_eq!(s.collision_histogram(), "1×2  2×1");
        // Every item on one code: entropy exactly 0, shown without a sign.
        let one = catalogue_stats(&[3, 3, 3], 1, 4);
        assert_eq!(format!("{:.2}", one.levels[0].entropy_bits), "0.00");
    }

    #[test]
    fn gini_is_zero_when_even_and_grows_with_concentration() {
        assert_eq!(gini(&[3, 3, 3]), 0.0);
        assert_eq!(gini(&[]), 0.0);
        assert_eq!(gini(&[0, 0]), 0.0);
        // All items on one of n codes: (n − 1) / n.
        assert!((gini(&[0, 0, 0, 8]) - 0.75).abs() < 1e-12);
        assert!(gini(&[1, 2, 3, 4]) < gini(&[0, 1, 2, 7]));
    }
}
