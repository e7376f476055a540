//! The RMSNorm kernels (`tiger_kernels::rmsnorm`) against burn's `RmsNorm` on burn-wgpu (Mesa's
//! software Vulkan in CI): the output and the gradients of the input and of `γ`. Set
//! TIGER_REQUIRE_WGPU=1 to fail rather than skip when no adapter exists.

use crate::support;

use burn::module::Param;
use burn::nn::RmsNormConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use tiger_kernels::Kernel;
use tiger_kernels::rmsnorm;

/// `[batch, rows, d]` inputs: output, input gradient and `γ` gradient against burn's norm.
fn check(gpu: &Device, dims: [usize; 3]) {
    let ad = gpu.clone().autodiff();
    let d = dims[2];
    let mut norm = RmsNormConfig::new(d).init(&ad);
    // A γ away from 1, so that its gradient and its use both matter.
    norm.gamma = Param::from_tensor(Tensor::<1>::random(
        [d],
        Distribution::Normal(1.0, 0.5),
        &ad,
    ));
    let x0 = Tensor::<3>::random(dims, Distribution::Normal(0.5, 2.0), &ad);
    let dy = Tensor::<3>::random(dims, Distribution::Normal(0.0, 1.0), &ad);
    let run = |kernel: bool| {
        let x = x0.clone().require_grad();
        let calls = Kernel::Rmsnorm.calls();
        let y = if kernel {
            rmsnorm::forward(&norm, x.clone())
        } else {
            norm.forward(x.clone())
        };
        assert_eq!(Kernel::Rmsnorm.calls(), calls + usize::from(kernel) as u64);
        let grads = (y.clone() * dy.clone()).sum().backward();
        let gx = x.grad(&grads).expect("x gradient");
        let gg = norm.gamma.grad(&grads).expect("gamma gradient");
        (y.inner(), gx, gg)
    };
    let (y, gx, gg) = run(true);
    let (y0, gx0, gg0) = run(false);
    support::close(&y, &y0, 2e-5, &format!("{dims:?} output"));
    support::close(&gx, &gx0, 2e-5, &format!("{dims:?} dx"));
    support::close(
        &gg.unsqueeze::<2>(),
        &gg0.unsqueeze::<2>(),
        2e-5,
        &format!("{dims:?} dgamma"),
    );
}

/// Every check in one test: the wgpu runtime is set up once per process, so two tests would race
/// to create it.
#[test]
fn on_wgpu() {
    let _rng = support::device_rng();
    let Some(gpu) = support::gpu_or_skip() else {
        return;
    };
    // The model's width on a partial last group; more row blocks than backward workgroups (the
    // workgroups loop); a narrow width (32 rows a group); the widest (one row a group).
    check(&gpu, [3, 70, 128]);
    check(&gpu, [3, 1000, 128]);
    check(&gpu, [2, 333, 32]);
    check(&gpu, [2, 5, 1024]);
    // A width the kernels do not take goes to burn's norm.
    let norm = RmsNormConfig::new(24).init(&gpu);
    let calls = Kernel::Rmsnorm.calls();
    let _ = rmsnorm::forward(&norm, Tensor::<2>::ones([3, 24], &gpu));
    assert_eq!(Kernel::Rmsnorm.calls(), calls);
}
