//! Training loop of the generative recommender: teacher-forced cross-entropy on the target ID's
//! tokens, AdamW with warm-up and inverse-square-root decay, validation Recall/NDCG by beam search
//! every N steps, best and last checkpoints, and resume.

use std::path::Path;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;

use burn::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use tiger_kernels::adamw::FusedAdamW;

use super::checkpoint::{self, CheckpointError};
use super::loop_common;
use super::rqvae_loop::Flow;
use crate::decode::BeamConfig;
use crate::tiger::batch::train_batch;
use crate::tiger::evaluate::evaluate;
use crate::tiger::{Tiger, TigerConfig};
use tiger_core::data::samples::{Part, Sample, samples};
use tiger_core::eval::Metrics;
use tiger_core::ids::Vocab;
use tiger_core::options::tiger::{TigerOptimizer, TigerOptions};
use tiger_core::rec_data::RecData;
use tiger_core::run::tiger_config::{TigerRunConfig, TrainState};

/// Cut-offs reported everywhere.
pub const KS: [usize; 2] = [5, 10];

/// What the loop reports.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// A stage began.
    Phase(String),
    /// Progress.
    Step {
        /// Steps done.
        step: usize,
        /// Steps in total.
        steps: usize,
    },
    /// Mean training loss since the last report.
    Loss {
        /// Step.
        step: usize,
        /// Mean cross-entropy per token.
        loss: f64,
        /// Learning rate at this step.
        lr: f64,
    },
    /// Validation metrics.
    Valid {
        /// Step.
        step: usize,
        /// Recall/NDCG on the validation targets.
        metrics: Metrics,
        /// Whether this is the best so far (saved as `best`).
        best: bool,
        /// Seconds of training (validation excluded) up to this validation, resumed runs included.
        seconds: f64,
    },
}

/// Errors of training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Invalid options.
    #[error("invalid options: {0}")]
    Options(String),
    /// Cancelled; the last checkpoint was saved so the run can resume.
    #[error("cancelled at step {0} (checkpoint saved; resume with --resume)")]
    Cancelled(usize),
    /// Device read-back failed.
    #[error("device read-back failed: {0}")]
    Device(String),
    /// Loss became NaN/inf.
    #[error("training diverged at step {step} (loss {loss}); lower --lr")]
    Diverged {
        /// Step.
        step: usize,
        /// Loss.
        loss: f64,
    },
    /// Checkpoint I/O.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Loading a checkpoint failed.
    #[error("{path}: cannot load checkpoint: {message}")]
    Load {
        /// Checkpoint path.
        path: std::path::PathBuf,
        /// Why.
        message: String,
    },
}

/// The model shape the options describe.
pub fn model_config(opts: &TigerOptions, vocab_size: usize) -> TigerConfig {
    TigerConfig::new(vocab_size)
        .with_d_model(opts.d_model)
        .with_heads(opts.heads)
        .with_d_head(opts.d_head)
        .with_d_ff(opts.d_ff)
        .with_encoder_layers(opts.encoder_layers)
        .with_decoder_layers(opts.decoder_layers)
        .with_dropout(opts.dropout)
}

/// The options' optimiser, each parameter's gradient clipped to norm 1: AdamW with the options'
/// weight decay (burn's arithmetic and state, one kernel per parameter on the GPU: [`FusedAdamW`]),
/// or burn's Adafactor.
pub fn new_optim(opts: &TigerOptions) -> burn::optim::ModuleOptimizer {
    match opts.optimizer {
        TigerOptimizer::Adamw => {
            burn::optim::ModuleOptimizer::from(FusedAdamW::new(opts.weight_decay as f32, Some(1.0)))
        }
        // burn's Adafactor with the step size given from outside (the schedule of `lr_at`),
        // scaled by each weight's RMS as in the paper's optimiser; gradients clipped as AdamW's.
        TigerOptimizer::Adafactor => burn::optim::AdafactorConfig::new()
            .with_relative_step(false)
            .with_scale_parameter(true)
            .with_weight_decay(opts.weight_decay as f32)
            .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(1.0)))
            .init(),
    }
}

/// Refuses to resume `run` with another optimiser than it was trained with (the saved state is
/// that optimiser's) or on other IDs: the options as the user reads them. A run without a
/// readable config starts fresh, as before.
fn check_resumable(run: &Path, opts: &TigerOptions) -> Result<(), TrainError> {
    let Ok(text) = std::fs::read_to_string(run.join("config.json")) else {
        return Ok(());
    };
    let Ok(saved) = tiger_core::run::tiger_config::parse_tiger_config(&text) else {
        return Ok(());
    };
    let name = |o: TigerOptimizer| match o {
        TigerOptimizer::Adamw => "adamw",
        TigerOptimizer::Adafactor => "adafactor",
    };
    if saved.options.optimizer != opts.optimizer {
        return Err(TrainError::Options(format!(
            "{} was trained with --optimizer {}; resume it with the same optimiser",
            run.display(),
            name(saved.options.optimizer)
        )));
    }
    if saved.options.random_ids != opts.random_ids {
        return Err(TrainError::Options(format!(
            "{} was trained {} --random-ids; resume it the same way",
            run.display(),
            if saved.options.random_ids {
                "with"
            } else {
                "without"
            }
        )));
    }
    Ok(())
}

/// Deterministic data order: the samples of step `s` depend only on the seed and `s`.
struct Order {
    n: usize,
    seed: u64,
    epoch: usize,
    perm: Vec<usize>,
}

impl Order {
    fn new(n: usize, seed: u64) -> Self {
        let mut o = Self {
            n,
            seed,
            epoch: usize::MAX,
            perm: Vec::new(),
        };
        o.set_epoch(0);
        o
    }
    fn set_epoch(&mut self, epoch: usize) {
        if self.epoch != epoch {
            let mut rng = StdRng::seed_from_u64(
                self.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            self.perm = (0..self.n).collect();
            self.perm.shuffle(&mut rng);
            self.epoch = epoch;
        }
    }
    fn batch(&mut self, step: usize, size: usize) -> Vec<usize> {
        (0..size)
            .map(|i| {
                let g = (step - 1) * size + i;
                self.set_epoch(g / self.n);
                self.perm[g % self.n]
            })
            .collect()
    }
}

/// Trains (or resumes) a TIGER model in `run`, reporting to `observe`.
pub fn train(
    data: &RecData,
    opts: &TigerOptions,
    run: &Path,
    device: &Device,
    resume: bool,
    observe: &mut dyn FnMut(TrainEvent) -> Flow,
) -> Result<TrainState, TrainError> {
    opts.validate().map_err(TrainError::Options)?;
    let vocab = Vocab::for_ids(&data.ids, data.ids.codebook_size(), opts.user_buckets);
    tiger_core::run::tiger_config::check_token_table(
        vocab.size(),
        opts.d_model,
        "lower --d-model or --codebook-size",
    )
    .map_err(TrainError::Options)?;
    let config = model_config(opts, vocab.size());
    let train_samples = samples(&data.split, Part::Train, opts.max_history);
    let valid_samples = samples(&data.split, Part::Valid, opts.max_history);
    if train_samples.is_empty() {
        return Err(TrainError::Options(
            "no training samples: every user has fewer than 4 items".into(),
        ));
    }
    if resume {
        check_resumable(run, opts)?;
    }
    let train_device = device.clone().autodiff();
    train_device.seed(opts.seed);
    let write_config = || {
        let cfg = TigerRunConfig {
            header: tiger_core::run::RunHeader::new(tiger_core::run::RunKind::Tiger, &data.dataset),
            ids_source: data.ids_source.clone(),
            options: opts.clone(),
            vocab: vocab.clone(),
            vocab_size: vocab.size(),
        };
        tiger_core::run::write_json(&run.join("config.json"), &cfg).map_err(|e| {
            CheckpointError::Io {
                path: run.join("config.json"),
                message: e.to_string(),
            }
        })?;
        data.ids
            .write_csv(&run.join("semantic_ids.csv"), &data.item_ids())
            .map_err(|e| CheckpointError::Io {
                path: run.join("semantic_ids.csv"),
                message: e.to_string(),
            })
    };
    let (mut model, mut optim, mut state) = loop_common::start(
        run,
        resume,
        config.init(&train_device),
        || new_optim(opts),
        observe,
        write_config,
    )?;

    let loss_fn = CrossEntropyLossConfig::new()
        .with_smoothing((opts.label_smoothing > 0.0).then_some(opts.label_smoothing as f32))
        .init(&train_device);
    let mut order = Order::new(train_samples.len(), opts.seed);
    let batch_size = opts.batch_size.min(train_samples.len());
    let n_tok = vocab.id_len();
    let mut losses = loop_common::LossMeter::default();
    let mut clock = std::time::Instant::now();
    let beam = BeamConfig {
        width: opts.beam.max(KS[1]),
        constrained: true,
    };
    if state.step < opts.steps {
        observe(TrainEvent::Phase(tiger_kernels::device::first_steps_phase(
            device,
        )));
    }
    let rule = loop_common::StopRule::new(&opts.stop);
    let mut step = state.step;
    while step < opts.steps {
        step += 1;
        let picked: Vec<&Sample> = order
            .batch(step, batch_size)
            .into_iter()
            .map(|i| &train_samples[i])
            .collect();
        let b = train_batch(
            &picked,
            &vocab,
            &data.ids,
            &data.dataset.users,
            &train_device,
        );
        let logits = model.forward(b.encoder.tokens, b.encoder.mask, b.decoder_in);
        let v = logits.dims()[2];
        let loss = loss_fn.forward(
            logits.reshape([batch_size * n_tok, v]),
            b.labels.reshape([batch_size * n_tok]),
        );
        losses.add(loss.clone().detach().without_autodiff(), step)?;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let lr = opts.lr_at(step);
        model = optim.step(lr, model, grads);

        let last = step == opts.steps || rule.out_of_time();
        if step % opts.log_every == 0 || last {
            let mean = losses.report(&mut state, step)?;
            if observe(TrainEvent::Loss {
                step,
                loss: mean,
                lr,
            }) == Flow::Cancel
            {
                return loop_common::cancel(run, &model, &optim, state, step, clock);
            }
        }
        if step % opts.eval_every == 0 || last {
            state.train_seconds += clock.elapsed().as_secs_f64();
            observe(TrainEvent::Phase("validating (beam search)".into()));
            let valid_model = model.valid();
            // Validation can take seconds: the observer is asked between chunks whether to stop
            // (the Step event it sees doubles as a heartbeat).
            let asked = std::cell::RefCell::new(&mut *observe);
            let result = evaluate(
                &valid_model,
                &vocab,
                data,
                &valid_samples,
                beam,
                &KS,
                device,
                &|| {
                    let mut ask = asked.borrow_mut();
                    ask(TrainEvent::Step {
                        step,
                        steps: opts.steps,
                    }) == Flow::Cancel
                },
            );
            let Some(result) = result else {
                return loop_common::cancel(
                    run,
                    &model,
                    &optim,
                    state,
                    step,
                    std::time::Instant::now(),
                );
            };
            let best = loop_common::record_validation(
                run,
                &model,
                &optim,
                &valid_model,
                &mut state,
                step,
                &result.metrics,
            )?;
            clock = std::time::Instant::now();
            if observe(TrainEvent::Valid {
                step,
                metrics: result.metrics,
                best,
                seconds: state.train_seconds,
            }) == Flow::Cancel
            {
                return Err(TrainError::Cancelled(step));
            }
            if let Some(why) = rule.reason(&state).filter(|_| step < opts.steps) {
                return loop_common::stop_early(run, state, step, why, observe);
            }
            observe(TrainEvent::Phase("training".into()));
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

/// Loads a trained TIGER run for inference: its config, the IDs it was trained on, and the best
/// (else last) weights, on `device` without autodiff.
pub fn load_run(run: &Path, device: &Device) -> Result<(TigerRunConfig, Tiger), TrainError> {
    let load_err = |p: &Path, e: String| TrainError::Load {
        path: p.into(),
        message: e,
    };
    let cp = run.join("config.json");
    let text = std::fs::read_to_string(&cp).map_err(|e| load_err(&cp, e.to_string()))?;
    let cfg =
        tiger_core::run::tiger_config::parse_tiger_config(&text).map_err(|e| load_err(&cp, e))?;
    let model =
        checkpoint::load_weights(run, model_config(&cfg.options, cfg.vocab_size).init(device))?;
    Ok((cfg, model))
}
