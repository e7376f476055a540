//! Training and evaluating SASRec on the same split as TIGER: cross-entropy over all catalogue
//! items at every position of a random window of each user's training sequence, AdamW, validation
//! by full ranking every N steps, best/last checkpoints and resume.

use std::path::Path;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::model::{SasRec, SasRecConfig};
use crate::train::checkpoint::{self, CheckpointError};
use crate::train::loop_common;
use crate::train::rqvae_loop::Flow;
use crate::train::tiger_loop::{KS, TrainError, TrainEvent};
use tiger_core::data::Split;
use tiger_core::data::samples::{Part, Sample, samples};
use tiger_core::eval::{Metrics, MetricsAccumulator};
use tiger_core::options::sasrec::SasRecOptions;
use tiger_core::run::sasrec_config::{SasRecRunConfig, parse_sasrec_config};
use tiger_core::run::tiger_config::TrainState;

/// The model shape `opts` describe for a catalogue of `items`.
pub fn model_config(opts: &SasRecOptions, items: usize) -> SasRecConfig {
    SasRecConfig::new(items)
        .with_d_model(opts.d_model)
        .with_blocks(opts.blocks)
        .with_heads(opts.heads)
        .with_max_len(opts.max_len)
        .with_dropout(opts.dropout)
}

/// Left-pads item sequences (indices) to `len` as ids + 1 → `[batch, len]`.
fn padded(seqs: &[&[u32]], len: usize, device: &Device) -> Tensor<2, Int> {
    let mut v = Vec::with_capacity(seqs.len() * len);
    for s in seqs {
        let s = &s[s.len().saturating_sub(len)..];
        v.extend(std::iter::repeat_n(0i64, len - s.len()));
        v.extend(s.iter().map(|&i| i as i64 + 1));
    }
    Tensor::from_data(TensorData::new(v, [seqs.len(), len]), device)
}

/// Ranks the whole catalogue for each sample and scores it. `model` without autodiff.
pub fn evaluate(
    model: &SasRec,
    samples: &[Sample],
    max_len: usize,
    ks: &[usize],
    device: &Device,
) -> Result<Metrics, TrainError> {
    let top = ks.iter().copied().max().unwrap_or(10);
    let mut acc = MetricsAccumulator::new(ks);
    for chunk in samples.chunks(256) {
        let seqs: Vec<&[u32]> = chunk.iter().map(|s| s.history.as_slice()).collect();
        let scores = model.score_last(padded(&seqs, max_len, device));
        let k = top.min(scores.dims()[1]);
        let (_, idx) = scores.topk_with_indices(k, 1);
        let idx: Vec<i64> = idx
            .try_into_vec_as()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        for (q, s) in chunk.iter().enumerate() {
            let ranked: Vec<u32> = idx[q * k..(q + 1) * k].iter().map(|&i| i as u32).collect();
            acc.add_ranking(&ranked, s.target);
        }
    }
    Ok(acc.finish())
}

/// A training batch: for each picked user, a random window of the training sequence ending at a
/// random position (so every item is a target sometimes), inputs and next-item targets.
fn batch(
    split: &Split,
    users: &[usize],
    max_len: usize,
    rng: &mut StdRng,
    device: &Device,
) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let mut inputs = Vec::with_capacity(users.len());
    let mut targets = Vec::with_capacity(users.len());
    for &u in users {
        let train = &split.users[u].train;
        let end = if train.len() > 2 {
            rng.random_range(2..=train.len())
        } else {
            train.len()
        };
        let window = &train[end.saturating_sub(max_len + 1)..end];
        inputs.push(&window[..window.len() - 1]);
        targets.push(&window[1..]);
    }
    (
        padded(&inputs, max_len, device),
        padded(&targets, max_len, device),
    )
}

/// Trains SASRec in `run` on `split` of `dataset`.
pub fn train(
    dataset: &tiger_core::data::Dataset,
    split: &Split,
    opts: &SasRecOptions,
    run: &Path,
    device: &Device,
    resume: bool,
    observe: &mut dyn FnMut(TrainEvent) -> Flow,
) -> Result<TrainState, TrainError> {
    opts.validate().map_err(TrainError::Options)?;
    let items = dataset.items.len();
    // The step's logits score every item at every position: [batch, max_len, items].
    tiger_core::config::check_tensor(
        &format!(
            "--batch-size {} × --max-len {} × {items} items (the logits)",
            opts.batch_size, opts.max_len
        ),
        (opts.batch_size * opts.max_len) as u64 * items as u64,
        "lower --batch-size or --max-len",
    )
    .map_err(TrainError::Options)?;
    let users: Vec<usize> = (0..split.users.len())
        .filter(|&u| split.users[u].train.len() >= 2)
        .collect();
    if users.is_empty() {
        return Err(TrainError::Options("no user has two training items".into()));
    }
    let valid = samples(split, Part::Valid, opts.max_len);
    let train_device = device.clone().autodiff();
    train_device.seed(opts.seed);
    // AdamW in one launch per parameter on the GPU (`adamw`), as TIGER's; no norm clipping.
    let new_optim = || {
        burn::optim::ModuleOptimizer::from(tiger_kernels::adamw::FusedAdamW::new(
            opts.weight_decay as f32,
            None,
        ))
    };
    let write_config = || {
        let cfg = SasRecRunConfig {
            header: tiger_core::run::RunHeader::new(tiger_core::run::RunKind::Sasrec, dataset),
            options: opts.clone(),
            items,
        };
        tiger_core::run::write_json(&run.join("config.json"), &cfg).map_err(|e| {
            CheckpointError::Io {
                path: run.join("config.json"),
                message: e.to_string(),
            }
        })
    };
    let (mut model, mut optim, mut state) = loop_common::start(
        run,
        resume,
        model_config(opts, items).init(&train_device),
        new_optim,
        observe,
        write_config,
    )?;
    let loss_fn = CrossEntropyLossConfig::new()
        .with_pad_tokens(Some(vec![0]))
        .init(&train_device);
    let bs = opts.batch_size.min(users.len());
    let mut losses = loop_common::LossMeter::default();
    let mut clock = std::time::Instant::now();
    observe(TrainEvent::Phase("training SASRec".into()));
    let rule = loop_common::StopRule::new(&opts.stop);
    let mut step = state.step;
    while step < opts.steps {
        step += 1;
        // Per-step RNG so a resumed run draws the same batches.
        let mut rng =
            StdRng::seed_from_u64(opts.seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let picked: Vec<usize> = (0..bs)
            .map(|_| users[rng.random_range(0..users.len())])
            .collect();
        let (x, y) = batch(split, &picked, opts.max_len, &mut rng, &train_device);
        let h = model.forward(x);
        let logits = model.logits(h.reshape([bs * opts.max_len, opts.d_model]));
        let loss = loss_fn.forward(logits, y.reshape([bs * opts.max_len]));
        losses.add(loss.clone().detach().without_autodiff(), step)?;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(opts.lr, model, grads);
        let last = step == opts.steps || rule.out_of_time();
        if step % opts.log_every == 0 || last {
            let mean = losses.report(&mut state, step)?;
            if observe(TrainEvent::Loss {
                step,
                loss: mean,
                lr: opts.lr,
            }) == Flow::Cancel
            {
                return loop_common::cancel(run, &model, &optim, state, step, clock);
            }
        }
        if step % opts.eval_every == 0 || last {
            state.train_seconds += clock.elapsed().as_secs_f64();
            let valid_model = model.valid();
            let metrics = evaluate(&valid_model, &valid, opts.max_len, &KS, device)?;
            let best = loop_common::record_validation(
                run,
                &model,
                &optim,
                &valid_model,
                &mut state,
                step,
                &metrics,
            )?;
            clock = std::time::Instant::now();
            if observe(TrainEvent::Valid {
                step,
                metrics,
                best,
                seconds: state.train_seconds,
            }) == Flow::Cancel
            {
                return Err(TrainError::Cancelled(step));
            }
            if let Some(why) = rule.reason(&state).filter(|_| step < opts.steps) {
                return loop_common::stop_early(run, state, step, why, observe);
            }
        }
        if observe(TrainEvent::Step {
            step,
            steps: opts.steps,
        }) == Flow::Cancel
        {
            return loop_common::cancel(run, &model, &optim, state, step, clock);
        }
    }
    state.step = step;
    Ok(state)
}

/// Loads a SASRec run's config and best (else last) weights on `device`, without autodiff.
pub fn load_run(run: &Path, device: &Device) -> Result<(SasRecRunConfig, SasRec), TrainError> {
    let cp = run.join("config.json");
    let load_err = |e: String| TrainError::Load {
        path: cp.clone(),
        message: e,
    };
    let text = std::fs::read_to_string(&cp).map_err(|e| load_err(e.to_string()))?;
    let cfg = parse_sasrec_config(&text).map_err(load_err)?;
    let model = checkpoint::load_weights(run, model_config(&cfg.options, cfg.items).init(device))?;
    Ok((cfg, model))
}

/// Evaluates the SASRec run in `run` (its best weights) on the test split and writes
/// `test_metrics.json`.
pub fn test_sasrec(
    run: &Path,
    split: &Split,
    items: usize,
    device: &Device,
    device_name: &str,
) -> Result<tiger_core::run::TestRecord, TrainError> {
    let (cfg, model) = load_run(run, device)?;
    let test = samples(split, Part::Test, cfg.options.max_len);
    let metrics = evaluate(&model, &test, cfg.options.max_len, &KS, device)?;
    let record = tiger_core::run::TestRecord {
        split: "test".into(),
        step: crate::train::test_eval::best_step(run),
        model: metrics,
        popularity: tiger_core::eval::popularity::metrics(split, items, Part::Test, &KS),
        beam: None,
        device: device_name.into(),
    };
    crate::train::test_eval::write(run, &record)?;
    Ok(record)
}
