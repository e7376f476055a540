//! The fused layer kernel: one workgroup per token row runs the rest of an encoder or decoder
//! layer once the row's queries, keys and values are projected, and ends with what comes next —
//! the next layer's projections, the layer's output alone, or (the decoder's last layer, last
//! rows only) the beam scores.

use cubecl::prelude::*;

use super::attention::{BiasTerms, KeyLayout, attend};
use super::blocks::{F4, project4, rms_norm};
use super::rows::head_row;

/// Shapes and mode of a [`layer_kernel`] launch, fixed when it is compiled.
#[derive(CubeType, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct LayerDims {
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
    /// The most rows a sequence has (self-attention's keys): the history's length in an encoder,
    /// the longest target in a decoder.
    pub(super) self_keys: usize,
    /// Threads per workgroup (a power of two).
    pub(super) threads: usize,
    /// A decoder layer (cross-attention between self-attention and the feed-forward).
    pub(super) cross: bool,
    /// Writes `[x | x̂·w0 | x̂·w1 | x̂·w2]` per row (`x̂` the output RMS-normed by `gn`): the
    /// next layer's input and projections.
    pub(super) next: bool,
    /// Runs only the last row of each sequence, then writes its beam scores over the position's
    /// `width` values from vocabulary entry `start` (`gn` the final norm, `hw` the output layer).
    /// With neither, the kernel writes the output `x` alone (`[sequences, len, d]`).
    pub(super) head: bool,
    /// First vocabulary entry of the position the head scores.
    pub(super) start: usize,
    /// Values of that position.
    pub(super) width: usize,
}

/// The rest of a layer for one row.
///
/// `state`: `[sequences, len, d + 3 · inner]`, per row `[x | q | k | v]` (the layer's input and
/// its projections; contiguous); `wo` `[inner, d]`; self-attention's bias from `table`
/// (`[buckets, heads]`) at the buckets of the line at `aux[line_off ..]` (`line_len` = 2 · L − 1
/// entries, `L` ≥ `len`; see `RelativeBias::bucket_line`), plus, in an encoder, the key mask of
/// each sequence at `aux[key_off + sequence · len ..]` (0 or −1e9) or, in a decoder, the causal
/// mask; cross-attention (decoder only): `g2` `[d]`, `cq` `[d, inner]`, `co` `[inner, d]`, the
/// keys and values `ckv[kv_pair · 2]` and `ckv[kv_pair · 2 + 1]` of `ckv` `[parts, queries · src,
/// inner]` (the sequences of a query consecutive), with each query's key mask at
/// `aux[key_off + query · src ..]`; feed-forward: `gf` `[d]`, `wi`
/// `[d, dff]`, `wf` `[dff, d]`; then what [`LayerDims`] says, with `gn`, `w0`, `w1`, `w2` (the
/// next layer's projections) or `hw` (the output layer) and each hypothesis' score and mask at
/// `step[add_off ..]`. The projections' weights are read as four-float vectors (their output
/// widths are multiples of 4). Unused arguments may be placeholders.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub(super) fn layer_kernel<F: Float>(
    state: &Tensor<F>,
    wo: &Tensor<F4<F>>,
    table: &Tensor<F>,
    aux: &Tensor<F>,
    g2: &Tensor<F>,
    cq: &Tensor<F4<F>>,
    co: &Tensor<F4<F>>,
    ckv: &Tensor<F>,
    gf: &Tensor<F>,
    wi: &Tensor<F4<F>>,
    wf: &Tensor<F4<F>>,
    gn: &Tensor<F>,
    w0: &Tensor<F4<F>>,
    w1: &Tensor<F4<F>>,
    w2: &Tensor<F4<F>>,
    hw: &Tensor<F>,
    step: &Tensor<F>,
    out: &mut Tensor<F>,
    key_off: u32,
    src: u32,
    line_off: u32,
    line_len: u32,
    add_off: u32,
    kv_pair: u32,
    #[comptime] dims: LayerDims,
    #[define(F)] _dtype: ElemType,
) {
    let seqs = state.shape(0);
    let len = state.shape(1);
    let rows = seqs * len;
    let width = state.shape(2);
    let pos = CUBE_POS_Y as usize * CUBE_COUNT_X as usize + CUBE_POS_X as usize;
    let mut r = pos;
    if dims.head {
        if pos >= seqs {
            terminate!();
        }
        r = pos * len + len - 1;
    } else if pos >= rows {
        terminate!();
    }
    let d = dims.d;
    let dh = dims.dh;
    let heads = dims.heads;
    let threads = dims.threads;
    let inner = comptime!(dims.heads * dims.dh);
    let tid = UNIT_POS_X as usize;
    let key_off = key_off as usize;
    let lbase = line_off as usize + (line_len as usize - 1) / 2;
    let seq = r / len;
    let i = r % len;
    let mut xs = Shared::new_slice(d);
    let mut hs = Shared::new_slice(d);
    let mut red = Shared::new_slice(1usize);
    let mut qs = Shared::new_slice(inner);
    let mut at = Shared::new_slice(inner);
    let mut fs = Shared::new_slice(dims.dff);
    let mut ss = Shared::new_slice(comptime!(dims.heads * dims.cap));
    let mut part = Shared::new_slice(comptime!(4 * dims.threads));
    let mut e = tid;
    while e < d {
        xs[e] = state[r * width + e];
        e += threads;
    }
    let mut e = tid;
    while e < inner {
        qs[e] = state[r * width + d + e];
        e += threads;
    }
    sync_cube();

    // Self-attention over the rows of this sequence.
    let first = seq * len * width;
    let layout = KeyLayout {
        kbase: first + d + inner,
        kj: width,
        kh: dh,
        kc: 1,
        vbase: first + d + 2 * inner,
        vj: width,
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
        &mut qs,
        state,
        state,
        table,
        aux,
        layout,
        i,
        len,
        &mut ss,
        &mut part,
        &mut at,
        heads,
        dh,
        dims.cap,
        dims.self_keys,
        threads,
        terms,
    );
    project4::<F>(
        &mut at, wo, &mut xs, &mut part, inner, d, true, false, threads,
    );
    sync_cube();

    if dims.cross {
        // Cross-attention over the query's history.
        let src = src as usize;
        let memory = ckv.shape(1);
        let q = seq / (seqs / (memory / src));
        rms_norm::<F>(&xs, &mut hs, &mut red, &mut part, g2, 1usize, d, threads);
        project4::<F>(
            &mut hs, cq, &mut qs, &mut part, d, inner, false, false, threads,
        );
        sync_cube();
        let layout = KeyLayout {
            kbase: (2 * kv_pair as usize * memory + q * src) * inner,
            kj: inner,
            kh: dh,
            kc: 1,
            vbase: ((2 * kv_pair as usize + 1) * memory + q * src) * inner,
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
            dh, dims.cap, dims.cap, threads, terms,
        );
        project4::<F>(
            &mut at, co, &mut xs, &mut part, inner, d, true, false, threads,
        );
        sync_cube();
    }

    // Feed-forward.
    rms_norm::<F>(&xs, &mut hs, &mut red, &mut part, gf, 1usize, d, threads);
    project4::<F>(
        &mut hs, wi, &mut fs, &mut part, d, dims.dff, false, true, threads,
    );
    sync_cube();
    project4::<F>(
        &mut fs, wf, &mut xs, &mut part, dims.dff, d, true, false, threads,
    );
    sync_cube();

    if dims.next {
        let next = out.shape(2);
        let mut e = tid;
        while e < d {
            out[r * next + e] = xs[e];
            e += threads;
        }
        rms_norm::<F>(&xs, &mut hs, &mut red, &mut part, gn, 1usize, d, threads);
        // Queries, keys and values one after the other through `at`.
        project4::<F>(
            &mut hs, w0, &mut at, &mut part, d, inner, false, false, threads,
        );
        sync_cube();
        copy_out::<F>(&at, out, r * next + d, inner, threads);
        project4::<F>(
            &mut hs, w1, &mut at, &mut part, d, inner, false, false, threads,
        );
        sync_cube();
        copy_out::<F>(&at, out, r * next + d + inner, inner, threads);
        project4::<F>(
            &mut hs, w2, &mut at, &mut part, d, inner, false, false, threads,
        );
        sync_cube();
        copy_out::<F>(&at, out, r * next + d + 2 * inner, inner, threads);
    } else if dims.head {
        rms_norm::<F>(&xs, &mut hs, &mut red, &mut part, gn, 1usize, d, threads);
        // The position's logits go where the feed-forward's hidden layer was, if they fit.
        if comptime!(dims.width <= dims.dff) {
            head_row::<F>(
                &mut hs,
                hw,
                step,
                add_off as usize,
                pos,
                &mut fs,
                &mut part,
                out,
                d,
                dims.start,
                dims.width,
                threads,
            );
        } else {
            let mut win = Shared::new_slice(dims.width);
            head_row::<F>(
                &mut hs,
                hw,
                step,
                add_off as usize,
                pos,
                &mut win,
                &mut part,
                out,
                d,
                dims.start,
                dims.width,
                threads,
            );
        }
    } else {
        let mut e = tid;
        while e < d {
            out[r * d + e] = xs[e];
            e += threads;
        }
    }
}

/// `out[at + e] = v[e]` for `e < n`, then a barrier (`v` is rewritten next).
#[cube]
fn copy_out<F: Float>(
    v: &Shared<[F]>,
    out: &mut Tensor<F>,
    at: usize,
    #[comptime] n: usize,
    #[comptime] threads: usize,
) {
    let mut e = UNIT_POS_X as usize;
    while e < n {
        out[at + e] = v[e];
        e += threads;
    }
    sync_cube();
}
