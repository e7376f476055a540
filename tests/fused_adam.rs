//! The fused Adam/AdamW update (one GPU operation per parameter) against burn's own optimisers on
//! the same device, and its saved state against burn's.

mod common;

use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, AdamState, AdamWConfig, AdamWState, GradientsParams, Optimizer};
use burn::prelude::*;
use tiger_explorer::train::fused_adam::FusedAdam;

/// The GPU device, made once for both tests (two threads making it at once race in burn-wgpu).
fn gpu() -> Option<Device> {
    static DEVICE: std::sync::OnceLock<Option<Device>> = std::sync::OnceLock::new();
    DEVICE.get_or_init(common::gpu_or_skip).clone()
}

/// Deterministic values in `[-1, 1)`.
fn noise(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-5 + 1e-4 * y.abs(),
            "{what}[{i}]: fused {x}, burn {y}"
        );
    }
}

/// Four steps of the fused optimiser and of burn's on a parameter of shape `shape`: the same
/// parameter, step count and moments after each step.
fn compare<const D: usize>(device: &Device, shape: [usize; D], seed: u64, decay: f32) {
    let fused = if decay == 0.0 {
        FusedAdam::adam()
    } else {
        FusedAdam::adamw(decay)
    };
    let n: usize = shape.iter().product();
    let make = |s: u64| Tensor::<D>::from_data(TensorData::new(noise(s, n), shape), device);
    let mut p_fused = make(seed);
    let mut p_burn = p_fused.clone();
    let mut s_fused: Option<AdamState<D>> = None;
    let mut s_burn: Option<AdamState<D>> = None;
    for step in 0..4u64 {
        let g = make(100 * seed + step);
        let lr = 0.01 * (step + 1) as f64;
        (p_fused, s_fused) = fused.step(lr, p_fused, g.clone(), s_fused);
        (p_burn, s_burn) = if decay == 0.0 {
            AdamConfig::new().build().step(lr, p_burn, g, s_burn)
        } else {
            let adamw = AdamWConfig::new().with_weight_decay(decay).build();
            let state = s_burn.map(|s| AdamWState::new(s.momentum));
            let (p, s) = adamw.step(lr, p_burn, g, state);
            (p, s.map(|s| AdamState::new(s.momentum)))
        };
        let what = format!("decay {decay}, shape {shape:?}, step {step}");
        assert_eq!(p_fused.dims(), shape, "{what}: shape");
        assert_close(&values(p_fused.clone()), &values(p_burn.clone()), &what);
        let (Some(a), Some(b)) = (&s_fused, &s_burn) else {
            panic!("{what}: no state");
        };
        assert_eq!(a.momentum.time, b.momentum.time, "{what}: step count");
        let m = |s: &AdamState<D>| values(s.momentum.moment_1.clone());
        let v = |s: &AdamState<D>| values(s.momentum.moment_2.clone());
        assert_close(&m(a), &m(b), &format!("{what}: first moment"));
        assert_close(&v(a), &v(b), &format!("{what}: second moment"));
    }
}

/// Adam, and AdamW with weight decay, on parameters of rank 1, 2 and 3.
#[test]
fn each_update_equals_burns_adam_and_adamw() {
    let Some(device) = gpu() else {
        return;
    };
    for decay in [0.0f32, 0.05] {
        compare(&device, [7], 1, decay);
        compare(&device, [3, 5], 2, decay);
        compare(&device, [2, 3, 4], 3, decay);
    }
}

fn loss(model: &Linear, x: Tensor<2>) -> Tensor<1> {
    model.forward(x).powf_scalar(2.0).sum()
}

fn train(model: Linear, optim: &mut burn::optim::ModuleOptimizer, x: &Tensor<2>) -> Linear {
    let grads = GradientsParams::from_grads(loss(&model, x.clone()).backward(), &model);
    optim.step(0.05, model, grads)
}

/// Through burn's module optimiser on a linear layer (weight `[4, 3]` and bias): three steps give
/// the same weights as burn's Adam, and a state burn's Adam saved resumes in the fused optimiser
/// (the checkpoint format is unchanged).
#[test]
fn a_module_trains_and_resumes_like_burns_adam() {
    let Some(device) = gpu() else {
        return;
    };
    let train_device = device.clone().autodiff();
    let start = LinearConfig::new(4, 3).init(&train_device);
    let x = Tensor::<2>::from_data(TensorData::new(noise(9, 20), [5, 4]), &train_device);
    let weights = |m: &Linear| values(m.weight.val().inner());

    let mut fused = FusedAdam::adam().init();
    let mut burn_adam = AdamConfig::new().init();
    let (mut a, mut b) = (start.clone(), start.clone());
    for _ in 0..2 {
        a = train(a, &mut fused, &x);
        b = train(b, &mut burn_adam, &x);
    }
    assert_close(&weights(&a), &weights(&b), "after two steps");

    let dir = common::temp_dir("fused-adam-resume");
    let file = dir.join("optim.bpk");
    burn_adam.save(&file).unwrap();
    let mut resumed = FusedAdam::adam().init().load(&file).unwrap();
    let c = train(b.clone(), &mut resumed, &x);
    let b = train(b, &mut burn_adam, &x);
    let a = train(a, &mut fused, &x);
    assert_close(&weights(&c), &weights(&b), "resumed from burn's state");
    assert_close(&weights(&a), &weights(&b), "after three steps");
    assert_ne!(weights(&a), weights(&start), "training moved the weights");
    let _ = std::fs::remove_dir_all(&dir);
}
