//! TIGER's model trains through the fused attention kernels on burn-wgpu (Mesa's software
//! Vulkan in CI): without dropout the losses follow the tensor path's step for step, and with
//! dropout the model still learns a fixed batch. Set TIGER_REQUIRE_WGPU=1 to fail rather than skip
//! when no adapter exists.

use crate::support;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use tiger_kernels::{Kernel, Kernels};
use tiger_models::tiger::TigerConfig;

const VOCAB: usize = 40;
const BATCH: usize = 8;
const SRC: usize = 13;
const TGT: usize = 4;

fn ints(values: Vec<i64>, dims: [usize; 2], device: &Device) -> Tensor<2, Int> {
    Tensor::<1, Int>::from_ints(values.as_slice(), device).reshape(dims)
}

/// Losses of `steps` AdamW steps on one fixed batch, from the model seeded by 5.
fn losses(device: &Device, dropout: f64, steps: usize) -> Vec<f32> {
    device.seed(5);
    let mut model = TigerConfig::new(VOCAB)
        .with_d_model(16)
        .with_heads(2)
        .with_d_head(8)
        .with_d_ff(32)
        .with_encoder_layers(2)
        .with_decoder_layers(2)
        .with_dropout(dropout)
        .init(device);
    let src: Vec<i64> = (0..BATCH * SRC).map(|i| (i * 7 % 37 + 1) as i64).collect();
    // The first three histories end in two padded positions.
    let mask: Vec<i64> = (0..BATCH * SRC)
        .map(|i| i64::from(!(i / SRC < 3 && i % SRC >= SRC - 2)))
        .collect();
    let tgt: Vec<i64> = (0..BATCH * (TGT + 1))
        .map(|i| (i * 11 % 39) as i64)
        .collect();
    let tgt_all = ints(tgt, [BATCH, TGT + 1], device);
    let tgt_in = tgt_all.clone().slice([0..BATCH, 0..TGT]);
    let labels = tgt_all.slice([0..BATCH, 1..TGT + 1]);
    let (src, mask) = (
        ints(src, [BATCH, SRC], device),
        ints(mask, [BATCH, SRC], device),
    );
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut optim = AdamWConfig::new().init();
    let mut out = Vec::new();
    for _ in 0..steps {
        let logits = model.forward(src.clone(), mask.clone(), tgt_in.clone());
        let loss = loss_fn.forward(
            logits.reshape([BATCH * TGT, VOCAB]),
            labels.clone().reshape([BATCH * TGT]),
        );
        out.push(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-2, model, grads);
    }
    out
}

/// Every check in one test: the wgpu runtime is set up once per process, so two tests would race
/// to create it.
#[test]
fn on_wgpu() {
    let _rng = support::device_rng();
    let Some(gpu) = support::gpu_or_skip() else {
        return;
    };
    let ad = gpu.autodiff();
    let before = Kernel::Flash.calls();
    let fused = losses(&ad, 0.0, 12);
    // Two encoder layers, two decoder layers with self- and cross-attention: 6 calls a step.
    assert_eq!(
        Kernel::Flash.calls() - before,
        12 * 6,
        "the fused path did not run"
    );
    let before = Kernel::Flash.calls();
    let tensor = Kernels::without(Kernel::Flash).run(|| losses(&ad, 0.0, 12));
    assert_eq!(
        Kernel::Flash.calls(),
        before,
        "the fused path ran while switched off"
    );
    let dropped = losses(&ad, 0.1, 60);
    println!("fused {fused:?}\ntensor {tensor:?}\nwith dropout {dropped:?}");
    for (step, (a, b)) in fused.iter().zip(&tensor).enumerate() {
        assert!(
            (a - b).abs() <= 1e-3 * b.abs().max(1.0),
            "step {step}: fused {a} against tensor path {b}"
        );
    }
    let (first, last) = (dropped[0], dropped[dropped.len() - 1]);
    assert!(dropped.iter().all(|l| l.is_finite()));
    assert!(
        last < 0.5 * first,
        "no learning with dropout: {first} → {last}"
    );
}
