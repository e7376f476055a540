//! The matrix product as burn backend operations: the kernel launch on the cube and fusion
//! backends, and the differentiable product a linear layer calls, which autodiff routes to
//! [`super::autodiff`].

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::tensor::Shape;

/// The kernels. `a` is `[m, k]` and `b` `[k, n]`, each contiguous along either dimension (a
/// transposed view is read in place; anything else is copied first). `m`, `k` and `n` are
/// multiples of 4.
#[backend_extension(Cube, Fusion)]
pub trait GemmKernels: Backend {
    /// `a · b` → `[m, n]`.
    #[fusion(dtype = a, shape = product_shape(a, b))]
    fn gemm(a: FloatTensor<Self>, b: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// The differentiable product of a linear layer.
#[backend_extension(Cube, Fusion, Autodiff)]
pub trait GemmLinear: Backend {
    /// `x` `[rows, d_in]` times `weight` `[d_in, d_out]` → `[rows, d_out]`; gradients for both
    /// through the same kernel (the weight's as a product split along the rows).
    #[fusion(dtype = x, shape = product_shape(x, weight))]
    fn gemm_linear(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// `[m, k]`, `[k, n]` → `[m, n]`.
fn product_shape(a: &Shape, b: &Shape) -> Shape {
    Shape::new([a[0], b[1]])
}
