//! The recommenders' GPU path end to end on burn-wgpu (Mesa's software Vulkan in CI): TIGER trains
//! with every training kernel, stops, resumes from its saved state, overfits the cyclic dataset,
//! then evaluates and recommends through the fused decoder and the on-device beam; SASRec trains
//! with its kernels and evaluates. Each stage checks that its kernels really ran (their call counts
//! rise), so a silent fall-back to the tensor-API path fails the test.

use crate::support;

use tiger_core::data::samples::{Part, samples};
use tiger_core::device_choice::DeviceChoice;
use tiger_core::options::sasrec::SasRecOptions;
use tiger_kernels::Kernel;
use tiger_models::decode::BeamConfig;
use tiger_models::tiger::evaluate::{evaluate, recommend};
use tiger_models::train::rqvae_loop::Flow;
use tiger_models::train::tiger_loop::{TrainEvent, load_run, train};

/// The call counts of `kernels` on this thread.
fn calls(kernels: &[Kernel]) -> Vec<u64> {
    kernels.iter().map(|k| k.calls()).collect()
}

/// Asserts every kernel of `kernels` was called since `before`.
fn assert_ran(kernels: &[Kernel], before: &[u64], stage: &str) {
    for (k, b) in kernels.iter().zip(before) {
        assert!(k.calls() > *b, "{stage}: kernel {} never ran", k.name());
    }
}

#[test]
fn tiger_trains_resumes_evaluates_and_recommends_on_the_gpu() {
    let _rng = support::device_rng();
    let Some(gpu) = support::gpu_or_skip() else {
        return;
    };
    let data = support::cyclic();
    let run = support::temp_dir("gpu-recommender-tiger");
    let mut opts = support::tiny_tiger(300);
    opts.device = DeviceChoice::Gpu;
    opts.eval_every = 150;

    // Train to step 150 of 300, stopping there as a cancel would.
    let training = [Kernel::Flash, Kernel::Gemm, Kernel::Rmsnorm, Kernel::Adamw];
    let before = calls(&training);
    let stopped = train(&data, &opts, &run, &gpu, false, &mut |e| match e {
        TrainEvent::Step { step: 150, .. } => Flow::Cancel,
        _ => Flow::Continue,
    });
    assert!(stopped.is_err(), "the run stops at step 150");
    assert_ran(&training, &before, "training");

    // Resume from the saved state to the end of the schedule.
    let mut losses = Vec::new();
    let state = train(&data, &opts, &run, &gpu, true, &mut |e| {
        if let TrainEvent::Loss { step, loss, .. } = e {
            losses.push((step, loss));
        }
        Flow::Continue
    })
    .unwrap();
    assert_eq!(state.step, 300);
    assert_eq!(
        losses.first().map(|l| l.0),
        Some(200),
        "resumed after step 150"
    );
    assert!(losses.iter().all(|(_, l)| l.is_finite()), "{losses:?}");

    // The saved run evaluates on the GPU through the fused decoder and the device beam, and it has
    // learnt the rule: the next item is the last one + 1.
    let decoding = [Kernel::FusedDecoder, Kernel::DeviceBeam];
    let before = calls(&decoding);
    let (cfg, model) = load_run(&run, &gpu).unwrap();
    let beam = BeamConfig {
        width: 8,
        constrained: true,
    };
    let train_samples = samples(&data.split, Part::Train, cfg.options.max_history);
    let r = evaluate(
        &model,
        &cfg.vocab,
        &data,
        &train_samples,
        beam,
        &[1, 5],
        &gpu,
        &|| false,
    )
    .unwrap();
    assert_eq!(r.metrics.recall_at(1), Some(1.0), "{:?}", r.metrics);
    assert_eq!(r.invalid_share, 0.0);
    assert_ran(&decoding, &before, "evaluation");

    // A typed history: items 2, 3, 4 are followed by item 5.
    let hyps = recommend(
        &model,
        &cfg.vocab,
        &data,
        &[2, 3, 4],
        beam,
        &gpu,
        &mut |_| {},
    );
    assert!(!hyps.is_empty());
    assert_eq!(hyps[0].item, Some(5), "{:?}", hyps[0]);
    let mut items: Vec<u32> = hyps.iter().filter_map(|h| h.item).collect();
    let n = items.len();
    items.sort_unstable();
    items.dedup();
    assert_eq!(items.len(), n, "each recommendation is a different item");
    assert!(items.iter().all(|&i| (i as usize) < data.ids.len()));
}

#[test]
fn sasrec_trains_and_evaluates_on_the_gpu() {
    let _rng = support::device_rng();
    let Some(gpu) = support::gpu_or_skip() else {
        return;
    };
    let data = support::cyclic();
    let run = support::temp_dir("gpu-recommender-sasrec");
    let opts = SasRecOptions {
        device: DeviceChoice::Gpu,
        ..support::tiny_sasrec(300)
    };
    let kernels = [Kernel::Flash, Kernel::Gemm, Kernel::Adamw];
    let before = calls(&kernels);
    let state = tiger_models::sasrec::train::train(
        &data.dataset,
        &data.split,
        &opts,
        &run,
        &gpu,
        false,
        &mut |_| Flow::Continue,
    )
    .unwrap();
    assert_eq!(state.step, 300);
    assert_ran(&kernels, &before, "SASRec training");
    let (_, model) = tiger_models::sasrec::train::load_run(&run, &gpu).unwrap();
    let test = samples(&data.split, Part::Test, 3);
    let m = tiger_models::sasrec::train::evaluate(&model, &test, 3, &[1, 5], &gpu).unwrap();
    assert_eq!(m.recall_at(1), Some(1.0), "{m:?}");
}
