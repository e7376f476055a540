//! Making the codes of a catalogue with any scheme, and making them again from a saved run: the
//! same function gives a run's codes at the end of training and when its folder is read back, so
//! a saved run's `semantic_ids.csv` can always be reproduced.

use burn::prelude::*;

use super::{ResidualKmeans, balanced_assign, random_codes, sinkhorn};
use crate::rqvae::RqVae;
use crate::rqvae::{RqVaeConfig, Standardizer};
use crate::train::device_rows::DeviceRows;
use crate::train::rqvae_loop::{Flow, RqVaeError, RqVaeEvent, TrainedIds, assign_codes, read_f32};
use tiger_core::config::{IdScheme, QuantizeOptions};
use tiger_core::ids::catalogue_stats;

/// What assigns a run's codes.
#[derive(Debug, Clone)]
pub enum IdModel {
    /// A trained RQ-VAE (plain or with the rotation trick).
    RqVae(RqVae),
    /// Residual k-means codebooks in the standardised input space.
    ResidualKmeans(ResidualKmeans),
    /// Nothing: random codes drawn from the run's seed.
    Random,
}

/// The codes `model` gives the catalogue `x` (standardised, `[rows, dim]` row-major) under
/// `opts`: nearest codewords level by level, then the last level balanced when `opts.sinkhorn` is
/// set. An RQ-VAE reads the rows from `uploaded` when they are already on `device` (then `x` may
/// be empty), else uploads `x`. Returns `[rows, levels]`.
pub fn codes(
    model: &IdModel,
    x: &[f32],
    dim: usize,
    uploaded: Option<&DeviceRows>,
    device: &Device,
    opts: &QuantizeOptions,
) -> Result<Vec<u32>, RqVaeError> {
    let levels = opts.levels;
    match model {
        IdModel::Random => {
            let rows = x.len().checked_div(dim).unwrap_or(0);
            Ok(random_codes(rows, levels, opts.codebook_size, opts.seed))
        }
        IdModel::ResidualKmeans(rk) => {
            let (mut codes, last_input) = rk.codes_and_residuals(x);
            if opts.sinkhorn {
                let book = rk.codebooks.last().map_or(&[][..], |b| b.as_slice());
                balance_last_level(&mut codes, levels, &last_input, book, rk.dim)?;
            }
            Ok(codes)
        }
        IdModel::RqVae(m) => {
            let owned;
            let rows = match uploaded {
                Some(rows) => rows,
                None => {
                    owned =
                        DeviceRows::upload(x, x.len().checked_div(dim).unwrap_or(0), dim, device);
                    &owned
                }
            };
            let mut codes = assign_codes(m, rows)?;
            if opts.sinkhorn {
                let (last_input, book, latent) = rqvae_last_input(m, rows, &codes, levels)?;
                balance_last_level(&mut codes, levels, &last_input, &book, latent)?;
            }
            Ok(codes)
        }
    }
}

/// Replaces the last level of `codes` (`[rows, levels]`) by the Sinkhorn-balanced assignment of
/// `last_input` (`[rows, dim]`, what the levels before left) to the codewords of `book`
/// (`[codebook_size, dim]`), by squared distance.
pub fn balance_last_level(
    codes: &mut [u32],
    levels: usize,
    last_input: &[f32],
    book: &[f32],
    dim: usize,
) -> Result<(), RqVaeError> {
    let rows = codes.len().checked_div(levels).unwrap_or(0);
    let size = book.len().checked_div(dim).unwrap_or(0);
    if rows == 0 || size == 0 {
        return Ok(());
    }
    tiger_core::config::check_tensor(
        &format!("--sinkhorn over {rows} items × {size} codes"),
        rows as u64 * size as u64,
        "leave --sinkhorn off for a catalogue this large, or lower --codebook-size",
    )
    .map_err(RqVaeError::Options)?;
    use rayon::prelude::*;
    let mut cost = vec![0f32; rows * size];
    cost.par_chunks_exact_mut(size)
        .zip(last_input.par_chunks_exact(dim))
        .for_each(|(row, r)| {
            for (c, w) in row.iter_mut().zip(book.chunks_exact(dim)) {
                *c = r.iter().zip(w).map(|(a, b)| (a - b) * (a - b)).sum();
            }
        });
    let eps = sinkhorn::epsilon_for(&cost);
    let last = balanced_assign(&cost, size, eps, sinkhorn::ITERATIONS);
    for (row, code) in codes.chunks_exact_mut(levels).zip(last) {
        row[levels - 1] = code;
    }
    Ok(())
}

/// The RQ-VAE's latent vectors minus the codewords of every level but the last (`[rows,
/// latent]`), with the last codebook (`[size, latent]`) and the latent width.
fn rqvae_last_input(
    model: &RqVae,
    rows: &DeviceRows,
    codes: &[u32],
    levels: usize,
) -> Result<(Vec<f32>, Vec<f32>, usize), RqVaeError> {
    let mut z = Vec::new();
    for part in rows.chunks() {
        z.extend(read_f32(model.encode(part.clone()))?);
    }
    let books: Vec<Vec<f32>> = model
        .codebooks
        .iter()
        .map(|c| read_f32(c.val()))
        .collect::<Result<_, _>>()?;
    let dim = z.len().checked_div(rows.rows()).unwrap_or(0);
    for (r, row_codes) in z
        .chunks_exact_mut(dim.max(1))
        .zip(codes.chunks_exact(levels))
    {
        for (book, &c) in books.iter().zip(row_codes).take(levels.saturating_sub(1)) {
            let w = &book[c as usize * dim..(c as usize + 1) * dim];
            for (v, m) in r.iter_mut().zip(w) {
                *v -= m;
            }
        }
    }
    let last = books.last().cloned().unwrap_or_default();
    Ok((z, last, dim))
}

/// Fits a scheme that trains no encoder (`ResidualKmeans` or `Random`) on the standardised
/// catalogue `x` (`[rows, dim]`), announcing each level to `phase`; `None` when `phase` says
/// stop.
pub fn fit_untrained(
    x: &[f32],
    dim: usize,
    opts: &QuantizeOptions,
    mut phase: impl FnMut(String) -> bool,
) -> Option<IdModel> {
    match opts.scheme {
        IdScheme::ResidualKmeans => ResidualKmeans::fit(
            x,
            dim,
            opts.levels,
            opts.codebook_size,
            opts.kmeans_iters,
            opts.seed,
            |l| {
                phase(format!(
                    "residual k-means, level {} of {}",
                    l + 1,
                    opts.levels
                ))
            },
        )
        .map(IdModel::ResidualKmeans),
        _ => phase("drawing random codes".into()).then_some(IdModel::Random),
    }
}

/// A scheme that trains no encoder: fits it, assigns the codes and reports their statistics once.
pub(crate) fn untrained(
    x_host: Vec<f32>,
    dim: usize,
    opts: &QuantizeOptions,
    device: &Device,
    config: RqVaeConfig,
    standardizer: Standardizer,
    observe: &mut dyn FnMut(RqVaeEvent) -> Flow,
) -> Result<TrainedIds, RqVaeError> {
    let model = fit_untrained(&x_host, dim, opts, |p| {
        observe(RqVaeEvent::Phase(p)) == Flow::Continue
    })
    .ok_or(RqVaeError::Cancelled)?;
    let codes = codes(&model, &x_host, dim, None, device, opts)?;
    let mut stats = catalogue_stats(&codes, opts.levels, opts.codebook_size);
    stats.recon_loss = match &model {
        IdModel::ResidualKmeans(rk) => kmeans_reconstruction_error(rk, &x_host, &codes),
        // The codes keep nothing of the vectors: the error of rebuilding each as zero, their
        // mean square (the variance, after standardisation).
        _ => {
            x_host.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>()
                / x_host.len().max(1) as f64
        }
    };
    stats.quant_loss = vec![0.0; opts.levels];
    observe(RqVaeEvent::Step {
        step: opts.steps,
        steps: opts.steps,
    });
    observe(RqVaeEvent::Stats(stats.clone()));
    Ok(TrainedIds {
        model,
        config,
        standardizer,
        history: vec![stats.clone()],
        stats,
        codes,
    })
}

/// The mean squared error of rebuilding `x` (`[rows, dim]`) from the residual k-means codewords
/// of `codes`: what the codes lose of the vectors (the RQ-VAE's reconstruction loss counterpart).
pub fn kmeans_reconstruction_error(rk: &ResidualKmeans, x: &[f32], codes: &[u32]) -> f64 {
    let levels = rk.codebooks.len().max(1);
    let dim = rk.dim.max(1);
    let mut total = 0f64;
    for (row, row_codes) in x.chunks_exact(dim).zip(codes.chunks_exact(levels)) {
        let mut r = row.to_vec();
        for (book, &c) in rk.codebooks.iter().zip(row_codes) {
            for (v, m) in r
                .iter_mut()
                .zip(&book[c as usize * dim..(c as usize + 1) * dim])
            {
                *v -= m;
            }
        }
        total += r.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>();
    }
    total / x.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_balanced_last_level_spreads_items_that_shared_a_code() {
        // Six items on one first-level code; their last-level residuals all lie nearest codeword
        // 0 of three, at distances that rank them for codewords 1 and 2.
        let book = [0.0f32, 0.0, 3.0, 0.0, 0.0, 3.0];
        let last_input = [
            0.2f32, 0.0, 1.4, 0.0, 1.3, 0.1, 0.0, 1.4, 0.1, 1.3, 0.0, 0.1,
        ];
        let mut codes = vec![7u32, 0, 7, 0, 7, 0, 7, 0, 7, 0, 7, 0];
        balance_last_level(&mut codes, 2, &last_input, &book, 2).unwrap();
        let last: Vec<u32> = codes.chunks_exact(2).map(|r| r[1]).collect();
        // Two per codeword: items 1 and 2 lean towards codeword 1 (x), 3 and 4 towards 2 (y).
        assert_eq!(last, vec![0, 1, 1, 2, 2, 0]);
        assert!(
            codes.chunks_exact(2).all(|r| r[0] == 7),
            "the first level is kept"
        );
    }
}
