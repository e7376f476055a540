//! The RQ-VAE training loop over recorded and replayed steps ([`super::rqvae_graph`]): segments
//! end where dead codes are restarted, statistics are read between steps.

use rand::rngs::StdRng;

use super::device_optim::DeviceOptimizer;
use super::graph_capture::{GraphMode, NO_GRAPH_SUPPORT};
use super::rqvae_graph::{GraphTrainer, StepOutputs};
use super::rqvae_loop::{BatchOrder, Flow, RqVaeError, RqVaeEvent, Run, step_stats};
use super::rqvae_restart::{reseeded, used_from_counts};
use crate::rqvae::RqVae;
use tiger_core::ids::QuantizeStats;

/// Longest segment when no restart ends one sooner.
const MAX_SEGMENT: usize = 1000;

/// Largest batch schedule of a segment (`steps × batch` indices of 8 bytes).
const MAX_SCHEDULE_BYTES: usize = 64 << 20;

/// Trains `model`'s weights (k-means initialised or not) by replayed steps. Returns the
/// model (without autodiff) and the last statistics.
pub(super) fn run(
    run: &Run,
    model: &RqVae,
    order: &mut BatchOrder,
    rng: &mut StdRng,
    observe: &mut dyn FnMut(RqVaeEvent) -> Flow,
) -> Result<(RqVae, QuantizeStats), RqVaeError> {
    let opts = run.opts;
    let Some(data) = run.data.chunks().first().cloned() else {
        return Err(RqVaeError::Options("the catalogue is empty".into()));
    };
    let optim = DeviceOptimizer::new(opts.optimizer, opts.lr);
    let mut trainer = GraphTrainer::new(model, data, run.batch, opts.codebook_size, optim);
    let restart = opts.dead_code_restart;
    let restart_until = opts.steps * 9 / 10;
    let mut last_stats = QuantizeStats::default();
    let mut step = 0;
    let mut reported: Option<String> = None;
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
        for _ in step..end {
            rows.extend_from_slice(order.next(rng));
        }
        trainer.begin_segment(&rows);
        for s in step + 1..=end {
            if s == 1 {
                observe(RqVaeEvent::Phase(tiger_kernels::device::first_steps_phase(
                    run.device,
                )));
            }
            let out = trainer.step().map_err(RqVaeError::Device)?;
            let phase = training_phase(trainer.mode());
            if s >= 2 && reported.as_ref() != Some(&phase) {
                observe(RqVaeEvent::Phase(phase.clone()));
                reported = Some(phase);
            }
            if Some(s) == next_restart {
                restart_dead_codes(&mut trainer, &out, run, rng)?;
                trainer.reset_usage();
            }
            if s % opts.log_every == 0 || s == opts.steps {
                last_stats = stats(&trainer, &out, run, s)?;
                if observe(RqVaeEvent::Stats(last_stats.clone())) == Flow::Cancel {
                    return Err(RqVaeError::Cancelled);
                }
            }
            if observe(RqVaeEvent::Step {
                step: s,
                steps: opts.steps,
            }) == Flow::Cancel
            {
                return Err(RqVaeError::Cancelled);
            }
        }
        step = end;
    }
    Ok((trainer.model(), last_stats))
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

/// Re-seeds the codes no step since the last restart chose, from the last step's residuals (as
/// the tensor-API loop does from a window of codes).
fn restart_dead_codes(
    trainer: &mut GraphTrainer,
    out: &StepOutputs,
    run: &Run,
    rng: &mut StdRng,
) -> Result<(), RqVaeError> {
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
