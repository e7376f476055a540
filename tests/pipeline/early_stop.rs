//! Training ends by itself: after `--patience` validations without a better NDCG@10, or once
//! `--max-minutes` have passed (validating at the step it stops). Flex CPU backend, tiny models.

use crate::support;

use burn::prelude::*;
use tiger_models::train::rqvae_loop::Flow;
use tiger_models::train::tiger_loop::train;

#[test]
fn patience_ends_a_run_whose_validation_stopped_improving() {
    let _rng = support::device_rng();
    let data = support::cyclic();
    let run = support::temp_dir("early-stop-patience");
    // A learning rate too small to change any ranking: the first validation stays the best.
    let mut opts = support::tiny_tiger(1000);
    opts.lr = 1e-12;
    opts.eval_every = 10;
    opts.stop.patience = 2;
    let state = train(&data, &opts, &run, &Device::flex(), false, &mut |_| {
        Flow::Continue
    })
    .unwrap();
    assert_eq!(state.step, 30, "{:?}", state.stopped_early);
    assert_eq!(state.best.map(|b| b.0), Some(10));
    assert_eq!(state.valid.len(), 3);
    // Each validation's training time is kept beside it, growing.
    assert_eq!(state.valid_seconds.len(), 3);
    assert!(state.valid_seconds.windows(2).all(|w| w[0] <= w[1]));
    assert!(state.valid_seconds[2] > 0.0);
    let why = state.stopped_early.unwrap();
    assert!(why.contains("--patience 2"), "{why}");
    // The reason is recorded with the curves.
    let curves = std::fs::read_to_string(run.join("curves.json")).unwrap();
    assert!(curves.contains("--patience 2"), "{curves}");

    // Without patience the same run goes to its last step.
    let run = support::temp_dir("early-stop-no-patience");
    opts.stop.patience = 0;
    opts.steps = 40;
    let state = train(&data, &opts, &run, &Device::flex(), false, &mut |_| {
        Flow::Continue
    })
    .unwrap();
    assert_eq!(state.step, 40);
    assert_eq!(state.stopped_early, None);
}

#[test]
fn a_time_budget_ends_a_run_with_a_validation_at_the_step_it_stops() {
    let _rng = support::device_rng();
    let data = support::cyclic();
    let run = support::temp_dir("early-stop-minutes");
    let mut opts = support::tiny_tiger(100_000);
    opts.eval_every = 100_000;
    // A few milliseconds: spent after the first steps.
    opts.stop.max_minutes = 1e-4;
    let state = train(&data, &opts, &run, &Device::flex(), false, &mut |_| {
        Flow::Continue
    })
    .unwrap();
    assert!(state.step < 100_000);
    assert_eq!(state.valid.last().map(|v| v.0), Some(state.step));
    assert!(run.join("best/model.bpk").is_file());
    let why = state.stopped_early.unwrap();
    assert!(why.contains("--max-minutes"), "{why}");

    let sas = support::temp_dir("early-stop-minutes-sasrec");
    let mut opts = support::tiny_sasrec(100_000);
    opts.eval_every = 100_000;
    opts.stop.max_minutes = 1e-4;
    let state = tiger_models::sasrec::train::train(
        &data.dataset,
        &data.split,
        &opts,
        &sas,
        &Device::flex(),
        false,
        &mut |_| Flow::Continue,
    )
    .unwrap();
    assert!(state.step < 100_000);
    assert_eq!(state.valid.last().map(|v| v.0), Some(state.step));
    assert!(state.stopped_early.unwrap().contains("--max-minutes"));
}
