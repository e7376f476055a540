//! The fused kernels as burn backend operations: the trait burn's `backend_extension` macro
//! turns into dispatch and fusion-stream registration, and the output shapes it needs.

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::tensor::Shape;

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
