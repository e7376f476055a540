//! The fused kernels' projections: RMSNorm then projections of a row with its outputs spread over
//! several workgroups (the first layer's queries, keys and values from the token embeddings, the
//! history's cross-attention keys and values), and the blocks a layer kernel ends with (the next
//! layer's projections, the output layer's beam scores).

use cubecl::prelude::*;

use super::blocks::{dot, reduce_group, rms_norm};

/// Shapes of a [`norm_project_kernel`] or [`embed_project_kernel`] launch, fixed when it is
/// compiled.
#[derive(CubeType, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct ProjDims {
    /// Model width.
    pub(super) d: usize,
    /// Outputs of each projection.
    pub(super) inner: usize,
    /// Projections (at most 8).
    pub(super) parts: usize,
    /// Threads per workgroup, one output each.
    pub(super) threads: usize,
}

/// Row `r` of `x` (`[sequences, len, d]`, contiguous; `rows` = sequences × len) RMS-normed with
/// `g` (`[d]`), then projected by the first `parts` of `w0` … `w7` (each `[d, inner]`, as burn's
/// `Linear` stores them; the others are not read) into `out` (`[parts, rows, inner]`). Workgroup
/// `(x, y, z)` takes row `y · count_x + x` and outputs `z · threads ..`: a row's outputs spread
/// over several workgroups.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub(super) fn norm_project_kernel<F: Float>(
    x: &Tensor<F>,
    g: &Tensor<F>,
    w0: &Tensor<F>,
    w1: &Tensor<F>,
    w2: &Tensor<F>,
    w3: &Tensor<F>,
    w4: &Tensor<F>,
    w5: &Tensor<F>,
    w6: &Tensor<F>,
    w7: &Tensor<F>,
    out: &mut Tensor<F>,
    #[comptime] dims: ProjDims,
    #[define(F)] _dtype: ElemType,
) {
    let rows = x.shape(0) * x.shape(1);
    let r = CUBE_POS_Y as usize * CUBE_COUNT_X as usize + CUBE_POS_X as usize;
    if r >= rows {
        terminate!();
    }
    let d = dims.d;
    let inner = dims.inner;
    let tid = UNIT_POS_X as usize;
    let mut xs = Shared::new_slice(d);
    let mut hs = Shared::new_slice(d);
    let mut red = Shared::new_slice(1usize);
    let mut part = Shared::new_slice(dims.threads);
    let mut e = tid;
    while e < d {
        xs[e] = x[r * d + e];
        e += dims.threads;
    }
    sync_cube();
    rms_norm::<F>(
        &xs,
        &mut hs,
        &mut red,
        &mut part,
        g,
        1usize,
        d,
        dims.threads,
    );
    let c = CUBE_POS_Z as usize * dims.threads + tid;
    if c < dims.parts * inner {
        let p = c / inner;
        let col = c % inner;
        let acc = if p < 3 {
            project_one::<F>(&mut hs, w0, w1, w2, c, inner, d)
        } else if p < 6 {
            project_one::<F>(&mut hs, w3, w4, w5, c - 3 * inner, inner, d)
        } else {
            project_one::<F>(&mut hs, w6, w7, w7, c - 6 * inner, inner, d)
        };
        out[(p * rows + r) * inner + col] = acc;
    }
}

/// Row `r`'s token embedding (row `ids[off + r]` of `table`, `[vocab, d]`; ids are floats holding
/// integers) and its RMSNorm (scale `g`) projected by `w0`, `w1`, `w2` (`[d, inner]`): `out`
/// (`[sequences, len, d + 3 · inner]`) gets `[x | x̂·w0 | x̂·w1 | x̂·w2]` per row, the layout a
/// layer kernel reads. Workgroups as in [`norm_project_kernel`]; the first of a row writes `x`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub(super) fn embed_project_kernel<F: Float>(
    table: &Tensor<F>,
    ids: &Tensor<F>,
    g: &Tensor<F>,
    w0: &Tensor<F>,
    w1: &Tensor<F>,
    w2: &Tensor<F>,
    out: &mut Tensor<F>,
    off: u32,
    #[comptime] dims: ProjDims,
    #[define(F)] _dtype: ElemType,
) {
    let rows = out.shape(0) * out.shape(1);
    let r = CUBE_POS_Y as usize * CUBE_COUNT_X as usize + CUBE_POS_X as usize;
    if r >= rows {
        terminate!();
    }
    let d = dims.d;
    let inner = dims.inner;
    let width = out.shape(2);
    let tid = UNIT_POS_X as usize;
    let mut xs = Shared::new_slice(d);
    let mut hs = Shared::new_slice(d);
    let mut red = Shared::new_slice(1usize);
    let mut part = Shared::new_slice(dims.threads);
    let id = u32::cast_from(ids[off as usize + r]) as usize;
    let mut e = tid;
    while e < d {
        xs[e] = table[id * d + e];
        if CUBE_POS_Z == 0 {
            out[r * width + e] = xs[e];
        }
        e += dims.threads;
    }
    sync_cube();
    rms_norm::<F>(
        &xs,
        &mut hs,
        &mut red,
        &mut part,
        g,
        1usize,
        d,
        dims.threads,
    );
    let c = CUBE_POS_Z as usize * dims.threads + tid;
    if c < 3 * inner {
        out[r * width + d + c] = project_one::<F>(&mut hs, w0, w1, w2, c, inner, d);
    }
}

/// Output `c` of `[h·w0 | h·w1 | h·w2]` (each `[d, inner]`).
#[cube]
#[allow(clippy::too_many_arguments)]
pub(super) fn project_one<F: Float>(
    hs: &mut Shared<[F]>,
    w0: &Tensor<F>,
    w1: &Tensor<F>,
    w2: &Tensor<F>,
    c: usize,
    #[comptime] inner: usize,
    #[comptime] d: usize,
) -> F {
    let p = c / inner;
    let col = c % inner;
    if p == 0 {
        dot::<F, Shared<[F]>, Tensor<F>>(hs, 0, 1, w0, col, inner, d)
    } else if p == 1 {
        dot::<F, Shared<[F]>, Tensor<F>>(hs, 0, 1, w1, col, inner, d)
    } else {
        dot::<F, Shared<[F]>, Tensor<F>>(hs, 0, 1, w2, col, inner, d)
    }
}

/// Beam scores of one hypothesis from its normed last row `hs`: logits over the whole vocabulary
/// by `w` (`[d, vocab]`), log-softmax, and for the position's `width` values from `start`:
/// `out[n, j] = (log p(start + j) + add[1 + j]) + add[0]`, where `add` is hypothesis `n`'s row of
/// the `[n, 1 + width]` block of `step` from `add_off` (its score and the constraint mask).
/// `win` holds `width` floats, `part` one per thread.
#[cube]
#[allow(clippy::too_many_arguments)]
pub(super) fn head_row<F: Float>(
    hs: &mut Shared<[F]>,
    w: &Tensor<F>,
    step: &Tensor<F>,
    add_off: usize,
    n: usize,
    win: &mut Shared<[F]>,
    part: &mut Shared<[F]>,
    out: &mut Tensor<F>,
    #[comptime] d: usize,
    #[comptime] start: usize,
    #[comptime] width: usize,
    #[comptime] threads: usize,
) {
    let tid = UNIT_POS_X as usize;
    let vocab = w.shape(1);
    // Each thread's logits: a running maximum and the sum of exponentials below it.
    let mut m = F::min_value();
    let mut s = F::new(0.0);
    let mut v = tid;
    while v < vocab {
        let l = dot::<F, Shared<[F]>, Tensor<F>>(hs, 0, 1, w, v, vocab, d);
        if v >= start && v < start + width {
            win[v - start] = l;
        }
        if l > m {
            s = s * (m - l).exp() + F::new(1.0);
            m = l;
        } else {
            s += (l - m).exp();
        }
        v += threads;
    }
    let top = reduce_group::<F>(part, m, 0, tid, true, threads, threads, true);
    let sum = reduce_group::<F>(
        part,
        s * (m - top).exp(),
        0,
        tid,
        true,
        threads,
        threads,
        false,
    );
    let log_sum = sum.ln();
    let add = add_off + n * (width + 1);
    let mut j = tid;
    while j < width {
        let logp = (win[j] - top) - log_sum;
        out[n * width + j] = (logp + step[add + 1 + j]) + step[add];
        j += threads;
    }
}
