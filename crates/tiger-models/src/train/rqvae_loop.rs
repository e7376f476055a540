//! The RQ-VAE training loop: k-means init, optimiser steps, dead-code restarts and periodic
//! catalogue statistics, reported to an observer that can also stop the run, which then leaves the
//! state to go on from when asked to ([`Resumable`]).

use std::path::{Path, PathBuf};

use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::id_schemes::{IdModel, make};
use crate::rqvae::{RqVae, RqVaeConfig, Standardizer, kmeans::kmeans};
use crate::train::device_rows::DeviceRows;
use tiger_core::config::QuantizeOptions;
use tiger_core::embeddings::Embeddings;
use tiger_core::ids::{QuantizeStats, catalogue_stats};
use tiger_core::run::quantize_resume::{self, ResumePoint};

/// What the loop tells its observer.
#[derive(Debug, Clone)]
pub enum RqVaeEvent {
    /// A stage began (e.g. "k-means init", "compiling kernels (first step)").
    Phase(String),
    /// Training reached `step` of `steps`.
    Step {
        /// Steps done.
        step: usize,
        /// Steps in total.
        steps: usize,
    },
    /// Statistics at a log interval (and at the end).
    Stats(QuantizeStats),
}

/// Whether the observer wants the run to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep training.
    Continue,
    /// Stop as soon as possible; the loop returns [`RqVaeError::Cancelled`].
    Cancel,
}

/// Errors from training.
#[derive(Debug, thiserror::Error)]
pub enum RqVaeError {
    /// The options are invalid.
    #[error("invalid RQ-VAE options: {0}")]
    Options(String),
    /// The observer asked to stop.
    #[error("cancelled")]
    Cancelled,
    /// The observer asked to stop and the state to go on from was saved in `dir`.
    #[error(
        "interrupted at step {step}; the resumable state is saved in {} (run the same command with \
         --resume to go on)",
        dir.display()
    )]
    Interrupted {
        /// Steps done.
        step: usize,
        /// Where the state is.
        dir: PathBuf,
    },
    /// The saved state cannot be used.
    #[error("cannot resume: {0}")]
    Resume(String),
    /// Reading a tensor back from the device failed.
    #[error("device read-back failed: {0}")]
    Device(String),
    /// The loss became NaN or infinite.
    #[error(
        "training diverged at step {step} (loss is {loss}); lower --lr or enable --standardize"
    )]
    Diverged {
        /// Step at which it happened.
        step: usize,
        /// The loss value.
        loss: f64,
    },
}

/// The codes of a catalogue with what made them: a trained RQ-VAE, residual k-means codebooks or
/// nothing (random codes), and what is needed to make them again.
pub struct TrainedIds {
    /// What assigns the codes (an RQ-VAE without autodiff).
    pub model: IdModel,
    /// The RQ-VAE's shape (for the schemes without one, the shape the options describe).
    pub config: RqVaeConfig,
    /// Input standardisation (identity when disabled).
    pub standardizer: Standardizer,
    /// Final statistics.
    pub stats: QuantizeStats,
    /// Statistics at every log interval (the run's curves; one entry for a scheme that trains
    /// nothing).
    pub history: Vec<QuantizeStats>,
    /// Final codes of every item, `[items, levels]`.
    pub codes: Vec<u32>,
}

/// Reads a tensor back as `Vec<f32>`.
pub(crate) fn read_f32<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, RqVaeError> {
    t.try_into_vec_as::<f32>()
        .map_err(|e| RqVaeError::Device(e.to_string()))
}

/// Reads an Int tensor back as `Vec<u32>`.
fn read_codes(t: Tensor<2, Int>) -> Result<Vec<u32>, RqVaeError> {
    let v = t
        .try_into_vec_as::<i64>()
        .map_err(|e| RqVaeError::Device(e.to_string()))?;
    Ok(v.into_iter().map(|c| c as u32).collect())
}

/// Codes of every catalogue row (`data`: `[items, dim]` on the device), in chunks of 16,384 rows.
pub fn assign_codes(model: &RqVae, data: &DeviceRows) -> Result<Vec<u32>, RqVaeError> {
    const CHUNK: usize = 16_384;
    let mut out = Vec::with_capacity(data.rows() * model.levels());
    for part in data.chunks() {
        let [n, _] = part.dims();
        let mut start = 0;
        while start < n {
            let end = (start + CHUNK).min(n);
            out.extend(read_codes(
                model.codes(part.clone().slice(s![start..end, ..])),
            )?);
            start = end;
        }
    }
    Ok(out)
}

/// Where a run that can be interrupted keeps the state to go on from.
#[derive(Debug, Clone, Copy)]
pub struct Resumable<'a> {
    /// The folder the state is written to when the observer stops the run after a step (and read
    /// from when `resume` is set); removed by the caller once the run is saved.
    pub dir: &'a Path,
    /// Go on from the state in `dir` instead of starting afresh.
    pub resume: bool,
}

/// Trains an RQ-VAE on `embeddings` on `device` (without autodiff; the loop adds it), reporting to
/// `observe`, which may cancel. Deterministic for a given seed on a given device.
pub fn train(
    embeddings: &Embeddings,
    opts: &QuantizeOptions,
    device: &Device,
    observe: &mut dyn FnMut(RqVaeEvent) -> Flow,
) -> Result<TrainedIds, RqVaeError> {
    train_resumable(embeddings, opts, device, None, observe)
}

/// [`train`] that, with `resumable`, saves its state when the observer stops it after a step
/// ([`RqVaeError::Interrupted`]) or goes on from a saved state. A resumed run reaches the IDs an
/// uninterrupted one would: every batch and every dead-code restart draws from its own step's
/// seed, and the state holds everything else.
pub fn train_resumable(
    embeddings: &Embeddings,
    opts: &QuantizeOptions,
    device: &Device,
    resumable: Option<Resumable>,
    observe: &mut dyn FnMut(RqVaeEvent) -> Flow,
) -> Result<TrainedIds, RqVaeError> {
    opts.validate().map_err(RqVaeError::Options)?;
    tiger_core::config::check_tensor(
        &format!(
            "--batch-size {} × the embedding width {}",
            opts.batch_size, embeddings.dim
        ),
        opts.batch_size as u64 * embeddings.dim as u64,
        "lower --batch-size",
    )
    .map_err(RqVaeError::Options)?;
    let n = embeddings.rows;
    let standardizer = if opts.standardize {
        Standardizer::fit(embeddings)
    } else {
        Standardizer::identity(embeddings.dim)
    };
    let x_host = standardizer.apply(embeddings);
    let config = RqVaeConfig::from_options(opts, embeddings.dim);
    if !opts.scheme.trains_rqvae() {
        return make::untrained(
            x_host,
            embeddings.dim,
            opts,
            device,
            config,
            standardizer,
            observe,
        );
    }
    let train_device = device.clone().autodiff();
    train_device.seed(opts.seed);
    let mut model = config.init(&train_device);
    let data = DeviceRows::upload(&x_host, n, embeddings.dim, device);
    drop(x_host);
    let batch = opts.batch_size.min(n);
    let mut order = BatchOrder::new(n, batch, opts.seed);

    let start = match resumable {
        Some(r) if r.resume => Some(saved_state(r.dir, opts, embeddings)?),
        _ => None,
    };
    if opts.kmeans_init && start.is_none() {
        if observe(RqVaeEvent::Phase("k-means init of the codebooks".into())) == Flow::Cancel {
            return Err(RqVaeError::Cancelled);
        }
        let first = data.gather(order.rows(0), device);
        model = kmeans_init(model, first, opts)?;
    }

    let run = Run {
        data: &data,
        opts,
        device,
        batch,
    };
    let save = resumable.map(|r| super::rqvae_graph_loop::SaveTo {
        dir: r.dir,
        embeddings,
    });
    let (model, mut last_stats, mut history) =
        super::rqvae_graph_loop::run(&run, &model, &mut order, start, save, observe)?;
    let model = IdModel::RqVae(model);
    if opts.sinkhorn
        && observe(RqVaeEvent::Phase(
            "balancing the last level (Sinkhorn)".into(),
        )) == Flow::Cancel
    {
        return Err(RqVaeError::Cancelled);
    }
    let codes = make::codes(&model, &[], embeddings.dim, Some(&data), device, opts)?;
    if opts.sinkhorn {
        // The final figures describe the IDs the run keeps.
        last_stats.take_report(catalogue_stats(&codes, opts.levels, opts.codebook_size));
        if let Some(last) = history.last_mut() {
            *last = last_stats.clone();
        }
    }
    Ok(TrainedIds {
        model,
        config,
        standardizer,
        stats: last_stats,
        history,
        codes,
    })
}

/// The state saved in `dir`, checked against this run's options and embeddings.
fn saved_state(
    dir: &Path,
    opts: &QuantizeOptions,
    embeddings: &Embeddings,
) -> Result<(ResumePoint, quantize_resume::TrainerState), RqVaeError> {
    if !quantize_resume::exists(dir) {
        return Err(RqVaeError::Resume(format!(
            "{}: no saved state (it is left only by a run stopped with Ctrl-C)",
            dir.display()
        )));
    }
    let (point, state) = quantize_resume::read(dir).map_err(RqVaeError::Resume)?;
    if let Some(why) = point.mismatch(opts, embeddings) {
        return Err(RqVaeError::Resume(format!("{}: {why}", dir.display())));
    }
    Ok((point, state))
}

/// Losses of a step (`recon` and each level's `quant`, each `[1]`) and codebook statistics of the
/// whole catalogue under `model`, after step `step`; a loss that is not finite is an error.
pub(super) fn step_stats(
    model: &RqVae,
    run: &Run,
    recon: Tensor<1>,
    quant: &[Tensor<1>],
    step: usize,
) -> Result<QuantizeStats, RqVaeError> {
    let first = |t: Tensor<1>| -> Result<f64, RqVaeError> {
        Ok(read_f32(t)?.first().copied().unwrap_or(f32::NAN) as f64)
    };
    let codes = assign_codes(model, run.data)?;
    let mut stats = catalogue_stats(&codes, run.opts.levels, run.opts.codebook_size);
    let recon = first(recon)?;
    if !recon.is_finite() {
        return Err(RqVaeError::Diverged { step, loss: recon });
    }
    stats.step = step;
    stats.recon_loss = recon;
    stats.quant_loss = quant
        .iter()
        .map(|l| first(l.clone()))
        .collect::<Result<_, _>>()?;
    Ok(stats)
}

/// What both training paths share.
pub(super) struct Run<'a> {
    /// The standardised catalogue.
    pub data: &'a DeviceRows,
    /// The options.
    pub opts: &'a QuantizeOptions,
    /// The device (without autodiff).
    pub device: &'a Device,
    /// Rows per batch.
    pub batch: usize,
}

/// Batches of a shuffled order: each epoch is a permutation of the rows drawn from the seed and the
/// epoch alone, cut into whole batches (the rows left over go to no batch of that epoch), so the
/// rows of any batch follow from its index and a resumed run draws what an uninterrupted one does.
pub(super) struct BatchOrder {
    n: usize,
    batch: usize,
    seed: u64,
    epoch: Option<usize>,
    perm: Vec<usize>,
}

impl BatchOrder {
    /// The order of `n` rows taken `batch` (at most `n`) at a time.
    pub fn new(n: usize, batch: usize, seed: u64) -> Self {
        Self {
            n,
            batch: batch.clamp(1, n.max(1)),
            seed,
            epoch: None,
            perm: Vec::new(),
        }
    }

    /// The rows of batch `index` (batch 0 initialises the codebooks, batch `s` trains step `s`).
    pub fn rows(&mut self, index: usize) -> &[usize] {
        let per_epoch = (self.n / self.batch).max(1);
        let epoch = index / per_epoch;
        if self.epoch != Some(epoch) {
            self.perm = (0..self.n).collect();
            self.perm
                .shuffle(&mut seeded(self.seed, 0x0bad_5eed, epoch));
            self.epoch = Some(epoch);
        }
        let start = (index % per_epoch) * self.batch;
        &self.perm[start..(start + self.batch).min(self.n)]
    }
}

/// A generator for one purpose (`salt`) at one point (`index`) of a run seeded with `seed`.
pub(super) fn seeded(seed: u64, salt: u64, index: usize) -> StdRng {
    let mix = (index as u64 ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    StdRng::seed_from_u64(seed ^ mix.rotate_left(17))
}

/// Sets each codebook to the k-means centroids of its level's residuals on `batch`
/// (`[batch, input_dim]`), level after level.
fn kmeans_init(
    mut model: RqVae,
    batch: Tensor<2>,
    opts: &QuantizeOptions,
) -> Result<RqVae, RqVaeError> {
    let valid = model.valid();
    let mut residual = valid.encode(batch);
    for level in 0..model.levels() {
        let host = read_f32(residual.clone())?;
        let centroids = kmeans(
            &host,
            opts.latent_dim,
            opts.codebook_size,
            opts.kmeans_iters,
            opts.seed.wrapping_add(level as u64),
        );
        let device = residual.device();
        let cb = Tensor::<2>::from_data(
            TensorData::new(centroids, [opts.codebook_size, opts.latent_dim]),
            &device,
        );
        let (_, e) = crate::rqvae::quantizer::nearest(residual.clone(), cb.clone());
        residual = residual - e;
        model = set_codebook(model, level, cb);
    }
    Ok(model)
}

/// Replaces codebook `level` with `value` (`[codes, dim]`), keeping its parameter id so the
/// optimiser state stays attached.
pub(super) fn set_codebook(mut model: RqVae, level: usize, value: Tensor<2>) -> RqVae {
    let param = model.codebooks[level].clone();
    let device = param.val().device();
    let value = value.to_device(&device);
    let value = if device.is_autodiff() {
        value.autodiff().require_grad()
    } else {
        value
    };
    model.codebooks[level] = param.map(|_| value);
    model
}
