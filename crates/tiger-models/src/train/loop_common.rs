//! Pieces both training loops (TIGER and SASRec) share: starting or resuming a run, averaging the
//! losses kept on the device, recording a validation (best and last checkpoints), and saving on
//! cancel.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use super::checkpoint::{self, CheckpointError};
use super::tiger_loop::{TrainError, TrainEvent};
use tiger_core::eval::Metrics;
use tiger_core::run::tiger_config::TrainState;

/// Creates the run folder, then resumes from `run/last` when asked and present; otherwise keeps the
/// fresh `model`/`optim` and calls `write_config` once.
pub fn start<M: Module>(
    run: &Path,
    resume: bool,
    model: M,
    new_optim: impl Fn() -> ModuleOptimizer,
    observe: &mut dyn FnMut(TrainEvent) -> super::rqvae_loop::Flow,
    write_config: impl FnOnce() -> Result<(), CheckpointError>,
) -> Result<(M, ModuleOptimizer, TrainState), TrainError> {
    std::fs::create_dir_all(run).map_err(|e| CheckpointError::Io {
        path: run.into(),
        message: e.to_string(),
    })?;
    let resumed = if resume {
        checkpoint::load_last::<_, TrainState>(run, model.clone(), new_optim())?
    } else {
        None
    };
    match resumed {
        Some((m, o, state)) => {
            observe(TrainEvent::Phase(format!(
                "resuming from step {}",
                state.step
            )));
            Ok((m, o, state))
        }
        None => {
            write_config()?;
            Ok((model, new_optim(), TrainState::default()))
        }
    }
}

/// Mean of the per-step losses kept on the device since the last report (one read-back), recorded
/// in `state`; a NaN or infinite mean is a divergence at `step`.
pub fn report_loss(
    pending: &mut Vec<Tensor<1>>,
    state: &mut TrainState,
    step: usize,
) -> Result<f64, TrainError> {
    let n = pending.len().max(1) as f64;
    let mean = Tensor::cat(std::mem::take(pending), 0)
        .sum()
        .into_scalar::<f32>() as f64
        / n;
    if !mean.is_finite() {
        return Err(TrainError::Diverged { step, loss: mean });
    }
    state.losses.push((step, mean));
    Ok(mean)
}

/// Records validation `metrics` at `step`: keeps `valid_model` as `best` when its NDCG@10 beats the
/// best so far, then saves the resumable `last` checkpoint. Returns whether it was the best.
pub fn record_validation<M: Module, V: Module>(
    run: &Path,
    model: &M,
    optim: &ModuleOptimizer,
    valid_model: &V,
    state: &mut TrainState,
    step: usize,
    metrics: &Metrics,
) -> Result<bool, TrainError> {
    let ndcg = metrics.ndcg_at(10).unwrap_or(0.0);
    let best = state.best.is_none_or(|(_, b)| ndcg > b);
    if best {
        state.best = Some((step, ndcg));
        checkpoint::save_best(run, valid_model, step)?;
    }
    state.valid.push((step, metrics.clone()));
    state.step = step;
    checkpoint::save_last(run, model, optim, state)?;
    write_curves(run, state)?;
    Ok(best)
}

/// Writes the run's curves (`curves.json`: losses, validations, steps and time) atomically.
pub fn write_curves(run: &Path, state: &TrainState) -> Result<(), TrainError> {
    let path = run.join(tiger_core::run::files::CURVES);
    tiger_core::run::write_json_compact(&path, state).map_err(|e| {
        TrainError::Checkpoint(CheckpointError::Io {
            path,
            message: e.to_string(),
        })
    })
}

/// Saves `last` at `step` (training time included) and reports the cancellation.
pub fn cancel<M: Module>(
    run: &Path,
    model: &M,
    optim: &ModuleOptimizer,
    mut state: TrainState,
    step: usize,
    clock: Instant,
) -> Result<TrainState, TrainError> {
    state.train_seconds += clock.elapsed().as_secs_f64();
    state.step = step;
    checkpoint::save_last(run, model, optim, &state)?;
    write_curves(run, &state)?;
    Err(TrainError::Cancelled(step))
}
