//! The generative recommender overfits a tiny dataset to Recall@1 = 1, which shows that training
//! and decoding agree; checkpoints reload to the same answers. Flex CPU backend, tiny model.

use crate::support;

use burn::prelude::*;
use tiger_core::data::samples::{Part, samples};
use tiger_core::ids::Vocab;
use tiger_models::decode::BeamConfig;
use tiger_models::tiger::evaluate::evaluate;
use tiger_models::train::rqvae_loop::Flow;
use tiger_models::train::tiger_loop::{TrainError, TrainEvent, load_run, train};

#[test]
fn overfits_to_recall_at_1() {
    let _rng = support::device_rng();
    let data = support::cyclic();
    let run = support::temp_dir("tiger-overfit");
    let opts = support::tiny_tiger(400);
    let mut losses = Vec::new();
    let state = train(&data, &opts, &run, &Device::flex(), false, &mut |e| {
        if let TrainEvent::Loss { loss, .. } = e {
            losses.push(loss);
        }
        Flow::Continue
    })
    .unwrap();
    assert_eq!(state.step, 400);
    assert!(losses.last().unwrap() < &(losses[0] * 0.1), "{losses:?}");
    for f in [
        "config.json",
        "semantic_ids.csv",
        "best/model.bpk",
        "last/model.bpk",
        "last/optim.bpk",
        "last/state.json",
    ] {
        assert!(run.join(f).is_file(), "{f}");
    }
    let (cfg, model) = load_run(&run, &Device::flex()).unwrap();
    let vocab = Vocab::for_ids(&data.ids, data.ids.codebook_size(), 0);
    assert_eq!(cfg.vocab, vocab);
    let train = samples(&data.split, Part::Train, 3);
    let beam = BeamConfig {
        width: 8,
        constrained: true,
    };
    let r = evaluate(
        &model,
        &vocab,
        &data,
        &train,
        beam,
        &[1, 5],
        &Device::flex(),
        &|| false,
    )
    .unwrap();
    assert_eq!(r.metrics.recall_at(1), Some(1.0), "{:?}", r.metrics);
    assert_eq!(r.invalid_share, 0.0);
    // The held-out targets follow the same rule (histories capped at 3 items, as in training).
    let test = samples(&data.split, Part::Test, 3);
    let r = evaluate(
        &model,
        &vocab,
        &data,
        &test,
        beam,
        &[1],
        &Device::flex(),
        &|| false,
    )
    .unwrap();
    assert_eq!(r.metrics.recall_at(1), Some(1.0), "{:?}", r.metrics);
}

#[test]
fn cancel_saves_last_and_resume_finishes_the_schedule() {
    let _rng = support::device_rng();
    let data = support::cyclic();
    let run = support::temp_dir("tiger-resume");
    let opts = support::tiny_tiger(60);
    let err = train(
        &data,
        &opts,
        &run,
        &Device::flex(),
        false,
        &mut |e| match e {
            TrainEvent::Step { step: 25, .. } => Flow::Cancel,
            _ => Flow::Continue,
        },
    )
    .unwrap_err();
    assert!(matches!(err, TrainError::Cancelled(25)), "{err}");
    assert!(run.join("last/optim.bpk").is_file());
    let mut first_step = None;
    let state = train(&data, &opts, &run, &Device::flex(), true, &mut |e| {
        if let TrainEvent::Step { step, .. } = e {
            first_step.get_or_insert(step);
        }
        Flow::Continue
    })
    .unwrap();
    assert_eq!(
        first_step,
        Some(26),
        "resume continues after the saved step"
    );
    assert_eq!(state.step, 60);
}

/// Label smoothing puts a floor under the loss: with a share α of every target spread over the
/// vocabulary, even a model that has learned the data cannot score the smoothed targets perfectly,
/// so its final loss stays well above the unsmoothed one, while both still rank the next item first.
#[test]
fn label_smoothing_keeps_the_loss_above_a_floor_and_still_learns() {
    let _rng = support::device_rng();
    let data = support::cyclic();
    let final_loss = |smoothing: f64| {
        let opts = tiger_core::options::tiger::TigerOptions {
            label_smoothing: smoothing,
            ..support::tiny_tiger(300)
        };
        let run = support::temp_dir(&format!("tiger-smoothing-{smoothing}"));
        let state = train(&data, &opts, &run, &Device::flex(), false, &mut |_| {
            Flow::Continue
        })
        .unwrap();
        let (cfg, model) = load_run(&run, &Device::flex()).unwrap();
        let test = samples(&data.split, Part::Test, 3);
        let beam = BeamConfig {
            width: 8,
            constrained: true,
        };
        let r = evaluate(
            &model,
            &cfg.vocab,
            &data,
            &test,
            beam,
            &[1],
            &Device::flex(),
            &|| false,
        )
        .unwrap();
        (state.losses.last().unwrap().1, r.metrics.recall_at(1))
    };
    let (plain, plain_recall) = final_loss(0.0);
    let (smoothed, smoothed_recall) = final_loss(0.3);
    assert!(
        smoothed > plain + 0.5,
        "smoothed {smoothed} vs plain {plain}"
    );
    assert_eq!(plain_recall, Some(1.0));
    assert_eq!(smoothed_recall, Some(1.0));
}
