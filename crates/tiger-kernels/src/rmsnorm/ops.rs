//! RMSNorm as burn backend operations: the kernels on the cube and fusion backends, and the
//! differentiable norm the model calls, which autodiff routes to [`super::autodiff`].

use burn::backend::fusion::custom::TensorSpec;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::tensor::Shape;

/// The kernels. `x` is `[rows, d]`, `gamma` `[d]`, with `d / 4` a power of two up to 256.
#[backend_extension(Cube, Fusion)]
pub trait NormKernels: Backend {
    /// Forward → (`y` `[rows, d]`, `rms` `[rows]`).
    #[fusion(meta = |x, _g, _e| (x.clone(), rows_spec(x)))]
    fn rms_norm_forward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        eps: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// Backward from `dy` → (`dx` `[rows, d]`, `dgamma` `[d]`).
    #[fusion(meta = |x, g, _r, _d| (x.clone(), g.clone()))]
    fn rms_norm_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        rms: FloatTensor<Self>,
        dy: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// The differentiable norm: `x` `[rows, d]`, `gamma` `[d]` → `[rows, d]`.
#[backend_extension(Cube, Fusion, Autodiff)]
pub trait RmsNormOp: Backend {
    /// `(x / √(mean(x²) + eps)) · gamma` over each row; gradients for `x` and `gamma`.
    #[fusion(dtype = x, shape = same_shape(x))]
    fn rms_norm(x: FloatTensor<Self>, gamma: FloatTensor<Self>, eps: f32) -> FloatTensor<Self>;
}

fn same_shape(x: &Shape) -> Shape {
    x.clone()
}

fn rows_spec(x: &TensorSpec) -> TensorSpec {
    TensorSpec::new(Shape::new([x.shape[0]]), x.dtype)
}
