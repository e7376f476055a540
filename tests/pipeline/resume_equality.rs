//! Resume reproduces the uninterrupted run: a TIGER run cancelled at step 25 and resumed to step 60
//! ends with the same weights (same logits on every training sample) and the same logged loss as
//! a run of 60 steps without a break. Same seed, no dropout (dropout masks are drawn from the
//! device RNG, which a resume re-seeds); the state that must survive is weights, optimiser moments,
//! schedule position and data order. The same holds with the paper's Adafactor, whose state
//! (factored second moments, step count) is saved and restored the same way. Flex CPU backend,
//! tiny model.

use crate::support;

use burn::prelude::*;
use tiger_core::data::samples::{Part, samples};
use tiger_core::ids::Vocab;
use tiger_core::options::tiger::{TigerOptimizer, TigerOptions};
use tiger_core::run::tiger_config::TrainState;
use tiger_models::tiger::batch::train_batch;
use tiger_models::train::rqvae_loop::Flow;
use tiger_models::train::tiger_loop::{TrainError, TrainEvent, load_run, train};

fn opts(optimizer: TigerOptimizer) -> TigerOptions {
    TigerOptions {
        log_every: 10,
        optimizer,
        ..support::tiny_tiger(60)
    }
}

#[test]
fn cancelled_and_resumed_equals_uninterrupted() {
    resumes_exactly(TigerOptimizer::Adamw);
}

#[test]
fn cancelled_and_resumed_equals_uninterrupted_with_adafactor() {
    let adafactor = resumes_exactly(TigerOptimizer::Adafactor);
    // The option reaches the optimiser: the same seed and data train differently with AdamW.
    let _rng = support::device_rng();
    let adamw = train(
        &support::cyclic(),
        &opts(TigerOptimizer::Adamw),
        &support::temp_dir("resume-adamw"),
        &Device::flex(),
        false,
        &mut |_| Flow::Continue,
    )
    .unwrap();
    let (x, y) = (
        adafactor.losses.last().unwrap().1,
        adamw.losses.last().unwrap().1,
    );
    assert!((x - y).abs() > 1e-3 * y.abs(), "Adafactor {x} vs AdamW {y}");
}

/// Trains 60 steps without a break and 25 + 35 with one, with `optimizer`; returns the first run.
fn resumes_exactly(optimizer: TigerOptimizer) -> TrainState {
    let _rng = support::device_rng();
    let data = support::cyclic();
    let device = Device::flex();
    let opts = || opts(optimizer);
    let name = format!("{optimizer:?}");
    let (whole, split) = (
        support::temp_dir(&format!("resume-whole-{name}")),
        support::temp_dir(&format!("resume-split-{name}")),
    );

    let a: TrainState = train(&data, &opts(), &whole, &device, false, &mut |_| {
        Flow::Continue
    })
    .unwrap();

    let err = train(&data, &opts(), &split, &device, false, &mut |e| match e {
        TrainEvent::Step { step: 25, .. } => Flow::Cancel,
        _ => Flow::Continue,
    })
    .unwrap_err();
    assert!(matches!(err, TrainError::Cancelled(25)), "{err}");
    let b = train(&data, &opts(), &split, &device, true, &mut |_| {
        Flow::Continue
    })
    .unwrap();
    assert_eq!((a.step, b.step), (60, 60));

    // Every logged loss whose 10-step window lies after the break (steps 31-40, 41-50, 51-60)
    // matches. (The step-30 report averages steps 21-30 in one run and 26-30 in the other.)
    let after = |s: &TrainState| -> Vec<(usize, f64)> {
        s.losses
            .iter()
            .copied()
            .filter(|(st, _)| *st >= 40)
            .collect()
    };
    let (la, lb) = (after(&a), after(&b));
    assert_eq!(la.len(), 3, "{la:?}");
    assert_eq!(
        la.iter().map(|l| l.0).collect::<Vec<_>>(),
        lb.iter().map(|l| l.0).collect::<Vec<_>>()
    );
    for ((s, x), (_, y)) in la.iter().zip(&lb) {
        assert!(
            (x - y).abs() <= 1e-5 * x.abs().max(1.0),
            "step {s}: {x} vs {y}"
        );
    }

    // The final weights give the same logits on every training sample.
    let (_, ma) = load_run(&whole, &device).unwrap();
    let (_, mb) = load_run(&split, &device).unwrap();
    let vocab = Vocab::for_ids(&data.ids, data.ids.codebook_size(), 0);
    let train_samples = samples(&data.split, Part::Train, 3);
    let refs: Vec<_> = train_samples.iter().collect();
    let logits = |m: &tiger_models::tiger::Tiger| {
        let batch = train_batch(&refs, &vocab, &data.ids, &data.dataset.users, &device);
        m.forward(batch.encoder.tokens, batch.encoder.mask, batch.decoder_in)
            .try_into_vec_as::<f32>()
            .unwrap()
    };
    let (xa, xb) = (logits(&ma), logits(&mb));
    assert_eq!(xa.len(), xb.len());
    let worst = xa
        .iter()
        .zip(&xb)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 1e-4, "largest logit difference {worst}");
    // And the runs did train: the weights are not the initial ones (loss fell).
    assert!(a.losses.last().unwrap().1 < a.losses[0].1);
    a
}
