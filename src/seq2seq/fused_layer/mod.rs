//! Beam search's transformer on the GPU in few, wide kernels (CubeCL, compiled to WGSL by
//! burn-wgpu).
//!
//! Written with the tensor API, a single beam-search query ran about 1,100 launches (norms, small
//! matrix products, softmaxes, layout copies), and the H200 spent most of the query preparing
//! launches, not computing (`docs/benchmarks.md`). Here every layer of the encoder and of each
//! decoding step is two launches, whose workgroups each take one token row:
//! - [`rows::norm_project_kernel`]: RMSNorm and the query, key and value projections of a row,
//!   its outputs spread over several workgroups;
//! - [`rows::attend_rest_kernel`]: the rest of the layer for a row — self-attention over its
//!   sequence (all heads at once), output projection and residual, for a decoder cross-attention
//!   over its query's history, then the ReLU feed-forward, each with RMSNorm and residual.
//!
//! The cross-attention keys and values come from the same projection kernel, and
//! [`rows::head_kernel`] turns a step's last rows into beam scores (RMSNorm, output layer,
//! log-softmax over the vocabulary, plus each hypothesis' score and constraint mask). A row's
//! vectors stay in shared memory.
//!
//! Inference only (no dropout, no gradients); it runs on burn's cube backend, and [`use_for`]
//! says when. [`super::scorer::ModelScorer`] falls back to the tensor path elsewhere.

mod blocks;
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

use rows::{
    HeadDims, ProjDims, RestDims, attend_rest_kernel, gather_kernel, head_kernel,
    norm_project_kernel,
};

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

/// Shared memory (bytes) of [`rows::attend_rest_kernel`] with `threads` threads.
fn rest_shared_bytes(
    d: usize,
    inner: usize,
    dff: usize,
    heads: usize,
    cap: usize,
    threads: usize,
) -> usize {
    4 * (2 * d + 1 + 2 * inner + dff + heads * cap + threads)
}

/// Whether the fused kernels take a model of width `d`, `heads` heads of `dh`, feed-forward
/// width `dff` and `vocab` entries, for histories of `src` tokens and targets of `t`, on any
/// device: a row's vectors and scores fit WebGPU's minimum shared memory with the fewest threads
/// a workgroup gets, its heads fit those threads, and the encoder's rows fit the grid. Larger
/// shapes use the tensor path.
pub fn fits(d: usize, heads: usize, dh: usize, dff: usize, src: usize, t: usize) -> bool {
    let cap = score_cap(src.max(t));
    heads <= THREADS
        && rest_shared_bytes(d, heads * dh, dff, heads, cap, THREADS) <= SHARED_FLOOR
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

    /// RMSNorm then three projections (queries, keys, values): as [`Self::norm_project2`] →
    /// `[3, sequences · len, inner]`.
    #[fusion(dtype = x, shape = proj_shape(x, w0, &3))]
    fn norm_project3(
        x: FloatTensor<Self>,
        g: FloatTensor<Self>,
        w0: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// Rows of `table` (`[vocab, d]`) by the token ids (floats) at `ids[off ..]` →
    /// `[seqs, len, d]`.
    #[fusion(dtype = table, shape = gather_shape(table, seqs, len))]
    fn gather_rows(
        table: FloatTensor<Self>,
        ids: FloatTensor<Self>,
        off: usize,
        seqs: usize,
        len: usize,
    ) -> FloatTensor<Self>;

    /// The rest of an encoder layer per row (see [`rows::attend_rest_kernel`]; the key masks and
    /// the bucket line in `aux` at `key_off` and `line_off`): `x` `[sequences, len, d]` →
    /// `[sequences, len, d]`.
    #[fusion(dtype = x, shape = x.clone())]
    fn encoder_rest(
        x: FloatTensor<Self>,
        qkv: FloatTensor<Self>,
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

    /// The rest of a decoder layer per row, with cross-attention over histories of `src` tokens
    /// (see [`rows::attend_rest_kernel`]; the key masks and the bucket line in `aux`): `x`
    /// `[sequences, len, d]` → `[sequences, len, d]`.
    #[fusion(dtype = x, shape = x.clone())]
    fn decoder_rest(
        x: FloatTensor<Self>,
        qkv: FloatTensor<Self>,
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
        key_off: usize,
        src: usize,
        line_off: usize,
        line_len: usize,
    ) -> FloatTensor<Self>;

    /// Beam scores of the position whose `width` values start at vocabulary entry `start` (see
    /// [`rows::head_kernel`]): `x` `[n, t, d]`, `g` `[d]`, `w` `[d, vocab]`, each hypothesis'
    /// score and mask at `step[add_off ..]` (`[n, 1 + width]`) → `[n, width]`.
    #[fusion(dtype = x, shape = head_shape(x, width))]
    fn head_scores(
        x: FloatTensor<Self>,
        g: FloatTensor<Self>,
        w: FloatTensor<Self>,
        step: FloatTensor<Self>,
        add_off: usize,
        start: usize,
        width: usize,
    ) -> FloatTensor<Self>;
}

/// Output shape of the gather kernel: `[seqs, len, d]`.
fn gather_shape(table: &Shape, seqs: &usize, len: &usize) -> Shape {
    Shape::new([*seqs, *len, table[1]])
}

/// A float tensor of burn's cube backend.
type CubeTensor = FloatTensor<CubeBackend>;

/// Output shape of the projection kernel: `[parts, sequences · len, inner]`.
fn proj_shape(x: &Shape, w: &Shape, parts: &usize) -> Shape {
    Shape::new([*parts, x[0] * x[1], w[1]])
}

/// Output shape of the head kernel: `[n, width]`.
fn head_shape(x: &Shape, width: &usize) -> Shape {
    Shape::new([x[0], *width])
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

/// Launches [`rows::norm_project_kernel`] with two or three projections.
fn norm_project(x: CubeTensor, g: CubeTensor, w: Vec<CubeTensor>) -> CubeTensor {
    let x = into_contiguous(x);
    let [seqs, len, d] = x.meta.shape().dims::<3>();
    let rows = seqs * len;
    let inner = w[0].meta.shape()[1];
    let parts = w.len();
    let out = empty_like(&x, vec![parts, rows, inner]);
    if rows == 0 {
        return out;
    }
    let dims = ProjDims {
        d,
        inner,
        parts,
        threads: PROJ_THREADS,
    };
    let mut w = w.into_iter().map(into_contiguous);
    let (Some(w0), Some(w1)) = (w.next(), w.next()) else {
        unreachable!("norm_project2 and norm_project3 pass two or three weights");
    };
    // With two projections the third argument is a one-float placeholder.
    let w2 = w.next().unwrap_or_else(|| empty_like(&x, vec![1]));
    norm_project_kernel::launch(
        &out.client,
        row_grid(rows, (parts * inner).div_ceil(PROJ_THREADS)),
        CubeDim::new_1d(PROJ_THREADS as u32),
        x.into_tensor_arg(),
        into_contiguous(g).into_tensor_arg(),
        w0.into_tensor_arg(),
        w1.into_tensor_arg(),
        w2.into_tensor_arg(),
        out.clone().into_tensor_arg(),
        dims,
        burn::backend::cubecl::dtype_to_storage_type(out.dtype),
    );
    out
}

/// Cross-attention's tensors of a decoder layer: `g2, cq, co, ckv`.
type Cross = [CubeTensor; 4];

/// Where the bias terms are: the relative-position table, and in `aux` the key masks (from
/// `key_off`, histories of `src` tokens) and the bucket line (`line_len` entries from
/// `line_off`).
struct Bias {
    table: CubeTensor,
    aux: CubeTensor,
    key_off: usize,
    src: usize,
    line_off: usize,
    line_len: usize,
}

/// Launches [`rows::attend_rest_kernel`] for an encoder (`cross` `None`) or decoder layer.
fn attend_rest(
    x: CubeTensor,
    qkv: CubeTensor,
    wo: CubeTensor,
    bias: Bias,
    cross: Option<Cross>,
    [gf, wi, wf]: [CubeTensor; 3],
) -> CubeTensor {
    let c = into_contiguous;
    let x = c(x);
    let [seqs, len, d] = x.meta.shape().dims::<3>();
    let out = empty_like(&x, vec![seqs, len, d]);
    if seqs * len == 0 {
        return out;
    }
    let (table, aux) = (c(bias.table), c(bias.aux));
    let wi = c(wi);
    let dff = wi.meta.shape()[1];
    let inner = wo.meta.shape()[0];
    let heads = table.meta.shape()[1];
    let src = if cross.is_some() {
        bias.src.max(1)
    } else {
        len
    };
    let cap = score_cap(len.max(src));
    let threads = threads_for(&x, |n| rest_shared_bytes(d, inner, dff, heads, cap, n));
    let dims = RestDims {
        d,
        heads,
        dh: inner / heads,
        dff,
        cap,
        threads,
        cross: cross.is_some(),
    };
    // An encoder binds one-float placeholders where a decoder has its cross-attention tensors.
    let [g2, cq, co, ckv] = match cross {
        Some(t) => t.map(c),
        None => std::array::from_fn(|_| empty_like(&x, vec![1, 1, 1])),
    };
    attend_rest_kernel::launch(
        &out.client,
        row_grid(seqs * len, 1),
        CubeDim::new_1d(threads as u32),
        x.into_tensor_arg(),
        c(qkv).into_tensor_arg(),
        c(wo).into_tensor_arg(),
        table.into_tensor_arg(),
        aux.into_tensor_arg(),
        g2.into_tensor_arg(),
        cq.into_tensor_arg(),
        co.into_tensor_arg(),
        ckv.into_tensor_arg(),
        c(gf).into_tensor_arg(),
        wi.into_tensor_arg(),
        c(wf).into_tensor_arg(),
        out.clone().into_tensor_arg(),
        bias.key_off as u32,
        src as u32,
        bias.line_off as u32,
        bias.line_len as u32,
        dims,
        burn::backend::cubecl::dtype_to_storage_type(out.dtype),
    );
    out
}

impl FusedRowOps for CubeBackend {
    fn norm_project2(x: CubeTensor, g: CubeTensor, w0: CubeTensor, w1: CubeTensor) -> CubeTensor {
        norm_project(x, g, vec![w0, w1])
    }

    fn norm_project3(
        x: CubeTensor,
        g: CubeTensor,
        w0: CubeTensor,
        w1: CubeTensor,
        w2: CubeTensor,
    ) -> CubeTensor {
        norm_project(x, g, vec![w0, w1, w2])
    }

    fn gather_rows(
        table: CubeTensor,
        ids: CubeTensor,
        off: usize,
        seqs: usize,
        len: usize,
    ) -> CubeTensor {
        let table = into_contiguous(table);
        let d = table.meta.shape()[1];
        let out = empty_like(&table, vec![seqs, len, d]);
        if seqs * len == 0 {
            return out;
        }
        gather_kernel::launch(
            &out.client,
            row_grid(seqs * len, 1),
            CubeDim::new_1d(PROJ_THREADS as u32),
            table.into_tensor_arg(),
            into_contiguous(ids).into_tensor_arg(),
            out.clone().into_tensor_arg(),
            off as u32,
            burn::backend::cubecl::dtype_to_storage_type(out.dtype),
        );
        out
    }

    fn encoder_rest(
        x: CubeTensor,
        qkv: CubeTensor,
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
        };
        attend_rest(x, qkv, wo, bias, None, [gf, wi, wf])
    }

    fn decoder_rest(
        x: CubeTensor,
        qkv: CubeTensor,
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
        key_off: usize,
        src: usize,
        line_off: usize,
        line_len: usize,
    ) -> CubeTensor {
        let bias = Bias {
            table,
            aux,
            key_off,
            src,
            line_off,
            line_len,
        };
        attend_rest(x, qkv, wo, bias, Some([g2, cq, co, ckv]), [gf, wi, wf])
    }

    fn head_scores(
        x: CubeTensor,
        g: CubeTensor,
        w: CubeTensor,
        step: CubeTensor,
        add_off: usize,
        start: usize,
        width: usize,
    ) -> CubeTensor {
        let x = into_contiguous(x);
        let n = x.meta.shape()[0];
        let out = empty_like(&x, vec![n, width]);
        if n == 0 || width == 0 {
            return out;
        }
        let d = x.meta.shape()[2];
        let threads = threads_for(&x, |k| 4 * (2 * d + 1 + k + width));
        let dims = HeadDims {
            d,
            start,
            width,
            threads,
        };
        head_kernel::launch(
            &out.client,
            row_grid(n, 1),
            CubeDim::new_1d(threads as u32),
            x.into_tensor_arg(),
            into_contiguous(g).into_tensor_arg(),
            into_contiguous(w).into_tensor_arg(),
            into_contiguous(step).into_tensor_arg(),
            out.clone().into_tensor_arg(),
            add_off as u32,
            dims,
            burn::backend::cubecl::dtype_to_storage_type(out.dtype),
        );
        out
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
        // IDs of 4 tokens (5 with BOS).
        assert!(fits(128, 6, 64, 1024, 81, 5));
        assert!(
            !fits(1024, 6, 64, 1024, 81, 5),
            "a row of width 1024 with its FFN exceeds 16 KiB"
        );
        assert!(
            !fits(128, 6, 64, 1024, 4096, 5),
            "scores of 6 heads over 4,096 tokens exceed 16 KiB"
        );
        assert!(!fits(16, 300, 1, 16, 10, 2), "300 heads exceed 256 threads");
    }
}
