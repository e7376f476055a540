//! The fused AdamW update as a burn backend operation on the cube and fusion backends, and its
//! launch on the cube backend.

use crate::alloc::empty_like;
use burn::backend::fusion::custom::TensorSpec;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use cubecl::prelude::*;

use super::kernel::{StepArgsLaunch, THREADS, adamw_kernel};

/// Most workgroups per parameter (each one reads the whole gradient for the norm).
const MAX_GROUPS: usize = 64;
/// Fewest elements per workgroup.
const MIN_CHUNK: usize = 4096;

/// The update kernel. `p`, `g`, `m`, `v` are `[n]`; the scalars are those of
/// [`super::kernel::StepArgs`].
#[backend_extension(Cube, Fusion)]
#[allow(clippy::too_many_arguments)]
pub trait AdamWKernels: Backend {
    /// One AdamW step with norm clipping → (parameter, first moment, second moment), each `[n]`.
    #[fusion(meta = |p, _g, _m, _v, _lr, _d, _b1, _b2, _c1, _c2, _e, _c| (spec(p), spec(p), spec(p)))]
    fn adamw_update(
        p: FloatTensor<Self>,
        g: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        lr: f32,
        decay: f32,
        beta_1: f32,
        beta_2: f32,
        bc_1: f32,
        bc_2: f32,
        eps: f32,
        clip: f32,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

fn spec(p: &TensorSpec) -> TensorSpec {
    p.clone()
}

/// Elements per workgroup for a parameter of `n` elements: at most [`MAX_GROUPS`] groups, at
/// least [`MIN_CHUNK`] elements each, a multiple of the workgroup size.
pub fn chunk(n: usize) -> usize {
    n.div_ceil(MAX_GROUPS).max(MIN_CHUNK).div_ceil(THREADS) * THREADS
}

type CubeTensor = FloatTensor<CubeBackend>;

impl AdamWKernels for CubeBackend {
    fn adamw_update(
        p: CubeTensor,
        g: CubeTensor,
        m: CubeTensor,
        v: CubeTensor,
        lr: f32,
        decay: f32,
        beta_1: f32,
        beta_2: f32,
        bc_1: f32,
        bc_2: f32,
        eps: f32,
        clip: f32,
    ) -> (CubeTensor, CubeTensor, CubeTensor) {
        let n = p.meta.shape().num_elements();
        let empty = || empty_like(&p, p.meta.shape().clone());
        let (p_out, m_out, v_out) = (empty(), empty(), empty());
        if n == 0 {
            return (p_out, m_out, v_out);
        }
        let c = chunk(n);
        let args = StepArgsLaunch::new(
            n as u32, c as u32, lr, decay, beta_1, beta_2, bc_1, bc_2, eps, clip,
        );
        let dtype = burn::backend::cubecl::dtype_to_storage_type(p.dtype);
        let client = p.client.clone();
        adamw_kernel::launch(
            &client,
            CubeCount::Static(n.div_ceil(c) as u32, 1, 1),
            CubeDim::new_1d(THREADS as u32),
            into_contiguous(p).into_tensor_arg(),
            into_contiguous(g).into_tensor_arg(),
            into_contiguous(m).into_tensor_arg(),
            into_contiguous(v).into_tensor_arg(),
            p_out.clone().into_tensor_arg(),
            m_out.clone().into_tensor_arg(),
            v_out.clone().into_tensor_arg(),
            args,
            clip > 0.0,
            dtype,
        );
        (p_out, m_out, v_out)
    }
}
