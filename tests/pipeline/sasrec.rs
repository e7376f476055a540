//! SASRec overfits the tiny cyclic dataset to Recall@1 = 1 and reloads from its checkpoint.

use crate::support;

use burn::prelude::*;
use tiger_core::data::samples::{Part, samples};
use tiger_models::sasrec::train::{evaluate, load_run, train};
use tiger_models::train::rqvae_loop::Flow;
use tiger_models::train::tiger_loop::TrainEvent;

#[test]
fn overfits_and_reloads() {
    let _rng = support::device_rng();
    let data = support::cyclic();
    let run = support::temp_dir("sasrec-overfit");
    let opts = support::tiny_sasrec(300);
    let mut valid = Vec::new();
    let state = train(
        &data.dataset,
        &data.split,
        &opts,
        &run,
        &Device::flex(),
        false,
        &mut |e| {
            if let TrainEvent::Valid { metrics, .. } = e {
                valid.push(metrics);
            }
            Flow::Continue
        },
    )
    .unwrap();
    assert_eq!(state.step, 300);
    assert_eq!(valid.len(), 3);
    let (cfg, model) = load_run(&run, &Device::flex()).unwrap();
    assert_eq!(cfg.items, 8);
    let test = samples(&data.split, Part::Test, 3);
    let m = evaluate(&model, &test, 3, &[1, 5], &Device::flex()).unwrap();
    assert_eq!(m.recall_at(1), Some(1.0), "{m:?}");
}
