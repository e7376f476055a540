//! RMSNorm forward and backward kernels (CubeCL). A row of `d` floats is `d / 4` vectors, one per
//! thread, so a 256-thread workgroup holds `256 / (d / 4)` rows (8 at the recommender's
//! `d_model` 128) and every load is coalesced; a row's sums are tree reductions in shared memory
//! over its threads.

use cubecl::prelude::*;

pub use crate::flash::kernels::F4;
use crate::flash::kernels::hsum;

/// Threads per workgroup.
pub const THREADS: usize = 256;

/// The sum of `value` over the `d4` threads of this thread's row (`lane` its place in the row),
/// through `sums` (one slot per thread); every thread of the row gets the total.
#[cube]
fn row_sum<F: Float>(value: F, lane: u32, sums: &mut Shared<[F]>, #[comptime] d4: usize) -> F {
    let tid = UNIT_POS_X as usize;
    sums[tid] = value;
    sync_cube();
    #[unroll]
    for level in 0..comptime!(d4.trailing_zeros() as usize) {
        let stride = comptime!(d4 >> (level + 1)) as u32;
        if lane < stride {
            let other = sums[tid + stride as usize];
            sums[tid] += other;
        }
        sync_cube();
    }
    let total = sums[tid - lane as usize];
    sync_cube();
    total
}

/// `y = (x / rms) · γ` with `rms = √(mean(x²) + ε)` over each row of `x` (`rows × d`,
/// contiguous); writes `rms` (`[rows]`) for the backward. Grid: `⌈rows / (THREADS / d4)⌉`
/// workgroups of [`THREADS`].
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn forward_kernel<F: Float>(
    x: &Tensor<F4<F>>,
    gamma: &Tensor<F4<F>>,
    y: &mut Tensor<F4<F>>,
    rms: &mut Tensor<F>,
    rows: u32,
    eps: f32,
    #[comptime] d4: usize,
    #[define(F)] _dtype: ElemType,
) {
    let per = comptime!(THREADS / d4) as u32;
    let lane = UNIT_POS_X % d4 as u32;
    let row = CUBE_POS_X * per + UNIT_POS_X / d4 as u32;
    let at = (row * d4 as u32 + lane) as usize;
    let mut v = F4::<F>::new(F::new(0.0));
    if row < rows {
        v = x[at];
    }
    let mut sums = Shared::<[F]>::new_slice(THREADS);
    let total = row_sum::<F>(hsum::<F>(v * v), lane, &mut sums, d4);
    let r = (total / F::new(comptime!((4 * d4) as f32)) + F::cast_from(eps)).sqrt();
    if row < rows {
        y[at] = (v / F4::<F>::new(r)) * gamma[lane as usize];
        if lane == 0 {
            rms[row as usize] = r;
        }
    }
}

/// From `dy`, `x`, `γ` and the forward's `rms`: `dx = (g − x̂ · mean(g · x̂)) / rms` with
/// `x̂ = x / rms`, `g = dy · γ`, and each workgroup's share of `dγ = Σ_rows dy · x̂` in
/// `dgamma_parts` (`[groups, d]`). The workgroups stride over the rows. Grid: `groups`
/// workgroups of [`THREADS`].
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn backward_kernel<F: Float>(
    x: &Tensor<F4<F>>,
    gamma: &Tensor<F4<F>>,
    rms: &Tensor<F>,
    dy: &Tensor<F4<F>>,
    dx: &mut Tensor<F4<F>>,
    dgamma_parts: &mut Tensor<F4<F>>,
    rows: u32,
    #[comptime] d4: usize,
    #[define(F)] _dtype: ElemType,
) {
    let per = comptime!(THREADS / d4) as u32;
    let lane = UNIT_POS_X % d4 as u32;
    let seg = UNIT_POS_X / d4 as u32;
    let g = gamma[lane as usize];
    let zero = F4::<F>::new(F::new(0.0));
    let mut dg = zero;
    let mut sums = Shared::<[F]>::new_slice(THREADS);
    let mut block = CUBE_POS_X;
    // Whole blocks of rows per workgroup, so every thread reaches every barrier.
    let blocks = (rows + per - 1) / per;
    while block < blocks {
        let row = block * per + seg;
        let at = (row * d4 as u32 + lane) as usize;
        let (mut xv, mut dyv, mut r) = (zero, zero, F::new(1.0));
        if row < rows {
            xv = x[at];
            dyv = dy[at];
            r = rms[row as usize];
        }
        let xh = xv / F4::<F>::new(r);
        let gx = dyv * g;
        let dot = row_sum::<F>(hsum::<F>(gx * xh), lane, &mut sums, d4);
        let mean = dot / F::new(comptime!((4 * d4) as f32));
        if row < rows {
            dx[at] = (gx - xh * F4::<F>::new(mean)) / F4::<F>::new(r);
        }
        dg += dyv * xh;
        block += CUBE_COUNT_X;
    }
    // The workgroup's rows' shares of dγ, summed over its row segments.
    let mut parts = Shared::<[F4<F>]>::new_slice(THREADS);
    parts[UNIT_POS_X as usize] = dg;
    sync_cube();
    if seg == 0 {
        let mut s = parts[lane as usize];
        let mut k = 1u32;
        while k < per {
            s += parts[(k * d4 as u32 + lane) as usize];
            k += 1;
        }
        dgamma_parts[(CUBE_POS_X * d4 as u32 + lane) as usize] = s;
    }
}
