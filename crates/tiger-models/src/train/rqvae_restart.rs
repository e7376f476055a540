//! Dead-code restarts of the RQ-VAE: codes no step chose since the last restart are re-seeded from
//! the current residuals, so that collapsed codebook entries come back into use.

use burn::prelude::*;
use rand::RngExt;
use rand::rngs::StdRng;

use super::rqvae_loop::{RqVaeError, read_f32};

/// For each level, whether any step chose each of its `k` codes, from per-code counts
/// (`levels × k`, level-major).
pub(super) fn used_from_counts(counts: &[f32], k: usize) -> Vec<Vec<bool>> {
    counts
        .chunks_exact(k.max(1))
        .map(|level| level.iter().map(|&c| c > 0.0).collect())
        .collect()
}

/// New values for every codebook with unused codes: each unused code (`used[level]`) of
/// `codebooks[level]` (each `[codes, d]`) becomes a random row of `residuals[level]` (each
/// `[rows, d]`) plus a little noise. Returns `(level, codes × d values)` for the levels that
/// changed; the others are left out.
pub(super) fn reseeded(
    used: &[Vec<bool>],
    residuals: &[Tensor<2>],
    codebooks: &[Tensor<2>],
    d: usize,
    rng: &mut StdRng,
) -> Result<Vec<(usize, Vec<f32>)>, RqVaeError> {
    let mut fresh = Vec::new();
    for (level, used) in used.iter().enumerate() {
        if used.iter().all(|&u| u) {
            continue;
        }
        let (Some(res), Some(cb)) = (residuals.get(level), codebooks.get(level)) else {
            continue;
        };
        let res = read_f32(res.clone())?;
        let mut cb = read_f32(cb.clone())?;
        reseed(&mut cb, used, &res, d, rng);
        fresh.push((level, cb));
    }
    Ok(fresh)
}

/// Sets every unused code of `codebook` (`[codes, d]`, row-major; `used` per code) to a random
/// row of `residual` (`[rows, d]`) plus a little noise.
fn reseed(codebook: &mut [f32], used: &[bool], residual: &[f32], d: usize, rng: &mut StdRng) {
    let rows = residual.len() / d.max(1);
    if rows == 0 {
        return;
    }
    for code in (0..used.len()).filter(|&c| !used[c]) {
        let r = rng.random_range(0..rows);
        for j in 0..d {
            codebook[code * d + j] = residual[r * d + j] + 0.01 * (rng.random::<f32>() - 0.5);
        }
    }
}
