//! The linear layers' matrix-product kernel (`tiger_kernels::gemm`) against burn's matmul on
//! burn-wgpu (Mesa's software Vulkan in CI): the product and both gradients, over shapes that cover
//! partial tiles, several tiles, a transposed input read in place and a weight gradient split along
//! the rows. Set TIGER_REQUIRE_WGPU=1 to fail rather than skip when no adapter exists.

use crate::support;

use burn::nn::LinearConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use tiger_kernels::gemm;
use tiger_kernels::linear;
use tiger_kernels::{Kernel, Kernels};

/// `[rows, d_in] · [d_in, d_out]`: the product and the gradients of both inputs, kernel against
/// burn's matmul.
fn check(gpu: &Device, rows: usize, d_in: usize, d_out: usize) {
    let ad = gpu.clone().autodiff();
    let rand = |s: [usize; 2]| Tensor::<2>::random(s, Distribution::Normal(0.0, 1.0), &ad);
    let (x0, w0, g) = (rand([rows, d_in]), rand([d_in, d_out]), rand([rows, d_out]));
    let calls = Kernel::Gemm.calls();
    let run = |kernel: bool| {
        let (x, w) = (x0.clone().require_grad(), w0.clone().require_grad());
        let y = if kernel {
            gemm::product(&x, &w).expect("the kernel takes these sizes")
        } else {
            x.clone().matmul(w.clone())
        };
        let grads = (y.clone() * g.clone()).sum().backward();
        [
            y.inner(),
            x.grad(&grads).expect("x gradient"),
            w.grad(&grads).expect("w gradient"),
        ]
    };
    let got = run(true);
    let want = run(false);
    assert_eq!(Kernel::Gemm.calls(), calls + 1);
    for ((a, b), n) in got.iter().zip(&want).zip(["product", "dx", "dw"]) {
        support::close(a, b, 1e-5, &format!("{rows}x{d_in}x{d_out}: {n}"));
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
    // One partial tile; several tiles with partial edges; a long inner dimension in the weight
    // gradient (split into parts); the recommender's widths on a few rows.
    check(&gpu, 36, 20, 12);
    check(&gpu, 300, 132, 260);
    check(&gpu, 2048, 8, 12);
    check(&gpu, 260, 128, 1152);
    // An output width that is not a multiple of 4 (the output layer over the vocabulary).
    check(&gpu, 64, 32, 1031);
    a_transposed_input_is_read_in_place(&gpu);
    a_linear_layer_matches_burns(&gpu);
    a_one_hot_lookup_matches_the_tensor_path(&gpu);
    sizes_the_kernel_does_not_take_decline(&gpu);
}

/// Column-major operands (transposed views) give the same products as their contiguous copies.
fn a_transposed_input_is_read_in_place(gpu: &Device) {
    let xt = Tensor::<2>::random([24, 200], Distribution::Normal(0.0, 1.0), gpu);
    let w = Tensor::<2>::random([24, 40], Distribution::Normal(0.0, 1.0), gpu);
    let x = xt.clone().transpose();
    let got = gemm::product(&x, &w).expect("kernel");
    support::close(
        &got,
        &x.clone().matmul(w.clone()),
        1e-5,
        "column-major input",
    );
    // A column-major weight (the transpose of a row-major one), and both at once.
    let wt = Tensor::<2>::random([40, 24], Distribution::Normal(0.0, 1.0), gpu).transpose();
    let x2 = Tensor::<2>::random([200, 24], Distribution::Normal(0.0, 1.0), gpu);
    let got = gemm::product(&x2, &wt).expect("kernel");
    support::close(&got, &x2.matmul(wt.clone()), 1e-5, "column-major weight");
    let got = gemm::product(&x, &wt).expect("kernel");
    support::close(&got, &x.matmul(wt), 1e-5, "both column-major");
}

/// `linear::forward` on the GPU (through the kernel, bias added) equals burn's `Linear`, in
/// inference and training, on a 3-d input.
fn a_linear_layer_matches_burns(gpu: &Device) {
    for device in [gpu.clone(), gpu.clone().autodiff()] {
        let layer = LinearConfig::new(16, 24).init(&device);
        let x = Tensor::<3>::random([3, 8, 16], Distribution::Normal(0.0, 1.0), &device);
        let calls = Kernel::Gemm.calls();
        let got = linear::forward(&layer, x.clone());
        assert_eq!(Kernel::Gemm.calls(), calls + 1, "the layer took the kernel");
        support::close(&got, &layer.forward(x), 1e-5, "linear layer");
    }
}

/// Rows or input widths that are not multiples of 4, and the switch turned off, leave the
/// product to burn.
fn sizes_the_kernel_does_not_take_decline(gpu: &Device) {
    let x = Tensor::<2>::ones([6, 8], gpu);
    let w = Tensor::<2>::ones([8, 8], gpu);
    assert!(gemm::product(&x, &w).is_none());
    let x = Tensor::<2>::ones([8, 5], gpu);
    let w = Tensor::<2>::ones([5, 8], gpu);
    assert!(gemm::product(&x, &w).is_none());
    let x = Tensor::<2>::ones([8, 8], gpu);
    let w = Tensor::<2>::ones([8, 8], gpu);
    let declined = Kernels::without(Kernel::Gemm).run(|| gemm::product(&x, &w).is_none());
    assert!(declined);
    assert!(gemm::product(&x, &w).is_some());
}

/// A one-hot lookup over an odd batch (padded inside) gives the rows and the table gradient of
/// burn's product.
fn a_one_hot_lookup_matches_the_tensor_path(gpu: &Device) {
    let ad = gpu.clone().autodiff();
    let table0 = Tensor::<2>::random([32, 6], Distribution::Normal(0.0, 1.0), &ad);
    let picks: Vec<i64> = (0..6561).map(|i| (i * 7 % 32) as i64).collect();
    let idx = Tensor::<1, Int>::from_data(TensorData::new(picks, [6561]), &ad);
    let g = Tensor::<2>::random([6561, 6], Distribution::Normal(0.0, 1.0), &ad);
    let run = |kernel: bool| {
        let table = table0.clone().require_grad();
        let out = if kernel {
            gemm::one_hot_product(&table, &idx).expect("the kernel takes the lookup")
        } else {
            table.clone().select(0, idx.clone())
        };
        let grads = (out.clone() * g.clone()).sum().backward();
        [out.inner(), table.grad(&grads).expect("table gradient")]
    };
    let got = run(true);
    let want = run(false);
    support::close(&got[0], &want[0], 1e-5, "one-hot rows");
    support::close(&got[1], &want[1], 1e-5, "one-hot table gradient");
}
