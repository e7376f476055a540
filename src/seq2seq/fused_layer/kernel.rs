//! The fused decoder layer's kernel: one workgroup runs one hypothesis through a whole layer.

use cubecl::prelude::*;

use super::blocks::{dot, project_add, project_shared, rms_norm, softmax_rows};

/// Shapes of one launch, all fixed when the kernel is compiled.
#[derive(CubeType, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct LayerDims {
    /// Target tokens per hypothesis.
    pub(super) t: usize,
    /// Model width.
    pub(super) d: usize,
    /// Attention heads.
    pub(super) heads: usize,
    /// Width of a head.
    pub(super) dh: usize,
    /// Feed-forward width.
    pub(super) dff: usize,
    /// Shared-memory room for one row of cross-attention scores (≥ the history's length).
    pub(super) src_cap: usize,
    /// Threads per workgroup.
    pub(super) threads: usize,
    /// Projections' scratch in shared memory (else in device memory).
    pub(super) shared_scratch: bool,
}

/// One decoder layer of hypothesis `row`: its states come from `x` and go to `out` (`[n, t, d]`);
/// weights as burn's `Linear` stores them (`[in, out]`); `ck`, `cv`: `[queries, heads, src, dh]`
/// (any strides), the `n / queries` hypotheses of a query consecutive; `sbias`:
/// `[1, heads, t, t]`; `cbias`: `[queries, 1, 1, src]` (any strides). `scratch` holds the row's
/// projections from `base` on (`scratch_len` floats): shared memory or device memory.
#[cube]
#[allow(clippy::too_many_arguments)]
fn layer_row<F: Float, S: List<F> + ?Sized>(
    row: usize,
    x: &Tensor<F>,
    g1: &Tensor<F>,
    wq: &Tensor<F>,
    wk: &Tensor<F>,
    wv: &Tensor<F>,
    wo: &Tensor<F>,
    g2: &Tensor<F>,
    cq: &Tensor<F>,
    co: &Tensor<F>,
    g3: &Tensor<F>,
    wi: &Tensor<F>,
    wf: &Tensor<F>,
    ck: &Tensor<F>,
    cv: &Tensor<F>,
    sbias: &Tensor<F>,
    cbias: &Tensor<F>,
    scratch: &mut S,
    base: usize,
    out: &mut Tensor<F>,
    #[comptime] dims: LayerDims,
) {
    let t = dims.t;
    let d = dims.d;
    let heads = dims.heads;
    let dh = dims.dh;
    let dff = dims.dff;
    let threads = dims.threads;
    let tid = UNIT_POS_X as usize;
    let inner = comptime!(dims.heads * dims.dh);
    let queries = ck.shape(0);
    let q = row / (x.shape(0) / queries);
    let src = ck.shape(2);
    let scale = F::new(comptime!(1.0f32 / (dims.dh as f32).sqrt()));
    // Scratch regions of this row: Q, K, V (or the feed-forward hidden layer), then attention out.
    let off_k = base + t * inner;
    let off_v = base + 2 * t * inner;
    let off_a = base
        + comptime!(if 3 * dims.heads * dims.dh > dims.dff {
            3 * dims.t * dims.heads * dims.dh
        } else {
            dims.t * dims.dff
        });

    let mut xs = Shared::new_slice(t * d);
    let mut hs = Shared::new_slice(t * d);
    let mut red = Shared::new_slice(t);
    let mut ss = Shared::new_slice(heads * t * t);
    let mut cs = Shared::new_slice(t * dims.src_cap);
    let mut part = Shared::new_slice(threads);

    let mut e = tid;
    while e < t * d {
        xs[e] = x[row * t * d + e];
        e += threads;
    }
    sync_cube();

    // Self-attention.
    rms_norm::<F>(&xs, &mut hs, &mut red, g1, t, d, threads);
    project_shared::<F, S>(&mut hs, wq, scratch, base, t, d, inner, false, threads);
    project_shared::<F, S>(&mut hs, wk, scratch, off_k, t, d, inner, false, threads);
    project_shared::<F, S>(&mut hs, wv, scratch, off_v, t, d, inner, false, threads);
    sync_storage();
    let mut e = tid;
    while e < heads * t * t {
        let h = e / (t * t);
        let i = (e / t) % t;
        let j = e % t;
        let mut acc = F::new(0.0);
        for c in 0..dh {
            acc += scratch[base + i * inner + h * dh + c] * scratch[off_k + j * inner + h * dh + c];
        }
        ss[e] =
            acc * scale + sbias[h * sbias.stride(1) + i * sbias.stride(2) + j * sbias.stride(3)];
        e += threads;
    }
    sync_cube();
    // One row of t scores per (head, token).
    softmax_rows::<F>(&mut ss, &mut part, t, heads * t, t, threads);
    let mut e = tid;
    while e < t * inner {
        let i = e / inner;
        let col = e % inner;
        let h = col / dh;
        let mut acc = F::new(0.0);
        for j in 0..t {
            acc += ss[(h * t + i) * t + j] * scratch[off_v + j * inner + col];
        }
        scratch[off_a + e] = acc;
        e += threads;
    }
    sync_storage();
    project_add::<F, S>(scratch, off_a, wo, &mut xs, &mut part, t, inner, d, threads);
    sync_cube();

    // Cross-attention over the query's history, one head at a time.
    rms_norm::<F>(&xs, &mut hs, &mut red, g2, t, d, threads);
    project_shared::<F, S>(&mut hs, cq, scratch, base, t, d, inner, false, threads);
    sync_storage();
    for h in 0..heads {
        let kh = q * ck.stride(0) + h * ck.stride(1);
        let vh = q * cv.stride(0) + h * cv.stride(1);
        let mut e = tid;
        while e < t * src {
            let i = e / src;
            let j = e % src;
            let acc = dot::<F, S, Tensor<F>>(
                scratch,
                base + i * inner + h * dh,
                1,
                ck,
                kh + j * ck.stride(2),
                ck.stride(3),
                dh,
            );
            cs[i * dims.src_cap + j] =
                acc * scale + cbias[q * cbias.stride(0) + j * cbias.stride(3)];
            e += threads;
        }
        sync_cube();
        softmax_rows::<F>(&mut cs, &mut part, src, t, dims.src_cap, threads);
        let mut e = tid;
        while e < t * dh {
            let i = e / dh;
            let c = e % dh;
            let acc = dot::<F, Shared<[F]>, Tensor<F>>(
                &mut cs,
                i * dims.src_cap,
                1,
                cv,
                vh + c * cv.stride(3),
                cv.stride(2),
                src,
            );
            scratch[off_a + i * inner + h * dh + c] = acc;
            e += threads;
        }
        sync_cube();
    }
    sync_storage();
    project_add::<F, S>(scratch, off_a, co, &mut xs, &mut part, t, inner, d, threads);
    sync_cube();

    // Feed-forward.
    rms_norm::<F>(&xs, &mut hs, &mut red, g3, t, d, threads);
    project_shared::<F, S>(&mut hs, wi, scratch, base, t, d, dff, true, threads);
    sync_storage();
    project_add::<F, S>(scratch, base, wf, &mut xs, &mut part, t, dff, d, threads);
    sync_cube();

    let mut e = tid;
    while e < t * d {
        out[row * t * d + e] = xs[e];
        e += threads;
    }
}

/// One decoder layer, one workgroup per row (a second grid dimension past 65,535 rows): arguments
/// as in [`layer_row`]. The scratch is in shared memory when `dims.shared_scratch` (then `scratch`
/// is a placeholder), else in `scratch` (`[n, scratch_len]`, device memory).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub(super) fn decoder_layer_kernel<F: Float>(
    x: &Tensor<F>,
    g1: &Tensor<F>,
    wq: &Tensor<F>,
    wk: &Tensor<F>,
    wv: &Tensor<F>,
    wo: &Tensor<F>,
    g2: &Tensor<F>,
    cq: &Tensor<F>,
    co: &Tensor<F>,
    g3: &Tensor<F>,
    wi: &Tensor<F>,
    wf: &Tensor<F>,
    ck: &Tensor<F>,
    cv: &Tensor<F>,
    sbias: &Tensor<F>,
    cbias: &Tensor<F>,
    scratch: &mut Tensor<F>,
    out: &mut Tensor<F>,
    #[comptime] dims: LayerDims,
    #[define(F)] _dtype: ElemType,
) {
    let row = CUBE_POS_Y as usize * CUBE_COUNT_X as usize + CUBE_POS_X as usize;
    if row >= x.shape(0) {
        terminate!();
    }
    if dims.shared_scratch {
        let mut local = Shared::new_slice(comptime!(scratch_len(
            dims.t,
            dims.heads * dims.dh,
            dims.dff
        )));
        layer_row::<F, Shared<[F]>>(
            row, x, g1, wq, wk, wv, wo, g2, cq, co, g3, wi, wf, ck, cv, sbias, cbias, &mut local,
            0, out, dims,
        );
    } else {
        let base = row * scratch.shape(1);
        layer_row::<F, Tensor<F>>(
            row, x, g1, wq, wk, wv, wo, g2, cq, co, g3, wi, wf, ck, cv, sbias, cbias, scratch,
            base, out, dims,
        );
    }
}

/// Floats of scratch each hypothesis needs.
pub(super) fn scratch_len(t: usize, inner: usize, dff: usize) -> usize {
    (3 * t * inner).max(t * dff) + t * inner
}
