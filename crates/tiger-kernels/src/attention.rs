//! Multi-head attention whose inner width (heads × head size) is independent of the model width,
//! as T5 needs (6 heads × 64 on d_model 128). burn's `MultiHeadAttention` ties the two.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation;

use crate::linear;

/// Shape of an attention block.
#[derive(Config, Debug)]
pub struct AttentionConfig {
    /// Model width.
    pub d_model: usize,
    /// Number of heads.
    pub heads: usize,
    /// Width of each head.
    pub d_head: usize,
    /// Dropout on the attention weights.
    #[config(default = 0.1)]
    pub dropout: f64,
}

/// Attention with separate q/k/v/o projections (no biases, as in T5).
#[derive(Module, Debug)]
pub struct Attention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    dropout: Dropout,
    heads: usize,
    d_head: usize,
}

impl AttentionConfig {
    /// Builds the block on `device`.
    pub fn init(&self, device: &Device) -> Attention {
        let inner = self.heads * self.d_head;
        let lin = |i, o| LinearConfig::new(i, o).with_bias(false).init(device);
        Attention {
            q: lin(self.d_model, inner),
            k: lin(self.d_model, inner),
            v: lin(self.d_model, inner),
            o: lin(inner, self.d_model),
            dropout: DropoutConfig::new(self.dropout).init(),
            heads: self.heads,
            d_head: self.d_head,
        }
    }
}

impl Attention {
    /// `query`: `[batch, tq, d_model]`, `memory`: `[batch, tk, d_model]`, `bias`: additive scores
    /// broadcastable to `[batch, heads, tq, tk]` (relative position bias and masks, already summed)
    /// → `[batch, tq, d_model]`.
    pub fn forward(&self, query: Tensor<3>, memory: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let (k, v) = self.project_memory(memory);
        self.forward_kv(query, k, v, bias)
    }

    /// Self-attention of `x` (`[batch, t, d_model]`) with `bias` as in [`Attention::forward`]:
    /// the query, key and value projections as one product → `[batch, t, d_model]`.
    pub fn forward_self(&self, x: Tensor<3>, bias: Tensor<4>) -> Tensor<3> {
        let [b, t, _] = x.dims();
        let (h, dh) = (self.heads, self.d_head);
        let w = Tensor::cat(
            vec![
                self.q.weight.val(),
                self.k.weight.val(),
                self.v.weight.val(),
            ],
            1,
        );
        let qkv = linear::forward_weight(w, x).reshape([b, t, 3, h, dh]);
        let out = crate::flash::attend_packed(&qkv, &bias, &self.dropout).unwrap_or_else(|| {
            let part = |i: usize| {
                qkv.clone()
                    .narrow(2, i, 1)
                    .reshape([b, t, h, dh])
                    .swap_dims(1, 2)
            };
            attend(part(0), part(1), part(2), bias, &self.dropout)
        });
        let out = out.swap_dims(1, 2).reshape([b, t, h * dh]);
        linear::forward(&self.o, out)
    }

    /// Keys and values of `memory` (`[batch, tk, d_model]`), each `[batch, heads, tk, d_head]`:
    /// computed once per query batch when decoding step by step (cross-attention).
    pub fn project_memory(&self, memory: Tensor<3>) -> (Tensor<4>, Tensor<4>) {
        let [b, tk, _] = memory.dims();
        let (h, dh) = (self.heads, self.d_head);
        let k = linear::forward(&self.k, memory.clone())
            .reshape([b, tk, h, dh])
            .swap_dims(1, 2);
        let v = linear::forward(&self.v, memory)
            .reshape([b, tk, h, dh])
            .swap_dims(1, 2);
        (k, v)
    }

    /// Attention over precomputed keys and values. `query`: `[batch, tq, d_model]`, `k`, `v`:
    /// `[kb, heads, tk, d_head]` with `batch` a multiple `g` of `kb` (query rows `i·g .. (i+1)·g`
    /// attend to memory `i`: the beams of one history share its keys and values, which are then
    /// never repeated), `bias` broadcastable to `[kb, heads, g·tq, tk]` → `[batch, tq, d_model]`.
    /// The projection weights `[q, k, v, o]` as stored (`[in, out]`), for the fused decoder layer.
    pub fn weights(&self) -> [Tensor<2>; 4] {
        [&self.q, &self.k, &self.v, &self.o].map(|l| l.weight.val())
    }

    pub fn forward_kv(
        &self,
        query: Tensor<3>,
        k: Tensor<4>,
        v: Tensor<4>,
        bias: Tensor<4>,
    ) -> Tensor<3> {
        let [b, tq, d_model] = query.dims();
        let kb = k.dims()[0];
        if kb != b && kb > 0 && b.is_multiple_of(kb) {
            // The g rows of each memory become one longer query sequence: exact for attention
            // without positions between query rows (cross-attention).
            let g = b / kb;
            let out = self.forward_kv(query.reshape([kb, g * tq, d_model]), k, v, bias);
            return out.reshape([b, tq, d_model]);
        }
        let (h, dh) = (self.heads, self.d_head);
        let q = linear::forward(&self.q, query)
            .reshape([b, tq, h, dh])
            .swap_dims(1, 2);
        let out = attend(q, k, v, bias, &self.dropout)
            .swap_dims(1, 2)
            .reshape([b, tq, h * dh]);
        linear::forward(&self.o, out)
    }
}

/// The attention core: scaled dot-product scores plus `bias`, softmax over keys, dropout on the
/// weights, weighted sum of the values. `q`: `[batch, heads, tq, d_head]`, `k`, `v`: `[batch,
/// heads, tk, d_head]`, `bias` broadcastable to `[batch, heads, tq, tk]` → `[batch, heads, tq,
/// d_head]`.
pub fn attend(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    bias: Tensor<4>,
    dropout: &Dropout,
) -> Tensor<4> {
    if let Some(out) = crate::flash::attend(&q, &k, &v, &bias, dropout) {
        return out;
    }
    let [b, h, tq, dh] = q.dims();
    let tk = k.dims()[2];
    let scores = q.matmul(k.transpose()).div_scalar((dh as f32).sqrt());
    let [bb, bh, bq, bk] = bias.dims();
    let bias = if [bb, bh, bq, bk] == [b, h, tq, tk] {
        bias
    } else {
        bias.expand([b, h, tq, tk])
    };
    let weights = dropout.forward(activation::softmax(scores + bias, 3));
    weights.matmul(v)
}
