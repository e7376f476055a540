//! The fused transformer kernels: one workgroup per token row (per row and block of outputs for
//! the projections), so that a layer of a single beam-search query spreads over as many of the
//! GPU's cores as it has rows.

use cubecl::prelude::*;

use super::blocks::{
    BiasTerms, KeyLayout, attend, dot, project_add, project_shared, reduce_group, rms_norm,
};

/// Shapes of a [`norm_project_kernel`] launch, fixed when it is compiled.
#[derive(CubeType, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct ProjDims {
    /// Model width.
    pub(super) d: usize,
    /// Outputs of each projection.
    pub(super) inner: usize,
    /// Projections (2 or 3).
    pub(super) parts: usize,
    /// Threads per workgroup, one output each.
    pub(super) threads: usize,
}

/// Row `r` of `x` (`[sequences, len, d]`, contiguous; `rows` = sequences × len) RMS-normed with `g` (`[d]`), then projected by `w0`,
/// `w1` and (when `parts` is 3) `w2` (each `[d, inner]`, as burn's `Linear` stores them) into
/// `out` (`[parts, rows, inner]`). Workgroup `(x, y, z)` takes row
/// `y · count_x + x` and outputs `z · threads ..`: a row's outputs spread over several workgroups.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub(super) fn norm_project_kernel<F: Float>(
    x: &Tensor<F>,
    g: &Tensor<F>,
    w0: &Tensor<F>,
    w1: &Tensor<F>,
    w2: &Tensor<F>,
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
        let acc = if p == 0 {
            dot::<F, Shared<[F]>, Tensor<F>>(&mut hs, 0, 1, w0, col, inner, d)
        } else if p == 1 {
            dot::<F, Shared<[F]>, Tensor<F>>(&mut hs, 0, 1, w1, col, inner, d)
        } else {
            dot::<F, Shared<[F]>, Tensor<F>>(&mut hs, 0, 1, w2, col, inner, d)
        };
        out[(p * rows + r) * inner + col] = acc;
    }
}

/// Shapes of an [`attend_rest_kernel`] launch, fixed when it is compiled.
#[derive(CubeType, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct RestDims {
    /// Model width.
    pub(super) d: usize,
    /// Attention heads.
    pub(super) heads: usize,
    /// Width of a head.
    pub(super) dh: usize,
    /// Feed-forward width.
    pub(super) dff: usize,
    /// Room for one head's scores (≥ the longest key sequence).
    pub(super) cap: usize,
    /// Threads per workgroup.
    pub(super) threads: usize,
    /// A decoder layer (cross-attention between self-attention and the feed-forward).
    pub(super) cross: bool,
}

/// The rest of a layer for row `r` once its queries, keys and values are projected
/// ([`norm_project_kernel`]): self-attention over its sequence's rows, output projection and
/// residual; for a decoder, RMSNorm, cross-attention over its query's history and residual; then
/// RMSNorm, ReLU feed-forward and residual.
///
/// `x`: `[sequences, len, d]` (the layer's input, contiguous); `qkv`: `[3, rows, inner]`
/// (contiguous); `wo` `[inner, d]`; self-attention's bias from `table` (`[buckets, heads]`) at the
/// buckets of the line at `aux[line_off ..]` (`line_len` = 2 · L − 1 entries, `L` ≥ `len`; see
/// `RelativeBias::bucket_line`), plus, in an encoder, the key mask of each sequence at
/// `aux[key_off + sequence · len ..]` (0 or −1e9) or, in a decoder, the causal mask;
/// cross-attention (decoder only): `g2` `[d]`, `cq` `[d, inner]`, `co` `[inner, d]`, `ckv`
/// `[2, queries · src, inner]` (keys then values; the sequences of a query consecutive), with each
/// query's key mask at `aux[key_off + query · src ..]`; feed-forward: `gf` `[d]`, `wi`
/// `[d, dff]`, `wf` `[dff, d]` → `out` `[sequences, len, d]`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub(super) fn attend_rest_kernel<F: Float>(
    x: &Tensor<F>,
    qkv: &Tensor<F>,
    wo: &Tensor<F>,
    table: &Tensor<F>,
    aux: &Tensor<F>,
    g2: &Tensor<F>,
    cq: &Tensor<F>,
    co: &Tensor<F>,
    ckv: &Tensor<F>,
    gf: &Tensor<F>,
    wi: &Tensor<F>,
    wf: &Tensor<F>,
    out: &mut Tensor<F>,
    key_off: u32,
    src: u32,
    line_off: u32,
    line_len: u32,
    #[comptime] dims: RestDims,
    #[define(F)] _dtype: ElemType,
) {
    let len = x.shape(1);
    let key_off = key_off as usize;
    let lbase = line_off as usize + (line_len as usize - 1) / 2;
    let rows = x.shape(0) * len;
    let r = CUBE_POS_Y as usize * CUBE_COUNT_X as usize + CUBE_POS_X as usize;
    if r >= rows {
        terminate!();
    }
    let d = dims.d;
    let dh = dims.dh;
    let heads = dims.heads;
    let threads = dims.threads;
    let inner = comptime!(dims.heads * dims.dh);
    let tid = UNIT_POS_X as usize;
    let seq = r / len;
    let i = r % len;
    let mut xs = Shared::new_slice(d);
    let mut hs = Shared::new_slice(d);
    let mut red = Shared::new_slice(1usize);
    let mut qs = Shared::new_slice(inner);
    let mut at = Shared::new_slice(inner);
    let mut fs = Shared::new_slice(dims.dff);
    let mut ss = Shared::new_slice(comptime!(dims.heads * dims.cap));
    let mut part = Shared::new_slice(threads);
    let mut e = tid;
    while e < d {
        xs[e] = x[r * d + e];
        e += threads;
    }
    let mut e = tid;
    while e < inner {
        qs[e] = qkv[r * inner + e];
        e += threads;
    }
    sync_cube();

    // Self-attention over the rows of this sequence.
    let first = seq * len * inner;
    let layout = KeyLayout {
        kbase: rows * inner + first,
        kj: inner,
        kh: dh,
        kc: 1,
        vbase: 2 * rows * inner + first,
        vj: inner,
        vh: dh,
        vc: 1,
        kbias: key_off + seq * len,
        lbase,
    };
    let terms = comptime!(BiasTerms {
        relative: true,
        key: !dims.cross,
        causal: dims.cross,
    });
    attend::<F>(
        &mut qs, qkv, qkv, table, aux, layout, i, len, &mut ss, &mut part, &mut at, heads, dh,
        dims.cap, threads, terms,
    );
    project_add::<F, Shared<[F]>>(
        &mut at, 0usize, wo, &mut xs, &mut part, 1usize, inner, d, threads,
    );
    sync_cube();

    if dims.cross {
        // Cross-attention over the query's history.
        let src = src as usize;
        let memory = ckv.shape(1);
        let queries = memory / src;
        let q = seq / (x.shape(0) / queries);
        rms_norm::<F>(&xs, &mut hs, &mut red, &mut part, g2, 1usize, d, threads);
        project_shared::<F, Shared<[F]>>(
            &mut hs, cq, &mut qs, 0usize, 1usize, d, inner, false, threads,
        );
        sync_cube();
        let layout = KeyLayout {
            kbase: q * src * inner,
            kj: inner,
            kh: dh,
            kc: 1,
            vbase: (memory + q * src) * inner,
            vj: inner,
            vh: dh,
            vc: 1,
            kbias: key_off + q * src,
            lbase,
        };
        let terms = comptime!(BiasTerms {
            relative: false,
            key: true,
            causal: false,
        });
        attend::<F>(
            &mut qs, ckv, ckv, table, aux, layout, 0usize, src, &mut ss, &mut part, &mut at, heads,
            dh, dims.cap, threads, terms,
        );
        project_add::<F, Shared<[F]>>(
            &mut at, 0usize, co, &mut xs, &mut part, 1usize, inner, d, threads,
        );
        sync_cube();
    }

    // Feed-forward.
    rms_norm::<F>(&xs, &mut hs, &mut red, &mut part, gf, 1usize, d, threads);
    project_shared::<F, Shared<[F]>>(
        &mut hs, wi, &mut fs, 0usize, 1usize, d, dims.dff, true, threads,
    );
    sync_cube();
    project_add::<F, Shared<[F]>>(
        &mut fs, 0usize, wf, &mut xs, &mut part, 1usize, dims.dff, d, threads,
    );
    sync_cube();
    let mut e = tid;
    while e < d {
        out[r * d + e] = xs[e];
        e += threads;
    }
}

/// Shapes of a [`head_kernel`] launch, fixed when it is compiled.
#[derive(CubeType, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct HeadDims {
    /// Model width.
    pub(super) d: usize,
    /// First vocabulary entry of the ID position being decided.
    pub(super) start: usize,
    /// Values of that position.
    pub(super) width: usize,
    /// Threads per workgroup (a power of two).
    pub(super) threads: usize,
}

/// Beam-search scores of one hypothesis' next value: the last of its rows of `x`
/// (`[n, t, d]`, contiguous) RMS-normed with `g` (`[d]`), logits over the whole vocabulary by
/// `w` (`[d, vocab]`), log-softmax, and for the position's `width` values from `start`:
/// `out[n, j] = (log p(start + j) + add[n, 1 + j]) + add[n, 0]`, where `add` is the
/// `[n, 1 + width]` block of `step` from `add_off` (the hypothesis' score and the constraint mask)
/// → `out` `[n, width]`.
#[cube(launch)]
pub(super) fn head_kernel<F: Float>(
    x: &Tensor<F>,
    g: &Tensor<F>,
    w: &Tensor<F>,
    step: &Tensor<F>,
    out: &mut Tensor<F>,
    add_off: u32,
    #[comptime] dims: HeadDims,
    #[define(F)] _dtype: ElemType,
) {
    let n = CUBE_POS_Y as usize * CUBE_COUNT_X as usize + CUBE_POS_X as usize;
    if n >= out.shape(0) {
        terminate!();
    }
    let d = dims.d;
    let width = dims.width;
    let threads = dims.threads;
    let tid = UNIT_POS_X as usize;
    let vocab = w.shape(1);
    let mut xs = Shared::new_slice(d);
    let mut hs = Shared::new_slice(d);
    let mut red = Shared::new_slice(1usize);
    let mut part = Shared::new_slice(threads);
    let mut win = Shared::new_slice(width);
    let t = x.shape(1);
    let row = n * t + t - 1;
    let mut e = tid;
    while e < d {
        xs[e] = x[row * d + e];
        e += threads;
    }
    sync_cube();
    rms_norm::<F>(&xs, &mut hs, &mut red, &mut part, g, 1usize, d, threads);
    // Each thread's logits: a running maximum and the sum of exponentials below it.
    let mut m = F::min_value();
    let mut s = F::new(0.0);
    let mut v = tid;
    while v < vocab {
        let l = dot::<F, Shared<[F]>, Tensor<F>>(&mut hs, 0, 1, w, v, vocab, d);
        if v >= dims.start && v < dims.start + width {
            win[v - dims.start] = l;
        }
        if l > m {
            s = s * (m - l).exp() + F::new(1.0);
            m = l;
        } else {
            s += (l - m).exp();
        }
        v += threads;
    }
    let top = reduce_group::<F>(&mut part, m, 0, tid, true, threads, threads, true);
    let sum = reduce_group::<F>(
        &mut part,
        s * (m - top).exp(),
        0,
        tid,
        true,
        threads,
        threads,
        false,
    );
    let log_sum = sum.ln();
    let mut j = tid;
    while j < width {
        let logp = (win[j] - top) - log_sum;
        let add = add_off as usize + n * (width + 1);
        out[n * width + j] = (logp + step[add + 1 + j]) + step[add];
        j += threads;
    }
}

/// Rows of `table` (`[vocab, d]`, contiguous) by the token ids at `ids[off ..]` (floats holding
/// integers) → `out` `[rows, d]` (any leading shape), one workgroup per row.
#[cube(launch)]
pub(super) fn gather_kernel<F: Float>(
    table: &Tensor<F>,
    ids: &Tensor<F>,
    out: &mut Tensor<F>,
    off: u32,
    #[define(F)] _dtype: ElemType,
) {
    let d = table.shape(1);
    let r = CUBE_POS_Y as usize * CUBE_COUNT_X as usize + CUBE_POS_X as usize;
    if r * d >= out.len() {
        terminate!();
    }
    let id = u32::cast_from(ids[off as usize + r]) as usize;
    let mut c = UNIT_POS_X as usize;
    while c < d {
        out[r * d + c] = table[id * d + c];
        c += CUBE_DIM_X as usize;
    }
}
