//! Start/cancel cycles on the app's worker thread, the way a user clicks Train then Cancel over and
//! over: after each cancel, the cancel latency, the thread count, burn's device pool and the
//! process's resident memory are sampled, so a leak shows up as a rising column.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use tiger_core::config::QuantizeOptions;
use tiger_core::options::tiger::TigerOptions;
use tiger_explorer::app::protocol::{Command, Event, Job};
use tiger_explorer::app::worker::{DeviceSource, WorkerHandle};
use tiger_kernels::device::ChosenDevice;

/// What one cycle left behind.
#[derive(Debug, Clone, Serialize)]
pub struct CycleSample {
    /// 0 for the warm-up cycle (kernels compile there), then 1, 2, …
    pub cycle: usize,
    /// `quantize` or `tiger`.
    pub job: String,
    /// Milliseconds from Cancel to the worker's `Cancelled`.
    pub cancel_ms: f64,
    /// Threads of this process after the cycle.
    pub threads: usize,
    /// Bytes of live device allocations (burn's pool), MiB; `None` on the CPU backend.
    pub device_in_use_mib: Option<f64>,
    /// Bytes reserved by burn's pool, MiB; `None` on the CPU backend.
    pub device_reserved_mib: Option<f64>,
    /// Resident host memory, MiB.
    pub host_rss_mib: Option<f64>,
}

/// What to cycle.
#[derive(Debug, Clone)]
pub struct CycleOptions {
    /// Dataset folder with `embeddings.npy`.
    pub data: PathBuf,
    /// Where the worker writes its runs.
    pub runs: PathBuf,
    /// Measured cycles (after one warm-up cycle).
    pub cycles: usize,
    /// RQ-VAE settings (`steps` is raised so a run never finishes on its own).
    pub quantize: QuantizeOptions,
    /// TIGER settings (likewise).
    pub tiger: TigerOptions,
    /// Training steps to wait for before pressing Cancel.
    pub cancel_after_steps: usize,
}

/// Events are awaited this long at most (the first GPU step compiles kernels for about a minute).
const WAIT: Duration = Duration::from_secs(300);

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

/// Waits for an event matching `stop`; a worker error or the time limit is an `Err`.
fn until(w: &WorkerHandle, what: &str, mut stop: impl FnMut(&Event) -> bool) -> Result<(), String> {
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        if let Ok(e) = w.events.recv_timeout(Duration::from_millis(20)) {
            if let Event::Error(msg) = &e {
                return Err(format!("while waiting for {what}: {msg}"));
            }
            if stop(&e) {
                return Ok(());
            }
        }
    }
    Err(format!("no {what} within {} s", WAIT.as_secs()))
}

/// Runs the warm-up cycle and `opts.cycles` measured cycles of quantize and TIGER training on
/// `chosen`, calling `report` after each sample.
pub fn run(
    chosen: &ChosenDevice,
    opts: &CycleOptions,
    mut report: impl FnMut(&CycleSample),
) -> Result<Vec<CycleSample>, String> {
    let w = WorkerHandle::spawn(
        DeviceSource::Ready(chosen.clone()),
        opts.runs.clone(),
        Box::new(|| {}),
    )
    .map_err(|e| format!("cannot start the worker thread: {e}"))?;
    if !w.send(Command::LoadDataset(opts.data.clone())) {
        return Err("the worker did not accept the dataset".into());
    }
    until(&w, "the dataset", |e| matches!(e, Event::DatasetLoaded(_)))?;
    // A short, finished quantize gives the semantic IDs TIGER trains on.
    let short = QuantizeOptions {
        steps: opts.cancel_after_steps.max(1) * 2,
        ..opts.quantize.clone()
    };
    if !w.send(Command::Quantize(short)) {
        return Err("the worker did not accept the quantize job".into());
    }
    until(&w, "the semantic IDs", |e| {
        matches!(e, Event::QuantRunShown(_))
    })?;

    let n = opts.cancel_after_steps.max(1);
    let long_q = QuantizeOptions {
        steps: 1_000_000,
        log_every: 1,
        ..opts.quantize.clone()
    };
    let long_t = TigerOptions {
        steps: 1_000_000,
        log_every: 1,
        eval_every: 1_000_000,
        ..opts.tiger.clone()
    };
    let mut samples = Vec::new();
    for cycle in 0..=opts.cycles {
        for job in [Job::Quantize, Job::TrainTiger] {
            let (cmd, name) = match job {
                Job::Quantize => (Command::Quantize(long_q.clone()), "quantize"),
                _ => (Command::TrainTiger(long_t.clone()), "tiger"),
            };
            if !w.send(cmd) {
                return Err(format!("the worker did not accept the {name} job"));
            }
            until(&w, &format!("{name} step {n}"), |e| match e {
                Event::QuantizeStats(s) => s.step >= n,
                Event::TrainLoss { step, .. } => *step >= n,
                _ => false,
            })?;
            let t = Instant::now();
            w.cancel();
            until(
                &w,
                &format!("{name} cancelled"),
                |e| matches!(e, Event::Cancelled(j) if *j == job),
            )?;
            let cancel_ms = t.elapsed().as_secs_f64() * 1000.0;
            let usage = chosen.device.memory_pool_usage();
            let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
            let sample = CycleSample {
                cycle,
                job: name.into(),
                cancel_ms,
                threads: threads(),
                device_in_use_mib: usage.as_ref().map(|u| mib(u.bytes_in_use)),
                device_reserved_mib: usage.as_ref().map(|u| mib(u.bytes_reserved)),
                host_rss_mib: super::host_rss_mib(),
            };
            report(&sample);
            samples.push(sample);
        }
    }
    Ok(samples)
}
