//! RMSNorm in two kernels of our own (CubeCL): one forward, one backward.
//!
//! burn's `RmsNorm` is six tensor operations (square, mean, add, square root, divide, scale) and
//! its gradient about a dozen more. In the recommender's training step burn's fusion left most of
//! them as separate launches (a kernel profile on the H200 showed them one by one between the
//! matrix products), and each launch costs host time. The recommender has 22 norms, so that was
//! about 300 of a step's launches. [`forward`] computes the same values, with the gradients of the
//! input and of `γ` from [`kernels::backward_kernel`]; it applies on the GPU for widths whose `d /
//! 4` is a power of two up to 256 (128 in the paper's model) unless `TIGER_KERNELS` turns `rmsnorm`
//! off.

mod autodiff;
mod backend;
pub mod kernels;
pub mod ops;

use burn::backend::Dispatch;
use burn::nn::RmsNorm;
use burn::prelude::*;

use crate::choice::Kernel;
use ops::RmsNormOp;

/// Most workgroups of a launch along one grid dimension.
const MAX_GROUPS: usize = 65_535;

/// Whether the kernels take `rows` rows of width `d` on `device` (the forward's one-dimensional
/// grid has a workgroup per `THREADS / (d / 4)` rows).
fn applies(device: &Device, rows: usize, d: usize) -> bool {
    let d4 = d / 4;
    Kernel::Rmsnorm.on()
        && d.is_multiple_of(4)
        && d4.is_power_of_two()
        && d4 <= kernels::THREADS
        && rows.div_ceil(kernels::THREADS / d4.max(1)) <= MAX_GROUPS
        && crate::device::is_gpu(device)
}

/// `norm` applied to `x` (`[..., d]`): the same values as `norm.forward(x)`, through the kernels
/// where they apply.
pub fn forward<const D: usize>(norm: &RmsNorm, x: Tensor<D>) -> Tensor<D> {
    let dims = x.dims();
    let d = dims[D - 1];
    let rows: usize = dims[..D - 1].iter().product();
    if !applies(&x.device(), rows, d) {
        return norm.forward(x);
    }
    Kernel::Rmsnorm.count();
    let y = <Dispatch as RmsNormOp>::rms_norm(
        x.reshape([rows, d]).into_dispatch(),
        norm.gamma.val().into_dispatch(),
        norm.epsilon as f32,
    );
    Tensor::<2>::from_dispatch(y).reshape(dims)
}
