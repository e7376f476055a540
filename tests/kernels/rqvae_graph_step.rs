//! The RQ-VAE step recorded once and replayed gives the same training as the same step run
//! eagerly, on burn-wgpu (Mesa's software Vulkan in CI). Set TIGER_REQUIRE_WGPU=1 to fail rather
//! than skip when no adapter exists.

use crate::support;

use burn::prelude::*;
use burn::tensor::Distribution;
use tiger_core::config::OptimizerChoice;
use tiger_models::rqvae::RqVaeConfig;
use tiger_models::train::device_optim::DeviceOptimizer;
use tiger_models::train::graph_capture::GraphMode;
use tiger_models::train::rqvae_graph::GraphTrainer;

fn adam() -> DeviceOptimizer {
    DeviceOptimizer::new(OptimizerChoice::Adam, 1e-2)
}

fn losses(graph: bool, device: &Device, optim: DeviceOptimizer) -> (Vec<f32>, Vec<f32>, GraphMode) {
    device.seed(11);
    let config = RqVaeConfig::new(24)
        .with_hidden_dims(vec![32, 16])
        .with_latent_dim(8)
        .with_codebook_size(16);
    let model = config.init(device);
    let data = Tensor::<2>::random([200, 24], Distribution::Normal(0.0, 1.0), device);
    let mut trainer = GraphTrainer::new(&model, data, 32, 16, optim);
    if !graph {
        trainer.force_eager();
    }
    let rows: Vec<usize> = (0..12 * 32).map(|i| (i * 37) % 200).collect();
    trainer.begin_segment(&rows);
    let mut out = Vec::new();
    for _ in 0..12 {
        let o = trainer.step().unwrap();
        out.push(o.recon.try_into_vec_as::<f32>().unwrap()[0]);
    }
    let usage = trainer.usage().unwrap();
    (out, usage, trainer.mode().clone())
}

/// Both GPU checks in one test: the wgpu runtime is set up once per process, so two tests would
/// race to create it.
#[test]
fn on_wgpu() {
    let _rng = support::device_rng();
    let Some(gpu) = support::gpu_or_skip() else {
        return;
    };
    replayed_steps_train_like_eager_ones(&gpu, adam());
    replayed_steps_train_like_eager_ones(&gpu, DeviceOptimizer::new(OptimizerChoice::Adagrad, 0.1));
    a_cancelled_segment_leaves_the_next_run_recording(&gpu);
}

fn replayed_steps_train_like_eager_ones(gpu: &Device, optim: DeviceOptimizer) {
    let (eager, eager_usage, _) = losses(false, gpu, optim);
    let (replayed, usage, mode) = losses(true, gpu, optim);
    println!("eager {eager:?}\nreplayed {replayed:?}\nmode {mode:?}");
    assert_eq!(mode, GraphMode::On);
    assert_eq!(eager, replayed);
    assert_eq!(eager_usage, usage);
}

/// On the CPU nothing is recorded: every step runs through the tensor API, and says why.
#[test]
fn the_cpu_steps_eagerly() {
    let _rng = support::device_rng();
    let (losses, usage, mode) = losses(true, &Device::flex(), adam());
    assert!(
        matches!(&mode, GraphMode::Off(why) if why.contains("no graph support")),
        "{mode:?}"
    );
    assert!(losses.iter().all(|l| l.is_finite()));
    // 12 steps of 32 rows, 3 levels: every row counted once per level.
    assert_eq!(usage.iter().sum::<f32>(), (12 * 32 * 3) as f32);
}

/// A segment dropped between preparing and recording (a cancelled run) gives the stream back: the
/// next trainer on this thread still records and replays.
fn a_cancelled_segment_leaves_the_next_run_recording(gpu: &Device) {
    let config = RqVaeConfig::new(8)
        .with_hidden_dims(vec![8])
        .with_latent_dim(4)
        .with_codebook_size(8);
    let data = Tensor::<2>::random([64, 8], Distribution::Normal(0.0, 1.0), gpu);
    let rows: Vec<usize> = (0..10 * 16).map(|i| i % 64).collect();
    let mut first = GraphTrainer::new(&config.init(gpu), data.clone(), 16, 8, adam());
    first.begin_segment(&rows);
    first.step().unwrap();
    first.step().unwrap();
    drop(first);
    let mut second = GraphTrainer::new(&config.init(gpu), data, 16, 8, adam());
    second.begin_segment(&rows);
    for _ in 0..6 {
        second.step().unwrap();
    }
    assert_eq!(second.mode(), &GraphMode::On);
}
