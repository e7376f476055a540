//! One Adam update of one parameter as one GPU operation (CubeCL, compiled to WGSL by burn-wgpu).
//!
//! burn's Adam and AdamW write an update as about thirteen tensor operations per parameter (two
//! moment updates, bias corrections, a square root, a division, the step). Fusion merges them into
//! one kernel, but each operation still costs the host its recording and planning, and training
//! on burn-wgpu is bound by that host work (docs/benchmarks.md, issue 5). Here the whole update is
//! one backend operation: a thread per element reads the parameter, its gradient and both moments
//! and writes the new parameter and moments into one `[3 · rows, …]` tensor, which the optimiser
//! slices (views, no copies) into the three.

use burn::backend::cubecl::dtype_to_storage_type;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Shape;
use burn::tensor::Tensor as BurnTensor;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use cubecl::prelude::*;

/// Threads per workgroup.
const THREADS: usize = 256;
/// Workgroups per grid dimension that every Vulkan device allows; more use a second dimension.
const MAX_GROUPS_X: usize = 65_535;

/// The scalars of one update (the host computes the bias corrections for the step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamScalars {
    /// Decay of the first moment (β₁).
    pub beta_1: f32,
    /// Decay of the second moment (β₂).
    pub beta_2: f32,
    /// `1 / (1 − β₁ᵗ)`.
    pub correct_1: f32,
    /// `1 / (1 − β₂ᵗ)`.
    pub correct_2: f32,
    /// Added to the corrected second moment's square root.
    pub epsilon: f32,
    /// Learning rate.
    pub lr: f32,
    /// Factor on the parameter before the step: `1 − lr · weight decay` (AdamW), 1 for Adam.
    pub keep: f32,
}

impl AdamScalars {
    /// The scalars as bit patterns (backend operations take plain integers).
    fn bits(&self) -> [usize; 7] {
        [
            self.beta_1,
            self.beta_2,
            self.correct_1,
            self.correct_2,
            self.epsilon,
            self.lr,
            self.keep,
        ]
        .map(|v| v.to_bits() as usize)
    }
}

/// One thread per element `i` of `p` (all inputs contiguous, `n` elements each):
/// `m' = β₁ m + (1 − β₁) g`, `v' = β₂ v + (1 − β₂) g²`,
/// `p' = keep · p − lr · (m' c₁) / (√(v' c₂) + ε)`; writes `out[i] = p'`, `out[n + i] = m'`,
/// `out[2n + i] = v'`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn adam_kernel<F: Float>(
    p: &Tensor<F>,
    g: &Tensor<F>,
    m: &Tensor<F>,
    v: &Tensor<F>,
    out: &mut Tensor<F>,
    beta_1: f32,
    beta_2: f32,
    correct_1: f32,
    correct_2: f32,
    epsilon: f32,
    lr: f32,
    keep: f32,
    #[define(F)] _dtype: ElemType,
) {
    let group = CUBE_POS_Y as usize * CUBE_COUNT_X as usize + CUBE_POS_X as usize;
    let i = group * comptime!(THREADS) + UNIT_POS_X as usize;
    let n = p.len();
    if i >= n {
        terminate!();
    }
    let gi = g[i];
    let mi = F::cast_from(beta_1) * m[i] + F::cast_from(1.0f32 - beta_1) * gi;
    let vi = F::cast_from(beta_2) * v[i] + F::cast_from(1.0f32 - beta_2) * gi * gi;
    let step = (mi * F::cast_from(correct_1))
        / ((vi * F::cast_from(correct_2)).sqrt() + F::cast_from(epsilon));
    out[i] = F::cast_from(keep) * p[i] - F::cast_from(lr) * step;
    out[n + i] = mi;
    out[2 * n + i] = vi;
}

/// `[3 · rows, …]` for a parameter of shape `p`.
fn packed_shape(p: &Shape) -> Shape {
    let mut dims: Vec<usize> = p.iter().copied().collect();
    if let Some(first) = dims.first_mut() {
        *first *= 3;
    }
    Shape::from(dims)
}

/// The update as a backend operation, so that burn's fusion stream orders it with the operations
/// around it.
#[backend_extension(Cube, Fusion)]
#[allow(clippy::too_many_arguments)]
pub trait AdamOps: Backend {
    /// `p`, `g`, `m`, `v` (one shape) and the scalars' bit patterns ([`AdamScalars`] in field
    /// order) → `[3 · rows, …]`: the new parameter, then the new first and second moments.
    #[fusion(dtype = p, shape = packed_shape(p))]
    fn adam_update(
        p: FloatTensor<Self>,
        g: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        beta_1: usize,
        beta_2: usize,
        correct_1: usize,
        correct_2: usize,
        epsilon: usize,
        lr: usize,
        keep: usize,
    ) -> FloatTensor<Self>;
}

impl AdamOps for CubeBackend {
    fn adam_update(
        p: FloatTensor<Self>,
        g: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        beta_1: usize,
        beta_2: usize,
        correct_1: usize,
        correct_2: usize,
        epsilon: usize,
        lr: usize,
        keep: usize,
    ) -> FloatTensor<Self> {
        let [p, g, m, v] = [p, g, m, v].map(into_contiguous);
        let out = empty_device_contiguous_dtype(
            p.client.clone(),
            p.device.clone(),
            packed_shape(&p.meta.shape()),
            p.dtype,
        );
        let n = p.meta.shape().num_elements();
        if n == 0 {
            return out;
        }
        let f = |bits: usize| f32::from_bits(bits as u32);
        let groups = n.div_ceil(THREADS);
        let x = groups.min(MAX_GROUPS_X);
        adam_kernel::launch(
            &out.client,
            CubeCount::Static(x as u32, groups.div_ceil(x) as u32, 1),
            CubeDim::new_1d(THREADS as u32),
            p.into_tensor_arg(),
            g.into_tensor_arg(),
            m.into_tensor_arg(),
            v.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            f(beta_1),
            f(beta_2),
            f(correct_1),
            f(correct_2),
            f(epsilon),
            f(lr),
            f(keep),
            dtype_to_storage_type(out.dtype),
        );
        out
    }
}

/// One update on burn's cube backend (the caller checks the device): returns the new parameter and
/// moments, each of `p`'s shape and each a view into one new tensor.
pub fn update<const D: usize>(
    p: BurnTensor<D>,
    g: BurnTensor<D>,
    m: BurnTensor<D>,
    v: BurnTensor<D>,
    s: &AdamScalars,
) -> (BurnTensor<D>, BurnTensor<D>, BurnTensor<D>) {
    let rows = p.dims().first().copied().unwrap_or(1);
    let [b1, b2, c1, c2, eps, lr, keep] = s.bits();
    let out = <Dispatch as AdamOps>::adam_update(
        p.into_dispatch(),
        g.into_dispatch(),
        m.into_dispatch(),
        v.into_dispatch(),
        b1,
        b2,
        c1,
        c2,
        eps,
        lr,
        keep,
    );
    let out = BurnTensor::<D>::from_dispatch(out);
    let part = |k: usize| out.clone().narrow(0, k * rows, rows);
    (part(0), part(1), part(2))
}
