//! The kernel launches on burn's cube backend (inputs made contiguous, outputs allocated
//! contiguous).

use crate::alloc::empty_like as empty;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use cubecl::prelude::*;

use super::kernels::{THREADS, backward_kernel, forward_kernel};
use super::ops::{NormKernels, RmsNormOp};

type CubeTensor = FloatTensor<CubeBackend>;

/// Most workgroups of the backward (each writes one row of partial `dγ`).
const BACKWARD_GROUPS: usize = 264;

impl NormKernels for CubeBackend {
    fn rms_norm_forward(x: CubeTensor, gamma: CubeTensor, eps: f32) -> (CubeTensor, CubeTensor) {
        let [rows, d] = x.meta.shape().dims::<2>();
        let y = empty(&x, Shape::new([rows, d]));
        let rms = empty(&x, Shape::new([rows]));
        if rows == 0 {
            return (y, rms);
        }
        let d4 = d / 4;
        let per = THREADS / d4;
        let dtype = burn::backend::cubecl::dtype_to_storage_type(x.dtype);
        forward_kernel::launch(
            &x.client.clone(),
            CubeCount::Static(rows.div_ceil(per) as u32, 1, 1),
            CubeDim::new_1d(THREADS as u32),
            into_contiguous(x).into_tensor_arg(),
            into_contiguous(gamma).into_tensor_arg(),
            y.clone().into_tensor_arg(),
            rms.clone().into_tensor_arg(),
            rows as u32,
            eps,
            d4,
            dtype,
        );
        (y, rms)
    }

    fn rms_norm_backward(
        x: CubeTensor,
        gamma: CubeTensor,
        rms: CubeTensor,
        dy: CubeTensor,
    ) -> (CubeTensor, CubeTensor) {
        let [rows, d] = x.meta.shape().dims::<2>();
        let dx = empty(&x, Shape::new([rows, d]));
        let d4 = d / 4;
        let groups = rows.div_ceil(THREADS / d4).clamp(1, BACKWARD_GROUPS);
        let parts = empty(&x, Shape::new([groups, d]));
        let dtype = burn::backend::cubecl::dtype_to_storage_type(x.dtype);
        backward_kernel::launch(
            &x.client.clone(),
            CubeCount::Static(groups as u32, 1, 1),
            CubeDim::new_1d(THREADS as u32),
            into_contiguous(x).into_tensor_arg(),
            into_contiguous(gamma).into_tensor_arg(),
            into_contiguous(rms).into_tensor_arg(),
            into_contiguous(dy).into_tensor_arg(),
            dx.clone().into_tensor_arg(),
            parts.clone().into_tensor_arg(),
            rows as u32,
            d4,
            dtype,
        );
        // The workgroups' shares summed by burn's reduction (one launch, parallel over them).
        let dgamma = Self::float_reshape(Self::float_sum_dim(parts, 0), Shape::new([d]));
        (dx, dgamma)
    }
}

impl RmsNormOp for CubeBackend {
    fn rms_norm(x: CubeTensor, gamma: CubeTensor, eps: f32) -> CubeTensor {
        Self::rms_norm_forward(x, gamma, eps).0
    }
}
