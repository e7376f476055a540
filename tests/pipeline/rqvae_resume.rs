//! An RQ-VAE run stopped after any step and resumed from its saved state reaches the IDs, final
//! statistics and curves of an uninterrupted run; the trainer's state reads back and restores exactly; a catalogue held
//! in several device buffers trains like one in a single buffer. Flex CPU backend.

use crate::support;

use burn::prelude::*;
use tiger_core::config::{OptimizerChoice, QuantizeOptions};
use tiger_core::embeddings::synthetic::synthetic_embeddings;
use tiger_models::rqvae::RqVaeConfig;
use tiger_models::train::device_optim::DeviceOptimizer;
use tiger_models::train::device_rows::DeviceRows;
use tiger_models::train::rqvae_graph::GraphTrainer;
use tiger_models::train::rqvae_loop::{
    Flow, Resumable, RqVaeError, RqVaeEvent, train, train_resumable,
};

fn opts() -> QuantizeOptions {
    QuantizeOptions {
        hidden_dims: vec![32, 16],
        latent_dim: 8,
        codebook_size: 16,
        batch_size: 64,
        steps: 40,
        log_every: 6,
        dead_code_restart: 10,
        kmeans_iters: 5,
        ..Default::default()
    }
}

#[test]
fn a_run_stopped_at_any_step_and_resumed_gives_the_uninterrupted_ids() {
    let _rng = support::device_rng();
    let device = Device::flex();
    let emb = synthetic_embeddings(300, 24, 5);
    let opts = opts();
    let whole = train(&emb, &opts, &device, &mut |_| Flow::Continue).unwrap();
    // Stopped right after a restart (10), on a log step (18), and mid-stretch (27).
    for stop_at in [10usize, 18, 27] {
        let dir = support::temp_dir(&format!("rqvae-resume-{stop_at}"));
        let resumable = Resumable {
            dir: &dir,
            resume: false,
        };
        let stopped = train_resumable(&emb, &opts, &device, Some(resumable), &mut |e| match e {
            RqVaeEvent::Step { step, .. } if step == stop_at => Flow::Cancel,
            _ => Flow::Continue,
        });
        match stopped {
            Err(RqVaeError::Interrupted { step, .. }) => assert_eq!(step, stop_at),
            other => panic!("expected an interruption, got {:?}", other.err()),
        }
        let resumed = Resumable {
            dir: &dir,
            resume: true,
        };
        let mut first_step = None;
        let done = train_resumable(&emb, &opts, &device, Some(resumed), &mut |e| {
            if let RqVaeEvent::Step { step, .. } = e {
                first_step.get_or_insert(step);
            }
            Flow::Continue
        })
        .unwrap();
        assert_eq!(
            first_step,
            Some(stop_at + 1),
            "it goes on after the saved step"
        );
        assert_eq!(done.codes, whole.codes, "stopped at {stop_at}");
        assert_eq!(done.stats, whole.stats);
        // The curves before the stop were read back from JSON text, to the last bit.
        let json = |h: &[tiger_core::ids::QuantizeStats]| serde_json::to_value(h).unwrap();
        assert!(
            support::json_close(&json(&done.history), &json(&whole.history)),
            "stopped at {stop_at}"
        );
    }
}

#[test]
fn a_saved_state_is_refused_for_other_options_and_missing_state_is_named() {
    let _rng = support::device_rng();
    let device = Device::flex();
    let emb = synthetic_embeddings(300, 24, 5);
    let dir = support::temp_dir("rqvae-resume-refused");
    let resume = Resumable {
        dir: &dir,
        resume: true,
    };
    let err = train_resumable(&emb, &opts(), &device, Some(resume), &mut |_| {
        Flow::Continue
    })
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("no saved state"), "{err}");
    let save = Resumable {
        dir: &dir,
        resume: false,
    };
    let stopped = train_resumable(&emb, &opts(), &device, Some(save), &mut |e| match e {
        RqVaeEvent::Step { step: 5, .. } => Flow::Cancel,
        _ => Flow::Continue,
    });
    assert!(matches!(
        stopped,
        Err(RqVaeError::Interrupted { step: 5, .. })
    ));
    let mut other = opts();
    other.latent_dim = 4;
    let err = train_resumable(&emb, &other, &device, Some(resume), &mut |_| Flow::Continue)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("latent-dim 8 (now 4)"), "{err}");
}

/// A small model and trainer over `data` with `seed`'s weights.
fn trainer(data: impl Into<DeviceRows>, device: &Device) -> GraphTrainer {
    device.seed(3);
    let model = RqVaeConfig::new(6)
        .with_hidden_dims(vec![16])
        .with_latent_dim(4)
        .with_codebook_size(8)
        .init(device);
    GraphTrainer::new(
        &model,
        data,
        8,
        8,
        DeviceOptimizer::new(OptimizerChoice::Adam, 1e-2),
    )
}

fn losses(t: &mut GraphTrainer, steps: usize) -> Vec<f32> {
    (0..steps)
        .map(|_| t.step().unwrap().recon.try_into_vec_as::<f32>().unwrap()[0])
        .collect()
}

#[test]
fn the_trainer_state_restores_exactly_and_several_buffers_train_like_one() {
    let _rng = support::device_rng();
    let device = Device::flex();
    let host: Vec<f32> = (0..40 * 6)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    let rows: Vec<usize> = (0..10 * 8).map(|i| (i * 13) % 40).collect();

    // Ten steps straight, against five, a snapshot restored into a fresh trainer, and five more.
    let mut straight = trainer(DeviceRows::upload(&host, 40, 6, &device), &device);
    straight.begin_segment(&rows);
    let all = losses(&mut straight, 10);
    let mut first = trainer(DeviceRows::upload(&host, 40, 6, &device), &device);
    first.begin_segment(&rows[..5 * 8]);
    let head = losses(&mut first, 5);
    let state = first.snapshot().unwrap();
    let mut second = trainer(DeviceRows::upload(&host, 40, 6, &device), &device);
    second.restore(&state).unwrap();
    assert_eq!(second.snapshot().unwrap(), state);
    second.begin_segment(&rows[5 * 8..]);
    let tail = losses(&mut second, 5);
    assert_eq!([head, tail].concat(), all);
    assert_eq!(second.snapshot().unwrap(), straight.snapshot().unwrap());

    // The catalogue in five buffers of 8 rows: the same batches (each batch's rows come grouped
    // by buffer, so sums run in another order) give the same losses to rounding.
    let several = DeviceRows::upload_chunked(&host, 40, 6, &device, 8 * 6 * 4);
    assert_eq!(several.chunks().len(), 5);
    let mut chunked = trainer(several, &device);
    chunked.begin_segment(&rows);
    let chunked_losses = losses(&mut chunked, 10);
    for (a, b) in chunked_losses.iter().zip(&all) {
        assert!(
            (a - b).abs() <= 1e-4 * b.abs().max(1.0),
            "{chunked_losses:?} vs {all:?}"
        );
    }

    // A state of another shape is refused.
    let mut wrong = state.clone();
    wrong.params[0].pop();
    assert!(second.restore(&wrong).is_err());
}
