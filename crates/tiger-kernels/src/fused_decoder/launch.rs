//! Launching the fused kernels on burn's cube backend: output allocation, grid and workgroup
//! sizes, and the launches themselves.

use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use cubecl::prelude::*;

use super::layer::{LayerDims, layer_kernel};
use super::rows::{ProjDims, norm_project_kernel};
use super::{MAX_GROUPS_X, PROJ_THREADS, THREADS, head_bytes, rest_shared_bytes, score_cap};

/// A float tensor of burn's cube backend.
pub(super) type CubeTensor = FloatTensor<CubeBackend>;

/// A contiguous `[dims]` tensor on `like`'s device.
pub(super) fn empty_like(like: &CubeTensor, dims: Vec<usize>) -> CubeTensor {
    empty_device_contiguous_dtype(
        like.client.clone(),
        like.device.clone(),
        Shape::from(dims),
        like.dtype,
    )
}

/// Grid for one workgroup per row (a second dimension past 65,535 rows) and `z` blocks per row.
pub(super) fn row_grid(rows: usize, z: usize) -> CubeCount {
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
pub(super) struct Bias {
    pub(super) table: CubeTensor,
    pub(super) aux: CubeTensor,
    pub(super) key_off: usize,
    pub(super) src: usize,
    pub(super) line_off: usize,
    pub(super) line_len: usize,
    pub(super) kv_pair: usize,
}

/// What a layer kernel does after its layer (built and consumed within one launch, so the
/// variants' sizes do not matter).
#[allow(clippy::large_enum_variant)]
pub(super) enum End {
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
pub(super) fn layer_launch(
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
        // The bucket line covers relative positions of sequences up to this long.
        self_keys: bias.line_len.div_ceil(2).max(len),
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
pub(super) fn norm_project(x: CubeTensor, g: CubeTensor, w: Vec<CubeTensor>) -> CubeTensor {
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
