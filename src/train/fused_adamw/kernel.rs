//! The AdamW update of one parameter in one kernel (CubeCL), with the gradient clipped to a
//! maximum norm first. Every workgroup computes the whole gradient's norm itself (a strided sum
//! of squares and a tree reduction in shared memory; the gradient is small enough to stay in
//! the GPU's cache across workgroups), then updates its own chunk of the parameter. So a step
//! of a parameter is one launch, where burn's clipping and AdamW took about six.

use cubecl::prelude::*;

/// Threads per workgroup.
pub const THREADS: usize = 256;

/// Halvings of the tree reduction (`log2(THREADS)`).
const LEVELS: usize = 8;

/// The step's scalars, as burn's `AdamW` and norm clipping compute them.
#[derive(CubeType, CubeLaunch, Clone, Copy, Debug)]
pub struct StepArgs {
    /// Elements of the parameter.
    pub n: u32,
    /// Elements per workgroup (a multiple of [`THREADS`]).
    pub chunk: u32,
    /// Learning rate.
    pub lr: f32,
    /// `1 − lr · weight_decay`: the decoupled weight decay's factor.
    pub decay: f32,
    /// Decay of the first moment.
    pub beta_1: f32,
    /// Decay of the second moment.
    pub beta_2: f32,
    /// `1 − β1ᵗ`: the first moment's bias correction.
    pub bc_1: f32,
    /// `1 − β2ᵗ`: the second moment's bias correction.
    pub bc_2: f32,
    /// Added to the denominator.
    pub eps: f32,
    /// Largest gradient norm (used when the kernel is compiled with clipping).
    pub clip: f32,
}

/// `p_out, m_out, v_out` from parameter `p`, gradient `g` and moments `m`, `v` (all `[n]`):
/// `g' = g · min(1, clip / (‖g‖ + tiny))`, `m' = β1·m + (1−β1)·g'`, `v' = β2·v + (1−β2)·g'²`,
/// `p' = p·decay − lr · (m' / bc_1) / (√(v' / bc_2) + ε)`. Grid: `⌈n / chunk⌉` workgroups of
/// [`THREADS`].
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn adamw_kernel<F: Float>(
    p: &Tensor<F>,
    g: &Tensor<F>,
    m: &Tensor<F>,
    v: &Tensor<F>,
    p_out: &mut Tensor<F>,
    m_out: &mut Tensor<F>,
    v_out: &mut Tensor<F>,
    s: StepArgs,
    #[comptime] clip: bool,
    #[define(F)] _dtype: ElemType,
) {
    let tid = UNIT_POS_X;
    let mut coef = F::new(1.0);
    // A compile-time branch: barriers must sit in uniform control flow.
    if comptime!(clip) {
        let mut acc = F::new(0.0);
        let mut i = tid;
        while i < s.n {
            let x = g[i as usize];
            acc += x * x;
            i += THREADS as u32;
        }
        let mut sums = Shared::<[F]>::new_slice(THREADS);
        sums[tid as usize] = acc;
        sync_cube();
        #[unroll]
        for level in 0..LEVELS {
            let stride = comptime!(THREADS >> (level + 1)) as u32;
            if tid < stride {
                let other = sums[(tid + stride) as usize];
                sums[tid as usize] += other;
            }
            sync_cube();
        }
        let norm = sums[0].sqrt();
        // burn's clipping: threshold / (norm + the smallest positive float), at most 1.
        let c = F::cast_from(s.clip) / (norm + F::new(f32::MIN_POSITIVE));
        coef = select(c < F::new(1.0), c, F::new(1.0));
    }
    let b1 = F::cast_from(s.beta_1);
    let b2 = F::cast_from(s.beta_2);
    let start = CUBE_POS_X * s.chunk;
    let end = (start + s.chunk).min(s.n);
    let mut i = start + tid;
    while i < end {
        let at = i as usize;
        let gi = g[at] * coef;
        let mi = m[at] * b1 + gi * (F::new(1.0) - b1);
        let vi = v[at] * b2 + gi * gi * (F::new(1.0) - b2);
        let m_hat = mi / F::cast_from(s.bc_1);
        let v_hat = vi / F::cast_from(s.bc_2);
        let delta = m_hat / (v_hat.sqrt() + F::cast_from(s.eps));
        p_out[at] = p[at] * F::cast_from(s.decay) - delta * F::cast_from(s.lr);
        m_out[at] = mi;
        v_out[at] = vi;
        i += THREADS as u32;
    }
}
