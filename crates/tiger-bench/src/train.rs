//! Training throughput: RQ-VAE, TIGER's model and SASRec, each through the same training
//! loop the app and the CLI use. Steps/s is measured between two loss read-backs (the loops read
//! losses back only every `log_every` steps, so each window ends after the GPU finished its work).

use std::path::Path;
use std::time::Instant;

use super::sampler;
use super::threads::{ThreadClock, Timed, describe};
use super::{BenchResult, DevicePeak, peak_host_mib};
use tiger_core::config::QuantizeOptions;
use tiger_core::embeddings::synthetic::{XorShift, synthetic_embeddings};
use tiger_core::options::tiger::TigerOptions;
use tiger_core::rec_data::RecData;
use tiger_kernels::device::ChosenDevice;
use tiger_models::train::rqvae_loop::{self, Flow, RqVaeEvent};
use tiger_models::train::tiger_loop::{self, TrainError, TrainEvent};

/// Measures RQ-VAE training on `items` synthetic `dim`-wide embeddings with `opts` (its batch,
/// codebooks and optimiser): `warmup` steps, then `steps` timed steps. The loop reads losses and
/// codebook statistics back every `warmup` steps (as the app does every `log_every`).
pub fn rqvae(
    chosen: &ChosenDevice,
    items: usize,
    dim: usize,
    opts: &QuantizeOptions,
    warmup: usize,
    steps: usize,
) -> anyhow::Result<BenchResult> {
    let warmup = warmup.max(1);
    let steps = steps.div_ceil(warmup).max(1) * warmup;
    let emb = synthetic_embeddings(items, dim, 7);
    // Dead-code restarts as `opts` says: `tiger-bench run` turns them off by default (a periodic
    // host-side repair, not part of a training step; the PyTorch reference leaves it out too).
    let opts = QuantizeOptions {
        steps: warmup + steps,
        log_every: warmup,
        ..opts.clone()
    };
    let device = &chosen.device;
    let start = Instant::now();
    let mut first: Option<f64> = None;
    let mut peak = DevicePeak::default();
    let mut clock: Option<ThreadClock> = None;
    let mut timed: Option<Timed> = None;
    let mut profile = sampler::WorkloadProfile::start("rqvae");
    // The last phase names the path the steps took (replayed, or step by step and why).
    let mut path = String::from("training");
    rqvae_loop::train(&emb, &opts, device, &mut |e| {
        // Only where the loop has read losses back anyway: on a fusion backend a memory report
        // drains the queue of recorded operations, which at every step would cut fusion short.
        if matches!(e, RqVaeEvent::Stats(_)) {
            peak.sample(device);
        }
        match e {
            RqVaeEvent::Phase(p) if p.starts_with("training") => path = p,
            RqVaeEvent::Step { step: 1, .. } => {
                first = Some(start.elapsed().as_secs_f64());
                profile.first_step();
            }
            RqVaeEvent::Stats(s) if s.step == warmup => {
                clock = Some(ThreadClock::start());
                profile.timed_start();
            }
            RqVaeEvent::Stats(s) if s.step == opts.steps => {
                timed = clock.as_ref().map(ThreadClock::stop);
                profile.timed_end();
            }
            _ => {}
        }
        Flow::Continue
    })?;
    let Some(timed) = timed else {
        anyhow::bail!(
            "the RQ-VAE loop did not report at steps {warmup} and {}",
            opts.steps
        );
    };
    profile.report()?;
    Ok(steps_result(
        "rqvae",
        chosen,
        steps as f64 / timed.secs,
        first,
        &peak,
        format!(
            "{items} x {dim} -> {:?} -> {}, {} x {} codes, batch {}, {:?}, {steps} timed steps after {warmup}; {path}; {}",
            opts.hidden_dims,
            opts.latent_dim,
            opts.levels,
            opts.codebook_size,
            opts.batch_size,
            opts.optimizer,
            describe(&timed.shares)
        ),
    ))
}

/// Which recommender [`recommender`] trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recommender {
    /// TIGER's T5-style encoder-decoder.
    Tiger,
    /// The SASRec baseline.
    SasRec,
}

/// Measures recommender training on `data` (a real dataset with semantic IDs): `warmup` steps,
/// then `steps` timed steps; the run's checkpoints go to `run`.
pub fn recommender(
    chosen: &ChosenDevice,
    data: &RecData,
    which: Recommender,
    opts: &TigerOptions,
    warmup: usize,
    steps: usize,
    run: &Path,
) -> anyhow::Result<BenchResult> {
    let warmup = warmup.max(1);
    let steps = steps.div_ceil(warmup).max(1) * warmup;
    let total = warmup + steps;
    let device = &chosen.device;
    let start = Instant::now();
    let mut first: Option<f64> = None;
    let mut peak = DevicePeak::default();
    let mut clock: Option<ThreadClock> = None;
    let mut timed: Option<Timed> = None;
    let name = match which {
        Recommender::Tiger => "tiger",
        Recommender::SasRec => "sasrec",
    };
    let mut profile = sampler::WorkloadProfile::start(name);
    let mut observe = |e: TrainEvent| {
        // At loss read-backs only (see `rqvae`).
        if matches!(e, TrainEvent::Loss { .. }) {
            peak.sample(device);
        }
        match e {
            TrainEvent::Step { step: 1, .. } => {
                first = Some(start.elapsed().as_secs_f64());
                profile.first_step();
            }
            TrainEvent::Loss { step, .. } if step == warmup => {
                clock = Some(ThreadClock::start());
                profile.timed_start();
            }
            TrainEvent::Loss { step, .. } if step == total => {
                timed = clock.as_ref().map(ThreadClock::stop);
                profile.timed_end();
                // Stop before the end-of-run validation: it is measured by `tiger-bench eval`.
                return Flow::Cancel;
            }
            _ => {}
        }
        Flow::Continue
    };
    let _ = std::fs::remove_dir_all(run);
    let (result, shape) = match which {
        Recommender::Tiger => {
            let o = TigerOptions {
                steps: total,
                log_every: warmup,
                eval_every: total + 1,
                ..opts.clone()
            };
            let shape = format!(
                "{}+{} layers, d {}, {}x{} heads, FFN {}, history {} items, batch {}",
                o.encoder_layers,
                o.decoder_layers,
                o.d_model,
                o.heads,
                o.d_head,
                o.d_ff,
                o.max_history,
                o.batch_size
            );
            (
                tiger_loop::train(data, &o, run, device, false, &mut observe),
                shape,
            )
        }
        Recommender::SasRec => {
            let o = tiger_core::options::sasrec::SasRecOptions {
                steps: total,
                log_every: warmup,
                eval_every: total + 1,
                ..Default::default()
            };
            let shape = format!(
                "{} blocks, d {}, {} heads, max length {}, batch {}",
                o.blocks, o.d_model, o.heads, o.max_len, o.batch_size
            );
            (
                tiger_models::sasrec::train::train(
                    &data.dataset,
                    &data.split,
                    &o,
                    run,
                    device,
                    false,
                    &mut observe,
                ),
                shape,
            )
        }
    };
    match result {
        Ok(_) | Err(TrainError::Cancelled(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let _ = std::fs::remove_dir_all(run);
    let Some(timed) = timed else {
        anyhow::bail!("the training loop did not report at steps {warmup} and {total}");
    };
    profile.report()?;
    Ok(steps_result(
        name,
        chosen,
        steps as f64 / timed.secs,
        first,
        &peak,
        format!(
            "{shape}, {steps} timed steps after {warmup}; {}",
            describe(&timed.shares)
        ),
    ))
}

/// Semantic IDs for a dataset without a trained RQ-VAE: uniformly random codes (speed does not
/// depend on which codes the items get, only on the shapes).
pub fn random_ids(
    items: usize,
    levels: usize,
    codebook: u32,
    seed: u64,
) -> tiger_core::ids::SemanticIds {
    let mut rng = XorShift::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1);
    let codes = (0..items * levels)
        .map(|_| rng.below(codebook as usize) as u32)
        .collect();
    tiger_core::ids::SemanticIds::assign(codes, levels)
}

/// A training-throughput result.
fn steps_result(
    workload: &str,
    chosen: &ChosenDevice,
    rate: f64,
    first: Option<f64>,
    peak: &DevicePeak,
    shape: String,
) -> BenchResult {
    BenchResult {
        workload: workload.into(),
        device: chosen.description.clone(),
        rate,
        unit: "steps/s".into(),
        first_step_s: first,
        latency_ms: None,
        peak_device_mib: peak.mib(),
        peak_host_mib: peak_host_mib(),
        shape,
    }
}
