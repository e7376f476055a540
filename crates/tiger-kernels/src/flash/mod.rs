//! Attention for training in three kernels (CubeCL) instead of the tensor path's chain of
//! products, softmax, dropout and layout copies.
//!
//! The tensor path materialises the scores, the weights and the dropout mask of every head, and
//! each of its batched products over 81 × 81 scores ran at a small fraction of the GPU
//! (`tiger-bench attention`, `docs/performance.md`). Here:
//! - [`kernels::forward_kernel`]: a thread per query row keeps its query and output in
//!   registers and streams the keys and values through shared memory with an online softmax;
//!   it writes the output in `[batch, len, heads, d]` order (what the output projection reads)
//!   and each row's log-sum-exp;
//! - [`backward::backward_query_kernel`] recomputes each row's weights from the log-sum-exp and
//!   writes the score gradients (the bias gradient too) and the query gradient;
//! - [`backward::backward_key_kernel`] sums the key and value gradients per key row.
//!
//! A self-attention's query, key and value projections are one product; [`attend_packed`] hands it
//! to the kernels whole, and the backward writes its gradient into one buffer (slicing it would
//! make autodiff add a zero-filled gradient of the whole product per slice).
//!
//! Dropout on the weights hashes the call's seed (drawn from burn's seeded generator) with each
//! weight's index, so the backward pass regenerates the forward's mask. The operations are burn
//! backend extensions ([`ops`]) ordered in the fusion stream; [`autodiff`] records the backward.
//! [`attend`] picks this path on the GPU for head widths up to 64 (a multiple of 4) unless
//! `TIGER_KERNELS` turns `flash` off; the tensor path runs elsewhere.

mod autodiff;
mod backend;
pub mod backward;
pub mod kernels;
pub mod ops;

use burn::backend::Dispatch;
use burn::nn::Dropout;
use burn::prelude::*;
use burn::tensor::Distribution;

use crate::choice::Kernel;
use ops::FlashAttention;

/// Widest head the kernels take (a thread keeps up to three rows of it in registers).
pub const MAX_HEAD: usize = 64;

/// Whether the kernels take these shapes on `device`: queries `[b, h, tq, d]`, keys and values
/// `kv` (each `[b, h, tk, d]`), a bias broadcastable to `[b, h, tq, tk]` (each dimension full or
/// 1), a head width that is a multiple of 4 up to [`MAX_HEAD`].
fn applies(device: &Device, q: [usize; 4], kv: [usize; 4], bias: [usize; 4]) -> bool {
    let [b, h, tq, d] = q;
    let full = [b, h, tq, kv[2]];
    let broadcasts = bias.iter().zip(full).all(|(&n, f)| n == f || n == 1);
    let shapes = kv[0] == b && kv[1] == h && kv[3] == d;
    Kernel::Flash.on()
        && crate::device::is_gpu(device)
        && shapes
        && broadcasts
        && d > 0
        && d <= MAX_HEAD
        && d.is_multiple_of(4)
}

/// The dropout mask's seed and threshold for `dropout` on `device`: a fresh seed from burn's
/// generator while training, no dropout otherwise.
fn dropout_args(dropout: &Dropout, device: &Device) -> (Tensor<1>, usize) {
    let training = dropout.training.is_enabled() && device.is_autodiff() && dropout.prob > 0.0;
    if training {
        let seed = Tensor::<1>::random([1], Distribution::Uniform(0.0, 16_777_216.0), device);
        (seed, threshold_of(dropout.prob))
    } else {
        (Tensor::<1>::zeros([1], device), 0)
    }
}

/// The attention core through the fused kernels, when they apply: `q` `[batch, heads, tq, d]`,
/// `k`, `v` `[batch, heads, tk, d]`, `bias` broadcastable to `[batch, heads, tq, tk]` (each
/// dimension full or 1) → `[batch, heads, tq, d]` (a view of a `[batch, tq, heads, d]` tensor).
/// `None`: not on the GPU, switched off, or a shape the kernels do not take.
pub fn attend(
    q: &Tensor<4>,
    k: &Tensor<4>,
    v: &Tensor<4>,
    bias: &Tensor<4>,
    dropout: &Dropout,
) -> Option<Tensor<4>> {
    let device = q.device();
    if v.dims() != k.dims() || !applies(&device, q.dims(), k.dims(), bias.dims()) {
        return None;
    }
    let (seed, threshold) = dropout_args(dropout, &device);
    attend_seeded(q, k, v, bias, seed, threshold)
}

/// Self-attention over a packed projection `qkv` `[batch, t, 3, heads, d]` (queries, keys,
/// values) through the fused kernels, when they apply; its gradient is one tensor (no slicing in
/// the backward) → `[batch, heads, t, d]`, as [`attend`].
pub fn attend_packed(qkv: &Tensor<5>, bias: &Tensor<4>, dropout: &Dropout) -> Option<Tensor<4>> {
    let device = qkv.device();
    let [b, t, parts, h, d] = qkv.dims();
    if parts != 3 || !applies(&device, [b, h, t, d], [b, h, t, d], bias.dims()) {
        return None;
    }
    let (seed, threshold) = dropout_args(dropout, &device);
    attend_packed_seeded(qkv, bias, seed, threshold)
}

/// [`attend_packed`] with the dropout mask's `seed` and `threshold` given (see
/// [`attend_seeded`]).
pub fn attend_packed_seeded(
    qkv: &Tensor<5>,
    bias: &Tensor<4>,
    seed: Tensor<1>,
    threshold: usize,
) -> Option<Tensor<4>> {
    let [b, t, parts, h, d] = qkv.dims();
    if parts != 3 || !applies(&qkv.device(), [b, h, t, d], [b, h, t, d], bias.dims()) {
        return None;
    }
    Kernel::Flash.count();
    let out = <Dispatch as FlashAttention>::flash_attention_packed(
        qkv.clone().into_dispatch(),
        bias.clone().into_dispatch(),
        seed.into_dispatch(),
        threshold,
    );
    Some(Tensor::<4>::from_dispatch(out).swap_dims(1, 2))
}

/// Dropout probability `p` as the kernels' threshold: `p · 2³²` (a weight is dropped when its
/// hash is below it).
pub fn threshold_of(p: f64) -> usize {
    (p * 4_294_967_296.0).clamp(0.0, u32::MAX as f64) as usize
}

/// [`attend`] with the dropout mask's `seed` (`[1]`, an integer below 2²⁴ stored as a float) and
/// `threshold` (see [`threshold_of`]; 0: no dropout) given.
pub fn attend_seeded(
    q: &Tensor<4>,
    k: &Tensor<4>,
    v: &Tensor<4>,
    bias: &Tensor<4>,
    seed: Tensor<1>,
    threshold: usize,
) -> Option<Tensor<4>> {
    if v.dims() != k.dims() || !applies(&q.device(), q.dims(), k.dims(), bias.dims()) {
        return None;
    }
    Kernel::Flash.count();
    let out = <Dispatch as FlashAttention>::flash_attention(
        q.clone().into_dispatch(),
        k.clone().into_dispatch(),
        v.clone().into_dispatch(),
        bias.clone().into_dispatch(),
        seed.into_dispatch(),
        threshold,
    );
    Some(Tensor::<4>::from_dispatch(out).swap_dims(1, 2))
}
