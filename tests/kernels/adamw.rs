//! The fused AdamW step (`train::fused_adamw`) against tensor operations and against burn's own
//! `AdamW` with norm clipping, on burn-wgpu (Mesa's software Vulkan in CI). Set
//! TIGER_REQUIRE_WGPU=1 to fail rather than skip when no adapter exists.

use crate::support;

use burn::grad_clipping::GradientClippingConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::Distribution;
use tiger_kernels::Kernel;
use tiger_kernels::adamw::{self, FusedAdamW};

/// One parameter shape: the kernel's parameter and moments against the tensor path's, after a
/// later step (`time` 7) and after the first (moments start at zero).
fn check(gpu: &Device, dims: [usize; 2], g_scale: f32, clip: Option<f32>) {
    let opt = FusedAdamW::new(0.01, clip);
    let rand = |s: f32| Tensor::<2>::random(dims, Distribution::Normal(0.0, s as f64), gpu);
    let (p, g, m) = (rand(1.0), rand(g_scale), rand(0.1));
    let v = rand(0.1).abs();
    for (time, m, v) in [(7, m, v), (1, p.zeros_like(), p.zeros_like())] {
        let calls = Kernel::Adamw.calls();
        let (got, want) = adamw::both_paths(&opt, 1e-3, time, [p.clone(), g.clone(), m, v]);
        for ((a, b), n) in got.iter().zip(&want).zip(["parameter", "m", "v"]) {
            support::close(a, b, 1e-5, &format!("{dims:?} clip {clip:?} t {time}: {n}"));
        }
        assert_eq!(Kernel::Adamw.calls(), calls + 1, "the kernel ran");
    }
}

/// Every check in one test: the wgpu runtime is set up once per process, so two tests would race
/// to create it.
#[test]
fn on_wgpu() {
    let _rng = support::device_rng();
    let Some(gpu) = support::gpu_or_skip() else {
        return;
    };
    // Many workgroups, each computing the whole norm (clipped: norm ≫ 1); one small group; an
    // odd size; no clipping.
    check(&gpu, [128, 1024], 1.0, Some(1.0));
    check(&gpu, [32, 6], 0.01, Some(1.0));
    check(&gpu, [257, 4], 1.0, Some(1.0));
    check(&gpu, [1000, 333], 1.0, Some(1.0));
    check(&gpu, [64, 128], 1.0, None);
    a_model_follows_burns_adamw(&gpu);
}

/// Three steps of a small model with `FusedAdamW` end where burn's `AdamW` with norm clipping
/// ends.
fn a_model_follows_burns_adamw(gpu: &Device) {
    let ad = gpu.clone().autodiff();
    let start = LinearConfig::new(48, 40).init(&ad);
    let x = Tensor::<2>::random([16, 48], Distribution::Normal(0.0, 1.0), &ad);
    let run = |mut optim: ModuleOptimizer| {
        let mut model: Linear = start.clone();
        for step in 0..3 {
            let loss = model.forward(x.clone()).powi_scalar(2).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-2 * (step + 1) as f64, model, grads);
        }
        model
    };
    let calls = Kernel::Adamw.calls();
    let fused = run(ModuleOptimizer::from(FusedAdamW::new(0.05, Some(1.0))));
    assert_eq!(
        Kernel::Adamw.calls(),
        calls + 6,
        "two parameters, three steps"
    );
    let burn = run(AdamWConfig::new()
        .with_weight_decay(0.05)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init());
    support::close(
        &fused.weight.val().inner(),
        &burn.weight.val().inner(),
        1e-5,
        "model weight after 3 steps",
    );
    let (fb, bb) = (fused.bias.expect("bias"), burn.bias.expect("bias"));
    support::close(
        &fb.val().inner().unsqueeze::<2>(),
        &bb.val().inner().unsqueeze::<2>(),
        1e-5,
        "model bias",
    );
}
