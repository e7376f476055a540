//! The fused training attention (`tiger_kernels::flash`) against the tensor path on burn-wgpu
//! (Mesa's software Vulkan in CI): outputs and the gradients of queries, keys, values and the bias,
//! with dropout off and on (the reference applying the kernels' hash mask). Set
//! TIGER_REQUIRE_WGPU=1 to fail rather than skip when no adapter exists.

use crate::support;

use burn::nn::DropoutConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use tiger_kernels::attention::attend;
use tiger_kernels::flash;
use tiger_kernels::{Kernel, Kernels};

/// The kernels' hash, on the host.
fn mix(x: u32) -> u32 {
    let mut h = x;
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

/// The kernels' keep mask `[b, h, tq, tk]` (1 kept, 0 dropped) for `seed` and `threshold`.
fn host_mask(dims: [usize; 4], seed: u32, threshold: u32, device: &Device) -> Tensor<4> {
    let [b, h, tq, tk] = dims;
    let keep: Vec<f32> = (0..b * h * tq * tk)
        .map(|idx| f32::from(u8::from(mix(idx as u32 ^ mix(seed)) >= threshold)))
        .collect();
    Tensor::<1>::from_floats(keep.as_slice(), device).reshape(dims)
}

/// The tensor path with an explicit dropout mask.
fn reference(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    bias: Tensor<4>,
    mask: Option<(Tensor<4>, f32)>,
) -> Tensor<4> {
    let d = q.dims()[3];
    let scores = q.matmul(k.transpose()).div_scalar((d as f32).sqrt()) + bias;
    let mut w = burn::tensor::activation::softmax(scores, 3);
    if let Some((m, p)) = mask {
        w = w * m / (1.0 - p);
    }
    w.matmul(v)
}

/// One shape: outputs and all four gradients, fused against the reference.
fn check(gpu: &Device, dims: [usize; 5], p: f64) {
    let [b, h, tq, tk, d] = dims;
    let ad = gpu.clone().autodiff();
    let rand = |s: [usize; 4]| Tensor::<4>::random(s, Distribution::Normal(0.0, 1.0), &ad);
    let (q0, k0, v0) = (
        rand([b, h, tq, d]),
        rand([b, h, tk, d]),
        rand([b, h, tk, d]),
    );
    let rel0 = rand([1, h, tq, tk]);
    // Key masks: the last two keys of the first history are padding.
    let mut m = vec![0f32; b * tk];
    m[tk - 1] = -1e9;
    m[tk - 2] = -1e9;
    let mask = Tensor::<1>::from_floats(m.as_slice(), &ad).reshape([b, 1, 1, tk]);
    let g = rand([b, h, tq, d]);
    let seed = 12_345u32;
    let threshold = flash::threshold_of(p);
    let run = |fused: bool| {
        let (q, k, v) = (
            q0.clone().require_grad(),
            k0.clone().require_grad(),
            v0.clone().require_grad(),
        );
        let rel = rel0.clone().require_grad();
        let bias = rel.clone() + mask.clone();
        let out = if fused {
            let seed = Tensor::<1>::from_floats([seed as f32], &ad);
            flash::attend_seeded(&q, &k, &v, &bias, seed, threshold).expect("fused path applies")
        } else {
            let dm = (p > 0.0).then(|| {
                (
                    host_mask([b, h, tq, tk], seed, threshold as u32, &ad),
                    p as f32,
                )
            });
            reference(q.clone(), k.clone(), v.clone(), bias, dm)
        };
        let grads = (out.clone() * g.clone()).sum().backward();
        let grad = |t: &Tensor<4>| t.grad(&grads).expect("gradient");
        [out.inner(), grad(&q), grad(&k), grad(&v), grad(&rel)]
    };
    let fused = run(true);
    let want = run(false);
    let names = ["output", "dq", "dk", "dv", "dbias"];
    for ((f, w), n) in fused.iter().zip(&want).zip(names) {
        support::close(f, w, 2e-4, &format!("{dims:?} p {p}: {n}"));
    }
    if tq != tk {
        return;
    }
    // Self-attention over one packed projection `[b, t, 3, h, d]`: one gradient for all three.
    let qkv0 = Tensor::<5>::random([b, tq, 3, h, d], Distribution::Normal(0.0, 1.0), &ad);
    let run = |fused: bool| {
        let qkv = qkv0.clone().require_grad();
        let rel = rel0.clone().require_grad();
        let bias = rel.clone() + mask.clone();
        let out = if fused {
            let seed = Tensor::<1>::from_floats([seed as f32], &ad);
            flash::attend_packed_seeded(&qkv, &bias, seed, threshold).expect("packed path applies")
        } else {
            let part = |i: usize| {
                qkv.clone()
                    .narrow(2, i, 1)
                    .reshape([b, tq, h, d])
                    .swap_dims(1, 2)
            };
            let dm = (p > 0.0).then(|| {
                (
                    host_mask([b, h, tq, tk], seed, threshold as u32, &ad),
                    p as f32,
                )
            });
            reference(part(0), part(1), part(2), bias, dm)
        };
        let grads = (out.clone() * g.clone()).sum().backward();
        let dqkv = qkv
            .grad(&grads)
            .expect("gradient")
            .reshape([b, tq * 3, h, d]);
        [out.inner(), dqkv, rel.grad(&grads).expect("gradient")]
    };
    let fused = run(true);
    let want = run(false);
    for ((f, w), n) in fused.iter().zip(&want).zip(["output", "dqkv", "dbias"]) {
        support::close(f, w, 2e-4, &format!("{dims:?} p {p} packed: {n}"));
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
    // Several workgroups of rows and several key tiles; then the decoder's shapes.
    check(&gpu, [2, 3, 70, 45, 8], 0.0);
    check(&gpu, [2, 3, 150, 45, 8], 0.3);
    check(&gpu, [3, 2, 4, 33, 16], 0.1);
    check(&gpu, [3, 2, 5, 5, 64], 0.1);
    check(&gpu, [2, 3, 37, 37, 8], 0.0);
    check(&gpu, [2, 3, 150, 150, 8], 0.2);
    the_training_dropout_drops_about_p(&gpu);
    the_tensor_path_runs_when_switched_off(&gpu);
}

/// Through `attend` with a training dropout layer: about `p` of the weights are dropped (the
/// output of all-ones values is the kept weights' rescaled sum), and two calls draw different
/// masks.
fn the_training_dropout_drops_about_p(gpu: &Device) {
    let ad = gpu.clone().autodiff();
    let (b, h, tq, tk, d) = (4, 2, 16, 64, 4);
    let q = Tensor::<4>::zeros([b, h, tq, d], &ad);
    let k = Tensor::<4>::zeros([b, h, tk, d], &ad);
    let v = Tensor::<4>::ones([b, h, tk, d], &ad);
    let bias = Tensor::<4>::zeros([1, 1, 1, tk], &ad);
    let drop = DropoutConfig::new(0.25).init();
    let a = attend(q.clone(), k.clone(), v.clone(), bias.clone(), &drop);
    let c = attend(q, k, v, bias, &drop);
    // Uniform weights 1/tk, kept ones scaled by 1/(1 − p): the mean output is the kept share /
    // 0.75.
    let kept = a.clone().mean().into_scalar::<f32>() * 0.75;
    println!("kept share {kept}");
    assert!((kept - 0.75).abs() < 0.03, "kept share {kept}");
    let diff = (a - c).abs().sum().into_scalar::<f32>();
    assert!(diff > 0.0, "two training calls drew the same mask");
}

/// With the switch off, `attend_seeded` declines and `attend` takes the tensor path.
fn the_tensor_path_runs_when_switched_off(gpu: &Device) {
    let t = Tensor::<4>::zeros([1, 1, 4, 4], gpu);
    let seed = Tensor::<1>::zeros([1], gpu);
    let declined = Kernels::without(Kernel::Flash)
        .run(|| flash::attend_seeded(&t, &t, &t, &t, seed, 0).is_none());
    assert!(declined);
}
