//! Pieces both training loops (TIGER and SASRec) share: starting or resuming a run, averaging the
//! losses summed on the device, recording a validation (best and last checkpoints), and saving on
//! cancel.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use super::checkpoint::{self, CheckpointError};
use super::tiger_loop::{TrainError, TrainEvent};
use tiger_core::eval::Metrics;
use tiger_core::options::stop::StopOptions;
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

/// Most steps a training loop runs before it reads its loss back from the device. Each read waits
/// for the steps queued before it, so the host never runs further ahead of the device than this,
/// and a loss that is no longer finite stops the run within this many steps, whatever
/// `--log-every` says.
pub const LOSS_READ_EVERY: usize = 50;

/// The training loss between two reports: summed on the device into one tensor, read back (and
/// checked) every [`LOSS_READ_EVERY`] steps and at each report, and averaged on the host.
#[derive(Default)]
pub struct LossMeter {
    on_device: Option<Tensor<1>>,
    steps_on_device: usize,
    read_sum: f64,
    read_steps: usize,
    reads: usize,
}

impl LossMeter {
    /// Adds step `step`'s loss (`[1]`, detached); reads the sum back when it holds
    /// [`LOSS_READ_EVERY`] steps. A sum that is not finite is a divergence at `step`.
    pub fn add(&mut self, loss: Tensor<1>, step: usize) -> Result<(), TrainError> {
        self.on_device = Some(match self.on_device.take() {
            Some(sum) => sum + loss,
            None => loss,
        });
        self.steps_on_device += 1;
        if self.steps_on_device >= LOSS_READ_EVERY {
            self.read(step)?;
        }
        Ok(())
    }

    /// Mean loss of the steps since the last report, recorded in `state` at `step`.
    pub fn report(&mut self, state: &mut TrainState, step: usize) -> Result<f64, TrainError> {
        self.read(step)?;
        let mean = self.read_sum / self.read_steps.max(1) as f64;
        self.read_sum = 0.0;
        self.read_steps = 0;
        state.losses.push((step, mean));
        Ok(mean)
    }

    /// How many times the sum was read back from the device.
    pub fn reads(&self) -> usize {
        self.reads
    }

    fn read(&mut self, step: usize) -> Result<(), TrainError> {
        let Some(sum) = self.on_device.take() else {
            return Ok(());
        };
        let steps = std::mem::take(&mut self.steps_on_device);
        let sum = sum.into_scalar::<f32>() as f64;
        self.reads += 1;
        if !sum.is_finite() {
            return Err(TrainError::Diverged {
                step,
                loss: sum / steps.max(1) as f64,
            });
        }
        self.read_sum += sum;
        self.read_steps += steps;
        Ok(())
    }
}

/// When a training loop ends before its last step ([`StopOptions`]): once `patience` validations in
/// a row have not beaten the best NDCG@10 (0 = never), or once `max_minutes` of this run have
/// passed (0 = no limit; the loop then validates at the step it stops, so no training goes
/// unvalidated).
pub struct StopRule {
    patience: usize,
    deadline: Option<Instant>,
}

impl StopRule {
    /// The rule for `opts`, its clock starting now.
    pub fn new(opts: &StopOptions) -> Self {
        let deadline = (opts.max_minutes > 0.0)
            .then(|| Instant::now() + std::time::Duration::from_secs_f64(opts.max_minutes * 60.0));
        Self {
            patience: opts.patience,
            deadline,
        }
    }

    /// Whether the time budget is spent.
    pub fn out_of_time(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Why the run should end after the validation just recorded in `state`, if it should.
    pub fn reason(&self, state: &TrainState) -> Option<String> {
        if self.patience > 0
            && let Some((best_step, best)) = state.best
        {
            let since = state.valid.iter().filter(|(s, _)| *s > best_step).count();
            if since >= self.patience {
                return Some(format!(
                    "validation NDCG@10 has not beaten {best:.4} (step {best_step}) in {since} \
                     validations (--patience {})",
                    self.patience
                ));
            }
        }
        if self.out_of_time() {
            return Some("the time budget (--max-minutes) is spent".into());
        }
        None
    }
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
    state.valid_seconds.push(state.train_seconds);
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

/// Ends a run early at `step` (just validated and saved) for `why`: records the reason in the run's
/// curves and state and tells the observer.
pub fn stop_early(
    run: &Path,
    mut state: TrainState,
    step: usize,
    why: String,
    observe: &mut dyn FnMut(TrainEvent) -> super::rqvae_loop::Flow,
) -> Result<TrainState, TrainError> {
    observe(TrainEvent::Phase(format!(
        "stopped early at step {step}: {why}"
    )));
    state.step = step;
    state.stopped_early = Some(why);
    write_curves(run, &state)?;
    Ok(state)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn loss(v: f32) -> Tensor<1> {
        Tensor::<1>::from_floats([v], &Device::flex())
    }

    #[test]
    fn the_meter_reads_back_every_fifty_steps_and_averages_every_step_since_the_last_report() {
        let mut meter = LossMeter::default();
        let mut state = TrainState::default();
        // 120 steps between two reports: read at steps 50 and 100, then at the report.
        for step in 1..=120 {
            meter.add(loss(step as f32), step).unwrap();
        }
        assert_eq!(meter.reads(), 2);
        let mean = meter.report(&mut state, 120).unwrap();
        assert_eq!(meter.reads(), 3);
        assert!((mean - 60.5).abs() < 1e-6, "{mean}");
        // The next report averages only its own steps.
        for step in 121..=123 {
            meter.add(loss(1.0), step).unwrap();
        }
        assert!((meter.report(&mut state, 123).unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(state.losses.len(), 2);
        assert_eq!(state.losses[1].0, 123);
    }

    #[test]
    fn a_loss_that_is_not_finite_stops_the_run_at_the_next_read_not_at_the_report() {
        let mut meter = LossMeter::default();
        let mut stopped = None;
        for step in 1..=1000 {
            let v = if step == 7 { f32::NAN } else { 1.0 };
            if let Err(TrainError::Diverged { step, .. }) = meter.add(loss(v), step) {
                stopped = Some(step);
                break;
            }
        }
        assert_eq!(stopped, Some(LOSS_READ_EVERY));
    }
}
