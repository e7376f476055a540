//! Beam search's transformer on the GPU in few, wide kernels (CubeCL, compiled to WGSL by
//! burn-wgpu).
//!
//! Written with the tensor API, a single beam-search query ran about 1,100 launches (norms, small
//! matrix products, softmaxes, layout copies), and the H200 spent most of the query preparing
//! launches, not computing (`docs/benchmarks.md`). Here a workgroup takes one token row, so a
//! layer spreads over as many of the GPU's cores as it has rows, and a layer is one launch:
//! - [`rows::embed_project_kernel`] starts a stack: token embeddings, RMSNorm and the first
//!   layer's query, key and value projections, a row's outputs spread over several workgroups;
//! - [`layer::layer_kernel`] runs the rest of a layer for a row — self-attention over its
//!   sequence (all heads at once, relative-position bias and masks computed in the kernel),
//!   output projection and residual, for a decoder cross-attention over its query's history, the
//!   ReLU feed-forward, each with RMSNorm and residual — and ends with the next layer's
//!   projections, or, in the decoder's last layer (last rows only), the beam scores: RMSNorm,
//!   output layer, log-softmax over the vocabulary, plus each hypothesis' score and mask;
//! - [`rows::norm_project_kernel`] projects the encoder's output into every decoder layer's
//!   cross-attention keys and values (four layers per launch).
//!
//! A query is then 6 launches for the encoder and 5 per decoding step, with one upload per query
//! and per step ([`path`]). A row's vectors stay in shared memory.
//!
//! Inference only (no dropout, no gradients); it runs on burn's cube backend, and [`use_for`]
//! says when. [`super::scorer::ModelScorer`] falls back to the tensor path elsewhere.

mod blocks;
mod layer;
mod path;
mod rows;

pub use path::{FusedMemory, FusedModel};

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use cubecl::prelude::*;
use std::sync::atomic::{AtomicU8, Ordering};

use layer::{LayerDims, layer_kernel};
use rows::{ProjDims, embed_project_kernel, norm_project_kernel};

/// Threads per workgroup that every device allows; 1,024 or 512 where the device allows.
const THREADS: usize = 256;
/// Threads (and outputs) per workgroup of the projection kernel.
const PROJ_THREADS: usize = 128;
/// Workgroups per grid dimension that every Vulkan device allows; more rows use a second dimension.
const MAX_GROUPS_X: usize = 65_535;
/// The RMSNorm epsilon the kernels apply (the model's norms are built with it; see
/// [`super::model`]).
pub const EPSILON: f64 = 1e-6;
/// Shared memory (bytes) the kernels may count on without asking the device: WebGPU's minimum.
const SHARED_FLOOR: usize = 16 * 1024;

/// Room for one head's attention scores over `len` keys.
fn score_cap(len: usize) -> usize {
    len.next_power_of_two().max(16)
}

/// Shared memory (bytes) of [`layer::layer_kernel`] with `threads` threads (without the output
/// layer's; see [`head_bytes`]).
fn rest_shared_bytes(
    d: usize,
    inner: usize,
    dff: usize,
    heads: usize,
    cap: usize,
    threads: usize,
) -> usize {
    4 * (2 * d + 1 + 2 * inner + dff + heads * cap + 4 * threads)
}

/// Shared memory (bytes) the output layer adds to a layer kernel: none when the position's
/// `width` logits fit where the feed-forward's `dff` hidden values were.
fn head_bytes(width: usize, dff: usize) -> usize {
    if width <= dff { 0 } else { 4 * width }
}

/// Whether the fused kernels take a model of width `d`, `heads` heads of `dh` and feed-forward
/// width `dff`, for histories of `src` tokens, targets of `t` and ID positions of at most `width`
/// values, on any device: a row's vectors, scores and (for the output layer) its position's
/// values fit WebGPU's minimum shared memory with the fewest threads a workgroup gets, its heads
/// fit those threads, and the widths are multiples of 4 (weights are read as four-float vectors).
/// Other shapes use the tensor path. (The layer kernel binds 19 storage buffers: more than
/// WebGPU's guaranteed 8, within what Vulkan, Metal and DX12 drivers give.)
pub fn fits(
    d: usize,
    heads: usize,
    dh: usize,
    dff: usize,
    src: usize,
    t: usize,
    width: usize,
) -> bool {
    let cap = score_cap(src.max(t));
    // The layer kernel reads its weights four outputs at a time.
    let by4 = d.is_multiple_of(4) && (heads * dh).is_multiple_of(4) && dff.is_multiple_of(4);
    by4 && heads <= THREADS
        && rest_shared_bytes(d, heads * dh, dff, heads, cap, THREADS) + head_bytes(width, dff)
            <= SHARED_FLOOR
        && 4 * (2 * d + 1 + PROJ_THREADS) <= SHARED_FLOOR
}

/// The fused kernels as burn backend operations (ordered in burn's fusion stream like any other).
#[backend_extension(Cube, Fusion)]
#[allow(clippy::too_many_arguments)]
pub trait FusedRowOps: Backend {
    /// RMSNorm then two projections: `x` `[sequences, len, d]`, `g` `[d]`, `w0`, `w1`
    /// `[d, inner]` → `[2, sequences · len, inner]`.
    #[fusion(dtype = x, shape = proj_shape(x, w0, &2))]
    fn norm_project2(
        x: FloatTensor<Self>,
        g: FloatTensor<Self>,
        w0: FloatTensor<Self>,
        w1: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// RMSNorm then eight projections (four decoder layers' cross-attention keys and values) in
    /// one launch: as [`Self::norm_project2`] → `[8, sequences · len, inner]`.
    #[fusion(dtype = x, shape = proj_shape(x, w0, &8))]
    fn norm_project8(
        x: FloatTensor<Self>,
        g: FloatTensor<Self>,
        w0: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        w3: FloatTensor<Self>,
        w4: FloatTensor<Self>,
        w5: FloatTensor<Self>,
        w6: FloatTensor<Self>,
        w7: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// The first layer's rows (see [`rows::embed_project_kernel`]): token embeddings of `table`
    /// by the ids at `ids[off ..]`, with their queries, keys and values → `[seqs, len, d + 3 ·
    /// inner]`.
    #[fusion(dtype = table, shape = state_shape(table, wq, seqs, len))]
    fn embed_project(
        table: FloatTensor<Self>,
        ids: FloatTensor<Self>,
        g: FloatTensor<Self>,
        wq: FloatTensor<Self>,
        wk: FloatTensor<Self>,
        wv: FloatTensor<Self>,
        off: usize,
        seqs: usize,
        len: usize,
    ) -> FloatTensor<Self>;

    /// An encoder layer followed by the next one's projections (see [`layer::layer_kernel`]; the
    /// key masks and the bucket line in `aux`): `state` → the next layer's state (same shape).
    #[fusion(dtype = state, shape = state.clone())]
    fn encoder_next(
        state: FloatTensor<Self>,
        wo: FloatTensor<Self>,
        table: FloatTensor<Self>,
        aux: FloatTensor<Self>,
        gf: FloatTensor<Self>,
        wi: FloatTensor<Self>,
        wf: FloatTensor<Self>,
        gn: FloatTensor<Self>,
        wq: FloatTensor<Self>,
        wk: FloatTensor<Self>,
        wv: FloatTensor<Self>,
        key_off: usize,
        line_off: usize,
        line_len: usize,
    ) -> FloatTensor<Self>;

    /// The encoder's last layer: `state` → its output `[sequences, len, d]`.
    #[fusion(dtype = state, shape = plain_shape(state, wo))]
    fn encoder_last(
        state: FloatTensor<Self>,
        wo: FloatTensor<Self>,
        table: FloatTensor<Self>,
        aux: FloatTensor<Self>,
        gf: FloatTensor<Self>,
        wi: FloatTensor<Self>,
        wf: FloatTensor<Self>,
        key_off: usize,
        line_off: usize,
        line_len: usize,
    ) -> FloatTensor<Self>;

    /// A decoder layer with cross-attention over histories of `src` tokens, followed by the next
    /// layer's projections: `state` → the next layer's state.
    #[fusion(dtype = state, shape = state.clone())]
    fn decoder_next(
        state: FloatTensor<Self>,
        wo: FloatTensor<Self>,
        table: FloatTensor<Self>,
        aux: FloatTensor<Self>,
        g2: FloatTensor<Self>,
        cq: FloatTensor<Self>,
        co: FloatTensor<Self>,
        ckv: FloatTensor<Self>,
        gf: FloatTensor<Self>,
        wi: FloatTensor<Self>,
        wf: FloatTensor<Self>,
        gn: FloatTensor<Self>,
        wq: FloatTensor<Self>,
        wk: FloatTensor<Self>,
        wv: FloatTensor<Self>,
        key_off: usize,
        src: usize,
        line_off: usize,
        line_len: usize,
        kv_pair: usize,
    ) -> FloatTensor<Self>;

    /// The decoder's last layer on each hypothesis' last row, then its beam scores over the
    /// `width` values from vocabulary entry `start` (`gn` the final norm, `head` the output
    /// layer, each hypothesis' score and mask at `step[add_off ..]`) → `[n, width]`.
    #[fusion(dtype = state, shape = head_shape(state, width))]
    fn decoder_head(
        state: FloatTensor<Self>,
        wo: FloatTensor<Self>,
        table: FloatTensor<Self>,
        aux: FloatTensor<Self>,
        g2: FloatTensor<Self>,
        cq: FloatTensor<Self>,
        co: FloatTensor<Self>,
        ckv: FloatTensor<Self>,
        gf: FloatTensor<Self>,
        wi: FloatTensor<Self>,
        wf: FloatTensor<Self>,
        gn: FloatTensor<Self>,
        head: FloatTensor<Self>,
        step: FloatTensor<Self>,
        key_off: usize,
        src: usize,
        line_off: usize,
        line_len: usize,
        kv_pair: usize,
        add_off: usize,
        start: usize,
        width: usize,
    ) -> FloatTensor<Self>;
}

/// A float tensor of burn's cube backend.
type CubeTensor = FloatTensor<CubeBackend>;

/// Output shape of the projection kernel: `[parts, sequences · len, inner]`.
fn proj_shape(x: &Shape, w: &Shape, parts: &usize) -> Shape {
    Shape::new([*parts, x[0] * x[1], w[1]])
}

/// A layer's state: `[seqs, len, d + 3 · inner]`.
fn state_shape(table: &Shape, wq: &Shape, seqs: &usize, len: &usize) -> Shape {
    Shape::new([*seqs, *len, table[1] + 3 * wq[1]])
}

/// A layer's output alone: `[sequences, len, d]`.
fn plain_shape(state: &Shape, wo: &Shape) -> Shape {
    Shape::new([state[0], state[1], wo[1]])
}

/// Beam scores: `[n, width]`.
fn head_shape(state: &Shape, width: &usize) -> Shape {
    Shape::new([state[0], *width])
}

/// A contiguous `[dims]` tensor on `like`'s device.
fn empty_like(like: &CubeTensor, dims: Vec<usize>) -> CubeTensor {
    empty_device_contiguous_dtype(
        like.client.clone(),
        like.device.clone(),
        Shape::from(dims),
        like.dtype,
    )
}

/// Grid for one workgroup per row (a second dimension past 65,535 rows) and `z` blocks per row.
fn row_grid(rows: usize, z: usize) -> CubeCount {
    let x = rows.clamp(1, MAX_GROUPS_X);
    CubeCount::Static(x as u32, rows.div_ceil(x) as u32, z as u32)
}

/// The most threads (1,024, 512 or 256) the device allows a workgroup whose shared memory is
/// `bytes(threads)`.
fn threads_for(like: &CubeTensor, bytes: impl Fn(usize) -> usize) -> usize {
    let props = like.client.properties();
    let max_units = props.hardware.max_units_per_cube as usize;
    let max_shared = props.hardware.max_shared_memory_size;
    [4 * THREADS, 2 * THREADS]
        .into_iter()
        .find(|&n| n <= max_units && bytes(n) <= max_shared)
        .unwrap_or(THREADS)
}

/// Where the bias terms are: the relative-position table, and in `aux` the key masks (from
/// `key_off`, histories of `src` tokens) and the bucket line (`line_len` entries from
/// `line_off`); for a decoder, which pair of the cross-attention projections is its layer's.
struct Bias {
    table: CubeTensor,
    aux: CubeTensor,
    key_off: usize,
    src: usize,
    line_off: usize,
    line_len: usize,
    kv_pair: usize,
}

/// What a layer kernel does after its layer (built and consumed within one launch, so the
/// variants' sizes do not matter).
#[allow(clippy::large_enum_variant)]
enum End {
    /// The next layer's projections: its norm scale and `wq, wk, wv`.
    Next([CubeTensor; 4]),
    /// Nothing: the output alone.
    Plain,
    /// Beam scores: the final norm scale, the output layer, the step upload; `add_off`, `start`,
    /// `width` as in [`FusedRowOps::decoder_head`].
    Head([CubeTensor; 3], [usize; 3]),
}

/// Launches [`layer::layer_kernel`] for an encoder (`cross` `None`: no cross-attention) or
/// decoder layer (`cross` = `g2, cq, co, ckv`), `ff` = `gf, wi, wf`.
fn layer_launch(
    state: CubeTensor,
    wo: CubeTensor,
    bias: Bias,
    cross: Option<[CubeTensor; 4]>,
    ff: [CubeTensor; 3],
    end: End,
) -> CubeTensor {
    let c = into_contiguous;
    let state = c(state);
    let [seqs, len, width] = state.meta.shape().dims::<3>();
    let wo = c(wo);
    let [inner, d] = wo.meta.shape().dims::<2>();
    let [gf, wi, wf] = ff.map(c);
    let dff = wi.meta.shape()[1];
    let (table, aux) = (c(bias.table), c(bias.aux));
    let heads = table.meta.shape()[1];
    let src = if cross.is_some() {
        bias.src.max(1)
    } else {
        len
    };
    let cap = score_cap(len.max(src));
    // Arguments a mode does not read are bound to a tensor bound anyway (no allocation).
    let placeholder = || table.clone();
    let (next, head) = (matches!(end, End::Next(_)), matches!(end, End::Head(..)));
    let (out, rows, [gn, w0, w1, w2, hw, step], [add_off, start, head_width]) = match end {
        End::Next(t) => {
            let [gn, wq, wk, wv] = t.map(c);
            (
                empty_like(&state, vec![seqs, len, width]),
                seqs * len,
                [gn, wq, wk, wv, placeholder(), placeholder()],
                [0; 3],
            )
        }
        End::Plain => (
            empty_like(&state, vec![seqs, len, d]),
            seqs * len,
            std::array::from_fn(|_| placeholder()),
            [0; 3],
        ),
        End::Head([gn, head, step], sizes) => (
            empty_like(&state, vec![seqs, sizes[2]]),
            seqs,
            [
                c(gn),
                placeholder(),
                placeholder(),
                placeholder(),
                c(head),
                c(step),
            ],
            sizes,
        ),
    };
    if rows == 0 || len == 0 {
        return out;
    }
    let threads = threads_for(&state, |n| {
        rest_shared_bytes(d, inner, dff, heads, cap, n) + head_bytes(head_width, dff)
    });
    let dims = LayerDims {
        d,
        heads,
        dh: inner / heads,
        dff,
        cap,
        threads,
        cross: cross.is_some(),
        next,
        head,
        start,
        width: head_width,
    };
    // An encoder binds placeholders where a decoder has its cross-attention tensors.
    let [g2, cq, co, ckv] = match cross {
        Some(t) => t.map(c),
        None => std::array::from_fn(|_| placeholder()),
    };
    layer_kernel::launch(
        &out.client,
        row_grid(rows, 1),
        CubeDim::new_1d(threads as u32),
        state.into_tensor_arg(),
        wo.into_tensor_arg(),
        table.into_tensor_arg(),
        aux.into_tensor_arg(),
        g2.into_tensor_arg(),
        cq.into_tensor_arg(),
        co.into_tensor_arg(),
        ckv.into_tensor_arg(),
        gf.into_tensor_arg(),
        wi.into_tensor_arg(),
        wf.into_tensor_arg(),
        gn.into_tensor_arg(),
        w0.into_tensor_arg(),
        w1.into_tensor_arg(),
        w2.into_tensor_arg(),
        hw.into_tensor_arg(),
        step.into_tensor_arg(),
        out.clone().into_tensor_arg(),
        bias.key_off as u32,
        src as u32,
        bias.line_off as u32,
        bias.line_len as u32,
        add_off as u32,
        bias.kv_pair as u32,
        dims,
        burn::backend::cubecl::dtype_to_storage_type(out.dtype),
    );
    out
}

/// Launches [`rows::norm_project_kernel`] with the projections `w` (two to eight).
fn norm_project(x: CubeTensor, g: CubeTensor, w: Vec<CubeTensor>) -> CubeTensor {
    let x = into_contiguous(x);
    let [seqs, len, d] = x.meta.shape().dims::<3>();
    let rows = seqs * len;
    let w: Vec<CubeTensor> = w.into_iter().map(into_contiguous).collect();
    let parts = w.len();
    let inner = w.first().map_or(0, |w| w.meta.shape()[1]);
    let out = empty_like(&x, vec![parts, rows, inner]);
    if rows == 0 || parts == 0 {
        return out;
    }
    let dims = ProjDims {
        d,
        inner,
        parts,
        threads: PROJ_THREADS,
    };
    // The kernel has eight weight arguments; those past `parts` are not read and are bound to
    // the last weight (no allocation).
    let arg = |i: usize| w[i.min(parts - 1)].clone().into_tensor_arg();
    norm_project_kernel::launch(
        &out.client,
        row_grid(rows, (parts * inner).div_ceil(PROJ_THREADS)),
        CubeDim::new_1d(PROJ_THREADS as u32),
        x.into_tensor_arg(),
        into_contiguous(g).into_tensor_arg(),
        arg(0),
        arg(1),
        arg(2),
        arg(3),
        arg(4),
        arg(5),
        arg(6),
        arg(7),
        out.clone().into_tensor_arg(),
        dims,
        burn::backend::cubecl::dtype_to_storage_type(out.dtype),
    );
    out
}

impl FusedRowOps for CubeBackend {
    fn norm_project2(x: CubeTensor, g: CubeTensor, w0: CubeTensor, w1: CubeTensor) -> CubeTensor {
        norm_project(x, g, vec![w0, w1])
    }

    fn norm_project8(
        x: CubeTensor,
        g: CubeTensor,
        w0: CubeTensor,
        w1: CubeTensor,
        w2: CubeTensor,
        w3: CubeTensor,
        w4: CubeTensor,
        w5: CubeTensor,
        w6: CubeTensor,
        w7: CubeTensor,
    ) -> CubeTensor {
        norm_project(x, g, vec![w0, w1, w2, w3, w4, w5, w6, w7])
    }

    fn embed_project(
        table: CubeTensor,
        ids: CubeTensor,
        g: CubeTensor,
        wq: CubeTensor,
        wk: CubeTensor,
        wv: CubeTensor,
        off: usize,
        seqs: usize,
        len: usize,
    ) -> CubeTensor {
        let c = into_contiguous;
        let table = c(table);
        let d = table.meta.shape()[1];
        let [wq, wk, wv] = [wq, wk, wv].map(c);
        let inner = wq.meta.shape()[1];
        let out = empty_like(&table, vec![seqs, len, d + 3 * inner]);
        if seqs * len == 0 {
            return out;
        }
        let dims = ProjDims {
            d,
            inner,
            parts: 3,
            threads: PROJ_THREADS,
        };
        embed_project_kernel::launch(
            &out.client,
            row_grid(seqs * len, (3 * inner).div_ceil(PROJ_THREADS)),
            CubeDim::new_1d(PROJ_THREADS as u32),
            table.into_tensor_arg(),
            c(ids).into_tensor_arg(),
            c(g).into_tensor_arg(),
            wq.into_tensor_arg(),
            wk.into_tensor_arg(),
            wv.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            off as u32,
            dims,
            burn::backend::cubecl::dtype_to_storage_type(out.dtype),
        );
        out
    }

    fn encoder_next(
        state: CubeTensor,
        wo: CubeTensor,
        table: CubeTensor,
        aux: CubeTensor,
        gf: CubeTensor,
        wi: CubeTensor,
        wf: CubeTensor,
        gn: CubeTensor,
        wq: CubeTensor,
        wk: CubeTensor,
        wv: CubeTensor,
        key_off: usize,
        line_off: usize,
        line_len: usize,
    ) -> CubeTensor {
        let bias = Bias {
            table,
            aux,
            key_off,
            src: 0,
            line_off,
            line_len,
            kv_pair: 0,
        };
        let end = End::Next([gn, wq, wk, wv]);
        layer_launch(state, wo, bias, None, [gf, wi, wf], end)
    }

    fn encoder_last(
        state: CubeTensor,
        wo: CubeTensor,
        table: CubeTensor,
        aux: CubeTensor,
        gf: CubeTensor,
        wi: CubeTensor,
        wf: CubeTensor,
        key_off: usize,
        line_off: usize,
        line_len: usize,
    ) -> CubeTensor {
        let bias = Bias {
            table,
            aux,
            key_off,
            src: 0,
            line_off,
            line_len,
            kv_pair: 0,
        };
        layer_launch(state, wo, bias, None, [gf, wi, wf], End::Plain)
    }

    fn decoder_next(
        state: CubeTensor,
        wo: CubeTensor,
        table: CubeTensor,
        aux: CubeTensor,
        g2: CubeTensor,
        cq: CubeTensor,
        co: CubeTensor,
        ckv: CubeTensor,
        gf: CubeTensor,
        wi: CubeTensor,
        wf: CubeTensor,
        gn: CubeTensor,
        wq: CubeTensor,
        wk: CubeTensor,
        wv: CubeTensor,
        key_off: usize,
        src: usize,
        line_off: usize,
        line_len: usize,
        kv_pair: usize,
    ) -> CubeTensor {
        let bias = Bias {
            table,
            aux,
            key_off,
            src,
            line_off,
            line_len,
            kv_pair,
        };
        let cross = Some([g2, cq, co, ckv]);
        let end = End::Next([gn, wq, wk, wv]);
        layer_launch(state, wo, bias, cross, [gf, wi, wf], end)
    }

    fn decoder_head(
        state: CubeTensor,
        wo: CubeTensor,
        table: CubeTensor,
        aux: CubeTensor,
        g2: CubeTensor,
        cq: CubeTensor,
        co: CubeTensor,
        ckv: CubeTensor,
        gf: CubeTensor,
        wi: CubeTensor,
        wf: CubeTensor,
        gn: CubeTensor,
        head: CubeTensor,
        step: CubeTensor,
        key_off: usize,
        src: usize,
        line_off: usize,
        line_len: usize,
        kv_pair: usize,
        add_off: usize,
        start: usize,
        width: usize,
    ) -> CubeTensor {
        let bias = Bias {
            table,
            aux,
            key_off,
            src,
            line_off,
            line_len,
            kv_pair,
        };
        let cross = Some([g2, cq, co, ckv]);
        let end = End::Head([gn, head, step], [add_off, start, width]);
        layer_launch(state, wo, bias, cross, [gf, wi, wf], end)
    }
}

/// Environment variable that turns the fused kernels off (`off`): the A/B switch of the benchmark.
pub const SWITCH_ENV: &str = "TIGER_FUSED_DECODER";

/// A test's choice that overrides [`SWITCH_ENV`]: 0 none, 1 on, 2 off.
static FORCED: AtomicU8 = AtomicU8::new(0);

/// Makes [`use_for`] answer `on` on the GPU whatever [`SWITCH_ENV`] says (`None`: follow it
/// again): tests compare both paths in one process.
pub fn force(on: Option<bool>) {
    FORCED.store(
        match on {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        },
        Ordering::Relaxed,
    );
}

/// Whether beam search on `device` uses the fused kernels: burn's cube backend (the GPU), unless
/// [`SWITCH_ENV`] (or [`force`]) turns them off.
pub fn use_for(device: &burn::tensor::Device) -> bool {
    static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let off = match FORCED.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => *OFF.get_or_init(|| std::env::var(SWITCH_ENV).is_ok_and(|v| v == "off")),
    };
    !off && crate::device::is_gpu(device)
}

#[cfg(test)]
mod tests {
    use super::fits;

    #[test]
    fn the_paper_shape_fits_and_outsized_ones_do_not() {
        // TIGER: width 128, 6 heads of 64, feed-forward 1024, 20 items × 4 + 1 history tokens,
        // IDs of 4 tokens (5 with BOS), codebooks of 256.
        assert!(fits(128, 6, 64, 1024, 81, 5, 256));
        let wide = "a row of width 1024 with its FFN exceeds 16 KiB";
        assert!(!fits(1024, 6, 64, 1024, 81, 5, 256), "{wide}");
        let long = "scores of 6 heads over 4,096 tokens exceed 16 KiB";
        assert!(!fits(128, 6, 64, 1024, 4096, 5, 256), "{long}");
        let values = "4,096 values of a position exceed 16 KiB";
        assert!(!fits(128, 6, 64, 1024, 81, 5, 4096), "{values}");
        assert!(
            !fits(16, 300, 1, 16, 10, 2, 4),
            "300 heads exceed 256 threads"
        );
    }
}
