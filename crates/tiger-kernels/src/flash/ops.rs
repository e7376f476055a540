//! The training attention as burn backend operations: the kernels themselves (forward with its
//! log-sum-exp, backward with every gradient) on the cube and fusion backends, and the
//! differentiable operation the model calls, which autodiff routes to [`super::autodiff`].

use burn::backend::fusion::custom::TensorSpec;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::tensor::{Shape, Slice};
use burn_backend::TensorMetadata;

/// The kernels. `q` is `[batch, heads, tq, d]`, `k`, `v` `[batch, heads, tk, d]`, `bias`
/// broadcastable to `[batch, heads, tq, tk]`, `seed` `[1]` (the dropout mask's seed, an integer
/// stored as a float), `threshold` the dropout probability times 2³² (0: no dropout).
#[backend_extension(Cube, Fusion)]
#[allow(clippy::too_many_arguments)]
pub trait FlashKernels: Backend {
    /// Forward → (`out` `[batch, tq, heads, d]`, `lse` `[batch, heads, tq]`).
    #[fusion(meta = |q, _k, _v, _b, _s, _t| (rows_spec(q), lse_spec(q)))]
    fn flash_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        seed: FloatTensor<Self>,
        threshold: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// Backward from `dout` (the gradient of `out`, given as `[batch, heads, tq, d]`) →
    /// (`dq` `[batch, tq, heads, d]`, the key and value gradients one after the other `[2,
    /// batch, tk, heads, d]`, the score gradient `[batch, heads, tq, tk]`: the bias gradient
    /// before broadcasting).
    #[fusion(meta = |q, k, _v, _b, _s, _o, _l, _g, _t| (rows_spec(q), slabs_spec(k), score_spec(q, k)))]
    fn flash_backward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        seed: FloatTensor<Self>,
        out: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        dout: FloatTensor<Self>,
        threshold: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// [`Self::flash_forward`] for self-attention over one packed projection `qkv` `[batch, t,
    /// 3, heads, d]` (queries, keys, values), read in place.
    #[fusion(meta = |qkv, _b, _s, _t| (unpacked_spec(qkv), packed_lse_spec(qkv)))]
    fn flash_forward_packed(
        qkv: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        seed: FloatTensor<Self>,
        threshold: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// [`Self::flash_backward`] for self-attention over one packed projection `qkv` `[batch, t,
    /// 3, heads, d]` → (its gradient, same shape, the score gradient).
    #[fusion(meta = |qkv, _b, _s, _o, _l, _g, _t| (qkv.clone(), packed_score_spec(qkv)))]
    fn flash_backward_packed(
        qkv: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        seed: FloatTensor<Self>,
        out: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        dout: FloatTensor<Self>,
        threshold: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

/// The differentiable attention: arguments as [`FlashKernels::flash_forward`] → `out` `[batch,
/// tq, heads, d]`.
#[backend_extension(Cube, Fusion, Autodiff)]
pub trait FlashAttention: Backend {
    /// Attention with dropout on its weights; gradients for `q`, `k`, `v` and `bias`.
    #[fusion(dtype = q, shape = rows_shape(q))]
    fn flash_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        seed: FloatTensor<Self>,
        threshold: usize,
    ) -> FloatTensor<Self>;

    /// Self-attention over a packed projection `qkv` `[batch, t, 3, heads, d]` (queries, keys,
    /// values): as [`Self::flash_attention`], one gradient for the whole projection (no slicing
    /// in the backward) → `[batch, t, heads, d]`.
    #[fusion(dtype = qkv, shape = unpacked_shape(qkv))]
    fn flash_attention_packed(
        qkv: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        seed: FloatTensor<Self>,
        threshold: usize,
    ) -> FloatTensor<Self>;
}

/// `[batch, t, parts, heads, d]` → `[batch, t, heads, d]`.
fn unpacked_shape(x: &Shape) -> Shape {
    Shape::new([x[0], x[1], x[3], x[4]])
}

fn unpacked_spec(x: &TensorSpec) -> TensorSpec {
    TensorSpec::new(unpacked_shape(&x.shape), x.dtype)
}

/// The log-sum-exp of self-attention over `[batch, t, parts, heads, d]`: `[batch, heads, t]`.
fn packed_lse_spec(x: &TensorSpec) -> TensorSpec {
    TensorSpec::new(Shape::new([x.shape[0], x.shape[3], x.shape[1]]), x.dtype)
}

/// The scores of self-attention over `[batch, t, parts, heads, d]`: `[batch, heads, t, t]`.
fn packed_score_spec(x: &TensorSpec) -> TensorSpec {
    let s = &x.shape;
    TensorSpec::new(Shape::new([s[0], s[3], s[1], s[1]]), x.dtype)
}

/// `[batch, heads, t, d]` → `[2, batch, t, heads, d]`.
fn slabs_spec(x: &TensorSpec) -> TensorSpec {
    let s = &x.shape;
    TensorSpec::new(Shape::new([2, s[0], s[2], s[1], s[3]]), x.dtype)
}

/// Slab `i` of a `[parts, batch, t, heads, d]` tensor as a `[batch, heads, t, d]` view (each slab
/// is contiguous, so dropping its leading 1 copies nothing).
pub(super) fn slab<B: Backend>(slabs: FloatTensor<B>, i: usize) -> FloatTensor<B> {
    let shape = slabs.shape();
    let [b, t, h, d] = [shape[1], shape[2], shape[3], shape[4]];
    let full = Slice::full();
    let i = i as isize;
    let one = B::float_slice(
        slabs,
        &[Slice::new(i, Some(i + 1), 1), full, full, full, full],
    );
    B::float_swap_dims(B::float_reshape(one, Shape::new([b, t, h, d])), 1, 2)
}

/// `[batch, heads, len, d]` → `[batch, len, heads, d]`.
pub(super) fn rows_shape(x: &Shape) -> Shape {
    Shape::new([x[0], x[2], x[1], x[3]])
}

fn rows_spec(x: &TensorSpec) -> TensorSpec {
    TensorSpec::new(rows_shape(&x.shape), x.dtype)
}

fn lse_spec(q: &TensorSpec) -> TensorSpec {
    TensorSpec::new(Shape::new([q.shape[0], q.shape[1], q.shape[2]]), q.dtype)
}

fn score_spec(q: &TensorSpec, k: &TensorSpec) -> TensorSpec {
    TensorSpec::new(
        Shape::new([q.shape[0], q.shape[1], q.shape[2], k.shape[2]]),
        q.dtype,
    )
}
