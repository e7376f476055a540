//! Codebook health figures computed from the catalogue's codes: usage, perplexity, dead codes,
//! unique-prefix rate and the largest collision group.

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
                -p * p.ln()
            })
            .sum();
        per_level.push(LevelStats {
            usage_pct: 100.0 * used as f64 / codebook_size.max(1) as f64,
            perplexity: entropy.exp(),
            dead_codes: codebook_size - used,
        });
        code_counts.push(counts.iter().map(|&c| c as u32).collect());
    }
    let mut groups: HashMap<&[u32], usize> = HashMap::new();
    for row in codes.chunks_exact(levels.max(1)) {
        *groups.entry(row).or_default() += 1;
    }
    let unique = groups.values().filter(|&&n| n == 1).count();
    QuantizeStats {
        levels: per_level,
        unique_prefix_pct: 100.0 * unique as f64 / items.max(1) as f64,
        largest_collision_group: groups.values().copied().max().unwrap_or(0),
        items,
        code_counts,
        ..Default::default()
    }
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
    }
}
