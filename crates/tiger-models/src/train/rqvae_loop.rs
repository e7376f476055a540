//! The RQ-VAE training loop: k-means init, optimiser steps, dead-code restarts and periodic
//! catalogue statistics, reported to an observer that can also cancel the run.

use burn::optim::{AdaGradConfig, AdamConfig, GradientsParams};
use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::rqvae::{RqVae, RqVaeConfig, Standardizer, kmeans::kmeans};
use crate::train::device_rows::DeviceRows;
use tiger_core::config::{OptimizerChoice, QuantizeOptions};
use tiger_core::embeddings::Embeddings;
use tiger_core::ids::{QuantizeStats, catalogue_stats};

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

/// A trained model with what is needed to assign IDs.
pub struct TrainedRqVae {
    /// The model (without autodiff).
    pub model: RqVae,
    /// Its shape.
    pub config: RqVaeConfig,
    /// Input standardisation (identity when disabled).
    pub standardizer: Standardizer,
    /// Final statistics.
    pub stats: QuantizeStats,
    /// Statistics at every log interval (the run's curves).
    pub history: Vec<QuantizeStats>,
    /// Final codes of every item, `[items, levels]`.
    pub codes: Vec<u32>,
}

/// Reads a tensor back as `Vec<f32>`.
pub(super) fn read_f32<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>, RqVaeError> {
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

/// Trains an RQ-VAE on `embeddings` on `device` (without autodiff; the loop adds it), reporting to
/// `observe`, which may cancel. Deterministic for a given seed on a given device.
pub fn train(
    embeddings: &Embeddings,
    opts: &QuantizeOptions,
    device: &Device,
    observe: &mut dyn FnMut(RqVaeEvent) -> Flow,
) -> Result<TrainedRqVae, RqVaeError> {
    let mut history = Vec::new();
    let mut recording = |e: RqVaeEvent| {
        if let RqVaeEvent::Stats(s) = &e {
            history.push(s.clone());
        }
        observe(e)
    };
    let trained = train_recording(embeddings, opts, device, &mut recording)?;
    Ok(TrainedRqVae { history, ..trained })
}

/// [`train`] without the curves (left empty for the caller to fill).
fn train_recording(
    embeddings: &Embeddings,
    opts: &QuantizeOptions,
    device: &Device,
    observe: &mut dyn FnMut(RqVaeEvent) -> Flow,
) -> Result<TrainedRqVae, RqVaeError> {
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
    let train_device = device.clone().autodiff();
    train_device.seed(opts.seed);
    let mut model = config.init(&train_device);
    let data = DeviceRows::upload(&x_host, n, embeddings.dim, device);
    drop(x_host);
    let batch = opts.batch_size.min(n);
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut order = BatchOrder::new(n, batch, &mut rng);

    if opts.kmeans_init {
        if observe(RqVaeEvent::Phase("k-means init of the codebooks".into())) == Flow::Cancel {
            return Err(RqVaeError::Cancelled);
        }
        let first = data.gather(order.next(&mut rng), device);
        model = kmeans_init(model, first, opts)?;
    }

    // A catalogue in one buffer: the step is recorded once per segment and replayed
    // (rqvae_graph). A catalogue in several buffers steps through the tensor API.
    let graphed = data.chunks().len() == 1;
    let run = Run {
        data: &data,
        opts,
        device,
        batch,
    };
    let (model, last_stats) = if graphed {
        super::rqvae_graph_loop::run(&run, &model, &mut order, &mut rng, observe)?
    } else {
        run_eager(&run, model, &mut order, &mut rng, observe)?
    };
    let codes = assign_codes(&model, &data)?;
    Ok(TrainedRqVae {
        model,
        config,
        standardizer,
        stats: last_stats,
        history: Vec::new(),
        codes,
    })
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

/// Batches in a shuffled order, reshuffled whenever fewer than a batch of rows is left.
pub(super) struct BatchOrder {
    order: Vec<usize>,
    cursor: usize,
    batch: usize,
}

impl BatchOrder {
    /// A shuffled order of `n` rows taken `batch` at a time.
    pub fn new(n: usize, batch: usize, rng: &mut StdRng) -> Self {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(rng);
        Self {
            order,
            cursor: 0,
            batch,
        }
    }

    /// The rows of the next batch.
    pub fn next(&mut self, rng: &mut StdRng) -> &[usize] {
        if self.cursor + self.batch > self.order.len() {
            self.order.shuffle(rng);
            self.cursor = 0;
        }
        let start = self.cursor;
        self.cursor += self.batch;
        &self.order[start..self.cursor]
    }
}

/// The training steps through the tensor API with burn's optimisers. Returns the model (without
/// autodiff) and the last statistics.
fn run_eager(
    run: &Run,
    mut model: RqVae,
    order: &mut BatchOrder,
    rng: &mut StdRng,
    observe: &mut dyn FnMut(RqVaeEvent) -> Flow,
) -> Result<(RqVae, QuantizeStats), RqVaeError> {
    let opts = run.opts;
    let mut optim = match opts.optimizer {
        OptimizerChoice::Adam => AdamConfig::new().init(),
        OptimizerChoice::Adagrad => AdaGradConfig::new().init(),
    };
    let mut window: Vec<Tensor<2, Int>> = Vec::new();
    let mut last_stats = QuantizeStats::default();
    let restart_until = opts.steps * 9 / 10;
    for step in 1..=opts.steps {
        if step == 1 {
            observe(RqVaeEvent::Phase(tiger_kernels::device::first_steps_phase(
                run.device,
            )));
        } else if step == 2 {
            observe(RqVaeEvent::Phase("training".into()));
        }
        let x = run.data.gather(order.next(rng), run.device).autodiff();
        let out = model.forward(x);
        let quant_total = out
            .quant_losses
            .iter()
            .cloned()
            .reduce(|a, b| a + b)
            .unwrap_or_else(|| out.recon_loss.zeros_like());
        let loss = out.recon_loss.clone() + quant_total;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(opts.lr, model, grads);
        if opts.dead_code_restart > 0 {
            window.push(out.codes.clone().without_autodiff());
            if step % opts.dead_code_restart == 0 && step <= restart_until {
                let codes = read_codes(Tensor::cat(std::mem::take(&mut window), 0))?;
                let residuals: Vec<Tensor<2>> = out
                    .residuals
                    .iter()
                    .map(|r| r.clone().without_autodiff())
                    .collect();
                model =
                    super::rqvae_restart::restart_dead_codes(model, &codes, &residuals, opts, rng)?;
            }
        }
        let report = step % opts.log_every == 0 || step == opts.steps;
        if report {
            let quant: Vec<Tensor<1>> = out
                .quant_losses
                .into_iter()
                .map(|l| l.without_autodiff())
                .collect();
            let stats = step_stats(
                &model.valid(),
                run,
                out.recon_loss.without_autodiff(),
                &quant,
                step,
            )?;
            last_stats = stats.clone();
            if observe(RqVaeEvent::Stats(stats)) == Flow::Cancel {
                return Err(RqVaeError::Cancelled);
            }
        }
        if observe(RqVaeEvent::Step {
            step,
            steps: opts.steps,
        }) == Flow::Cancel
        {
            return Err(RqVaeError::Cancelled);
        }
    }
    Ok((model.valid(), last_stats))
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
