//! The RQ-VAE training loop over recorded and replayed steps ([`super::rqvae_graph`]): segments
//! end where dead codes are restarted, statistics are read between steps, and a stop after a step
//! can leave the state to go on from.

use std::path::Path;

use super::device_optim::DeviceOptimizer;
use super::graph_capture::{GraphMode, NO_GRAPH_SUPPORT};
use super::rqvae_graph::{GraphTrainer, StepOutputs};
use super::rqvae_loop::{BatchOrder, Flow, RqVaeError, RqVaeEvent, Run, seeded, step_stats};
use super::rqvae_restart::{reseeded, used_from_counts};
use crate::rqvae::RqVae;
use tiger_core::embeddings::Embeddings;
use tiger_core::ids::QuantizeStats;
use tiger_core::run::quantize_resume::{self, ResumePoint, TrainerState};

/// Salt of the generator a dead-code restart draws from.
const RESTART_SALT: u64 = 0x2e57_a127;

/// Where a stopped run saves its state, and the embeddings it was given (recorded with it).
#[derive(Clone, Copy)]
pub(super) struct SaveTo<'a> {
    /// The state folder.
    pub dir: &'a Path,
    /// The run's embeddings.
    pub embeddings: &'a Embeddings,
}

/// Longest segment when no restart ends one sooner.
const MAX_SEGMENT: usize = 1000;

/// Largest batch schedule of a segment (`steps × batch` indices of 8 bytes).
const MAX_SCHEDULE_BYTES: usize = 64 << 20;

/// Trains `model`'s weights (k-means initialised or not) by replayed steps, from `start` when
/// given (a saved state, which replaces the weights). Returns the model (without autodiff), the
/// last statistics and the statistics of every log interval. When the observer stops the run after
/// a step and `save` is given, the state is written there first ([`RqVaeError::Interrupted`]).
pub(super) fn run(
    run: &Run,
    model: &RqVae,
    order: &mut BatchOrder,
    start: Option<(ResumePoint, TrainerState)>,
    save: Option<SaveTo>,
    observe: &mut dyn FnMut(RqVaeEvent) -> Flow,
) -> Result<(RqVae, QuantizeStats, Vec<QuantizeStats>), RqVaeError> {
    let opts = run.opts;
    if run.data.rows() == 0 {
        return Err(RqVaeError::Options("the catalogue is empty".into()));
    }
    let optim = DeviceOptimizer::new(opts.optimizer, opts.lr);
    let mut trainer = GraphTrainer::new(
        model,
        run.data.clone(),
        run.batch,
        opts.codebook_size,
        optim,
    );
    let restart = opts.dead_code_restart;
    let restart_until = opts.steps * 9 / 10;
    let mut last_stats = QuantizeStats::default();
    let mut history = Vec::new();
    let mut step = 0;
    if let Some((point, state)) = start {
        trainer.restore(&state).map_err(RqVaeError::Resume)?;
        step = point.step;
        last_stats = point.history.last().cloned().unwrap_or_default();
        history = point.history;
        observe(RqVaeEvent::Phase(format!("resuming from step {step}")));
    }
    let stop = |trainer: &GraphTrainer, history: &[QuantizeStats], step: usize| {
        stopped(trainer, history, step, run, save)
    };
    let mut reported: Option<String> = None;
    let first = step + 1;
    while step < opts.steps {
        let next_restart = if restart > 0 {
            Some((step / restart + 1) * restart).filter(|&s| s <= restart_until)
        } else {
            None
        };
        let longest = (MAX_SCHEDULE_BYTES / (8 * run.batch.max(1))).clamp(1, MAX_SEGMENT);
        let end = next_restart
            .unwrap_or(opts.steps)
            .min(step + longest)
            .min(opts.steps);
        let mut rows = Vec::with_capacity((end - step) * run.batch);
        for s in step + 1..=end {
            rows.extend_from_slice(order.rows(s));
        }
        trainer.begin_segment(&rows);
        for s in step + 1..=end {
            if s == first {
                observe(RqVaeEvent::Phase(tiger_kernels::device::first_steps_phase(
                    run.device,
                )));
            }
            let out = trainer.step().map_err(RqVaeError::Device)?;
            let phase = training_phase(trainer.mode());
            if s > first && reported.as_ref() != Some(&phase) {
                observe(RqVaeEvent::Phase(phase.clone()));
                reported = Some(phase);
            }
            if Some(s) == next_restart {
                restart_dead_codes(&mut trainer, &out, run, s)?;
                trainer.reset_usage();
            }
            if s % opts.log_every == 0 || s == opts.steps {
                last_stats = stats(&trainer, &out, run, s)?;
                history.push(last_stats.clone());
                if observe(RqVaeEvent::Stats(last_stats.clone())) == Flow::Cancel {
                    return Err(stop(&trainer, &history, s));
                }
            }
            if observe(RqVaeEvent::Step {
                step: s,
                steps: opts.steps,
            }) == Flow::Cancel
            {
                return Err(stop(&trainer, &history, s));
            }
        }
        step = end;
    }
    Ok((trainer.model(), last_stats, history))
}

/// The error that ends a run stopped after `step`: with somewhere to save, the state is written
/// there ([`RqVaeError::Interrupted`]); otherwise [`RqVaeError::Cancelled`].
fn stopped(
    trainer: &GraphTrainer,
    history: &[QuantizeStats],
    step: usize,
    run: &Run,
    save: Option<SaveTo>,
) -> RqVaeError {
    let Some(save) = save else {
        return RqVaeError::Cancelled;
    };
    let state = match trainer.snapshot() {
        Ok(state) => state,
        Err(e) => return RqVaeError::Device(e),
    };
    let point = ResumePoint {
        step,
        options: run.opts.clone(),
        rows: save.embeddings.rows,
        dim: save.embeddings.dim,
        fingerprint: tiger_core::embeddings::map_file::embeddings_hash(save.embeddings),
        history: history.to_vec(),
    };
    match quantize_resume::write(save.dir, &point, &state) {
        Ok(()) => RqVaeError::Interrupted {
            step,
            dir: save.dir.to_path_buf(),
        },
        Err(e) => RqVaeError::Resume(format!(
            "{}: the state could not be saved: {e}",
            save.dir.display()
        )),
    }
}

/// The phase shown while training: whether steps are replayed, and why not where that is news.
pub fn training_phase(mode: &GraphMode) -> String {
    match mode {
        GraphMode::On => "training (steps replayed from a recorded device graph)".into(),
        GraphMode::Off(why) if why.starts_with(NO_GRAPH_SUPPORT) => "training".into(),
        GraphMode::Off(why) => format!("training step by step ({why})"),
    }
}

/// Losses of `out` and codebook statistics of the whole catalogue after step `step`.
fn stats(
    trainer: &GraphTrainer,
    out: &StepOutputs,
    run: &Run,
    step: usize,
) -> Result<QuantizeStats, RqVaeError> {
    step_stats(&trainer.model(), run, out.recon.clone(), &out.quant, step)
}

/// Re-seeds the codes no step since the last restart chose, from the residuals of step `step` (the
/// last), drawing from that step's own generator.
fn restart_dead_codes(
    trainer: &mut GraphTrainer,
    out: &StepOutputs,
    run: &Run,
    step: usize,
) -> Result<(), RqVaeError> {
    let rng = &mut seeded(run.opts.seed, RESTART_SALT, step);
    let used = used_from_counts(
        &trainer.usage().map_err(RqVaeError::Device)?,
        run.opts.codebook_size,
    );
    let codebooks: Vec<_> = trainer.model().codebooks.iter().map(|c| c.val()).collect();
    let fresh = reseeded(&used, &out.residuals, &codebooks, run.opts.latent_dim, rng)?;
    drop(codebooks);
    for (level, cb) in fresh {
        trainer
            .set_codebook(level, cb)
            .map_err(RqVaeError::Device)?;
    }
    Ok(())
}
