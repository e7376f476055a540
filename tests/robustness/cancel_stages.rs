//! Cancel during every long stage (quantize, TIGER training, TIGER validation, SASRec training,
//! embedding) returns and leaves the worker usable; 20 start/cancel cycles leave no threads
//! behind. The worker runs on the CPU backend over the bundled sample. The bounds are generous so
//! that a loaded machine never misses them; the one-second target is measured by
//! `tiger-bench cycles` (docs/performance.md).

#[path = "../support.rs"]
mod support;

use std::time::{Duration, Instant};

/// A cancel that takes longer than this is stuck, not slow (the target is one second).
const GENEROUS: Duration = Duration::from_secs(10);

use tiger_core::config::QuantizeOptions;
use tiger_core::device_choice::DeviceChoice;
use tiger_core::options::sasrec::SasRecOptions;
use tiger_core::options::tiger::TigerOptions;
use tiger_explorer::app::protocol::{Command, Event, Job};
use tiger_explorer::app::worker::WorkerHandle;

fn until(w: &WorkerHandle, secs: u64, mut stop: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    while Instant::now() < end {
        if let Ok(e) = w.events.recv_timeout(Duration::from_millis(20)) {
            if let Event::Error(msg) = &e {
                panic!("worker error: {msg}");
            }
            let done = stop(&e);
            seen.push(e);
            if done {
                return seen;
            }
        }
    }
    panic!(
        "timed out; last events {:?}",
        &seen[seen.len().saturating_sub(5)..]
    );
}

/// Starts `cmd`, waits for `running` (an event showing the stage is under way), cancels and
/// returns how long the worker took to report `Cancelled(job)`.
fn cancel_latency(
    w: &WorkerHandle,
    cmd: Command,
    job: Job,
    running: impl Fn(&Event) -> bool,
) -> Duration {
    assert!(w.send(cmd));
    until(w, 120, running);
    let t = Instant::now();
    w.cancel();
    until(w, 30, |e| matches!(e, Event::Cancelled(j) if *j == job));
    t.elapsed()
}

fn small_quantize(steps: usize) -> QuantizeOptions {
    QuantizeOptions {
        hidden_dims: vec![64],
        latent_dim: 8,
        codebook_size: 16,
        batch_size: 256,
        kmeans_iters: 2,
        steps,
        log_every: 10,
        device: DeviceChoice::Cpu,
        ..Default::default()
    }
}

fn small_tiger(eval_every: usize) -> TigerOptions {
    TigerOptions {
        encoder_layers: 1,
        decoder_layers: 1,
        d_model: 32,
        heads: 2,
        d_head: 16,
        d_ff: 64,
        batch_size: 32,
        steps: 1_000_000,
        eval_every,
        log_every: 5,
        user_buckets: 0,
        // Validation checks Cancel between chunks of histories; beam 10 keeps a chunk well under
        // a second on two CPU cores.
        beam: 10,
        device: DeviceChoice::Cpu,
        ..Default::default()
    }
}

/// The two tests run one after the other: the thread count is per process.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

#[test]
fn every_stage_cancels_within_a_second_and_the_worker_stays_usable() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let w = WorkerHandle::spawn(
        DeviceChoice::Cpu,
        support::temp_dir("cancel-runs"),
        Box::new(|| {}),
    )
    .unwrap();
    assert!(w.send(Command::LoadDataset(support::sample_dir())));
    until(&w, 60, |e| matches!(e, Event::DatasetLoaded(_)));

    let mut report = Vec::new();
    let q = cancel_latency(
        &w,
        Command::Quantize(small_quantize(1_000_000)),
        Job::Quantize,
        |e| matches!(e, Event::QuantizeStats(s) if s.step >= 10),
    );
    report.push(("quantize", q));

    // Usable after a cancel: a short quantize finishes and gives the IDs the recommender needs.
    assert!(w.send(Command::Quantize(small_quantize(20))));
    until(&w, 120, |e| matches!(e, Event::QuantRunShown(_)));

    let t = cancel_latency(
        &w,
        Command::TrainTiger(small_tiger(1_000_000)),
        Job::TrainTiger,
        |e| matches!(e, Event::TrainLoss { step, .. } if *step >= 5),
    );
    report.push(("TIGER training", t));
    let v = cancel_latency(
        &w,
        Command::TrainTiger(small_tiger(5)),
        Job::TrainTiger,
        |e| matches!(e, Event::Phase(p) if p.starts_with("validating")),
    );
    report.push(("TIGER validation (beam search)", v));
    // Cancel is checked between steps; a SASRec step scores all 9,125 items at every position, so
    // the test keeps steps short on the CPU (batch 16, length 10).
    let sasrec = SasRecOptions {
        steps: 1_000_000,
        batch_size: 16,
        max_len: 10,
        d_model: 16,
        log_every: 5,
        ..Default::default()
    };
    let s = cancel_latency(
        &w,
        Command::TrainSasRec(sasrec),
        Job::TrainSasRec,
        |e| matches!(e, Event::TrainLoss { step, .. } if *step >= 5),
    );
    report.push(("SASRec training", s));

    let model = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(tiger_models::embed::encode::DEFAULT_MODEL_DIR);
    if model.join("model.safetensors").is_file() {
        let e = cancel_latency(
            &w,
            Command::Embed(model),
            Job::Embed,
            |e| matches!(e, Event::Progress { done, .. } if *done > 0),
        );
        report.push(("embedding", e));
    } else {
        eprintln!("embedding: skipped, the encoder is not fetched");
    }
    for (stage, d) in &report {
        eprintln!(
            "cancel latency, {stage}: {:.0} ms",
            d.as_secs_f64() * 1000.0
        );
        assert!(*d < GENEROUS, "{stage}: {d:?}");
    }

    // Still usable: a short quantize after all the cancels completes.
    assert!(w.send(Command::Quantize(small_quantize(10))));
    until(&w, 120, |e| matches!(e, Event::QuantRunShown(_)));
}

#[test]
fn twenty_start_cancel_cycles_leave_no_threads_behind() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let w = WorkerHandle::spawn(
        DeviceChoice::Cpu,
        support::temp_dir("cycle-runs"),
        Box::new(|| {}),
    )
    .unwrap();
    assert!(w.send(Command::LoadDataset(support::sample_dir())));
    until(&w, 60, |e| matches!(e, Event::DatasetLoaded(_)));
    // One full cycle first, so pools that start lazily (rayon, burn) exist before counting.
    cancel_latency(
        &w,
        Command::Quantize(small_quantize(1_000_000)),
        Job::Quantize,
        |e| matches!(e, Event::QuantizeStats(_)),
    );
    let before = threads();
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let d = cancel_latency(
            &w,
            Command::Quantize(small_quantize(1_000_000)),
            Job::Quantize,
            |e| matches!(e, Event::QuantizeStats(_)),
        );
        worst = worst.max(d);
    }
    let after = threads();
    eprintln!("threads before {before}, after 20 cycles {after}; slowest cancel {worst:?}");
    // A thread left behind by each cycle would add twenty; allow a pool that starts lazily.
    assert!(after < before + 5, "threads leaked: {before} → {after}");
    assert!(worst < GENEROUS, "{worst:?}");
}
