//! The T5-style encoder-decoder that reads a history of semantic-ID tokens and generates the next
//! item's ID token by token. Pre-norm blocks with RMSNorm, ReLU feed-forward, bucketed relative
//! position bias (one per stack, shared by its layers), dropout 0.1.

use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig, RmsNorm,
    RmsNormConfig,
};
use burn::prelude::*;
use burn::tensor::activation;

use tiger_kernels::row_lookup::gather_rows;

use super::relpos::RelativeBias;
use tiger_kernels::attention::{Attention, AttentionConfig};
use tiger_kernels::linear;
use tiger_kernels::rmsnorm;

/// Shape of the model. Defaults are TIGER's: 4 + 4 layers, d_model 128, 6 heads × 64, FFN 1024.
#[derive(Config, Debug)]
pub struct TigerConfig {
    /// Vocabulary size (see `Vocab::size`).
    pub vocab_size: usize,
    /// Model width.
    #[config(default = 128)]
    pub d_model: usize,
    /// Attention heads.
    #[config(default = 6)]
    pub heads: usize,
    /// Width of each head.
    #[config(default = 64)]
    pub d_head: usize,
    /// Feed-forward width.
    #[config(default = 1024)]
    pub d_ff: usize,
    /// Encoder layers.
    #[config(default = 4)]
    pub encoder_layers: usize,
    /// Decoder layers.
    #[config(default = 4)]
    pub decoder_layers: usize,
    /// Dropout rate.
    #[config(default = 0.1)]
    pub dropout: f64,
    /// Relative position buckets.
    #[config(default = 32)]
    pub rel_buckets: usize,
    /// Largest distance with its own bucket range.
    #[config(default = 128)]
    pub rel_max_distance: usize,
}

/// ReLU feed-forward block.
#[derive(Module, Debug)]
pub struct FeedForward {
    pub(super) wi: Linear,
    pub(super) wo: Linear,
    dropout: Dropout,
}

impl FeedForward {
    /// `[batch, t, d_model]` → `[batch, t, d_model]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = activation::relu(linear::forward(&self.wi, x));
        linear::forward(&self.wo, self.dropout.forward(h))
    }
}

/// Encoder layer: self-attention and feed-forward, each pre-normed with a residual.
#[derive(Module, Debug)]
pub struct EncoderLayer {
    pub(super) norm1: RmsNorm,
    pub(super) attn: Attention,
    pub(super) norm2: RmsNorm,
    pub(super) ff: FeedForward,
    dropout: Dropout,
}

/// Decoder layer: causal self-attention, cross-attention and feed-forward.
#[derive(Module, Debug)]
pub struct DecoderLayer {
    pub(super) norm1: RmsNorm,
    pub(super) self_attn: Attention,
    pub(super) norm2: RmsNorm,
    pub(super) cross_attn: Attention,
    pub(super) norm3: RmsNorm,
    pub(super) ff: FeedForward,
    dropout: Dropout,
}

/// The whole model.
#[derive(Module, Debug)]
pub struct Tiger {
    pub(super) embed: Embedding,
    pub(super) encoder: Vec<EncoderLayer>,
    pub(super) encoder_bias: RelativeBias,
    pub(super) encoder_norm: RmsNorm,
    pub(super) decoder: Vec<DecoderLayer>,
    pub(super) decoder_bias: RelativeBias,
    pub(super) decoder_norm: RmsNorm,
    pub(super) head: Linear,
    dropout: Dropout,
}

impl TigerConfig {
    /// Builds the model with random weights on `device`.
    pub fn init(&self, device: &Device) -> Tiger {
        let norm = || {
            RmsNormConfig::new(self.d_model)
                .with_epsilon(1e-6)
                .init(device)
        };
        let attn = || {
            AttentionConfig::new(self.d_model, self.heads, self.d_head)
                .with_dropout(self.dropout)
                .init(device)
        };
        let drop = || DropoutConfig::new(self.dropout).init();
        let ff = || FeedForward {
            wi: LinearConfig::new(self.d_model, self.d_ff)
                .with_bias(false)
                .init(device),
            wo: LinearConfig::new(self.d_ff, self.d_model)
                .with_bias(false)
                .init(device),
            dropout: drop(),
        };
        Tiger {
            embed: EmbeddingConfig::new(self.vocab_size, self.d_model).init(device),
            encoder: (0..self.encoder_layers)
                .map(|_| EncoderLayer {
                    norm1: norm(),
                    attn: attn(),
                    norm2: norm(),
                    ff: ff(),
                    dropout: drop(),
                })
                .collect(),
            encoder_bias: RelativeBias::new(
                self.heads,
                self.rel_buckets,
                self.rel_max_distance,
                true,
                device,
            ),
            encoder_norm: norm(),
            decoder: (0..self.decoder_layers)
                .map(|_| DecoderLayer {
                    norm1: norm(),
                    self_attn: attn(),
                    norm2: norm(),
                    cross_attn: attn(),
                    norm3: norm(),
                    ff: ff(),
                    dropout: drop(),
                })
                .collect(),
            decoder_bias: RelativeBias::new(
                self.heads,
                self.rel_buckets,
                self.rel_max_distance,
                false,
                device,
            ),
            decoder_norm: norm(),
            head: LinearConfig::new(self.d_model, self.vocab_size)
                .with_bias(false)
                .init(device),
            dropout: drop(),
        }
    }
}

/// Additive key mask from a `[batch, t]` 1/0 mask → `[batch, 1, 1, t]` (0 or −1e9).
fn key_mask(mask: Tensor<2, Int>) -> Tensor<4> {
    let [b, t] = mask.dims();
    mask.float()
        .sub_scalar(1.0)
        .mul_scalar(1e9)
        .reshape([b, 1, 1, t])
}

impl Tiger {
    /// Encodes histories. `tokens`, `mask`: `[batch, src]` → `[batch, src, d_model]`.
    pub fn encode(&self, tokens: Tensor<2, Int>, mask: Tensor<2, Int>) -> Tensor<3> {
        let device = tokens.device();
        let [_, s] = tokens.dims();
        let bias = self.encoder_bias.forward(s, s, &device) + key_mask(mask);
        let mut x = self
            .dropout
            .forward(gather_rows(self.embed.weight.val(), tokens));
        for layer in &self.encoder {
            let h = rmsnorm::forward(&layer.norm1, x.clone());
            x = x + layer
                .dropout
                .forward(layer.attn.forward_self(h, bias.clone()));
            let h = rmsnorm::forward(&layer.norm2, x.clone());
            x = x + layer.dropout.forward(layer.ff.forward(h));
        }
        self.dropout
            .forward(rmsnorm::forward(&self.encoder_norm, x))
    }

    /// Decoder logits for every position. `memory`: `[batch, src, d_model]`, `mask`: `[batch,
    /// src]`, `tokens`: `[batch, tgt]` (BOS first) → `[batch, tgt, vocab]`.
    pub fn decode(
        &self,
        memory: Tensor<3>,
        mask: Tensor<2, Int>,
        tokens: Tensor<2, Int>,
    ) -> Tensor<3> {
        self.decode_kv(&self.cross_kv(memory), mask, tokens)
    }

    /// Cross-attention keys and values of every decoder layer for `memory` (`[batch, src,
    /// d_model]`), each `[batch, heads, src, d_head]`. Beam search computes them once per query
    /// batch instead of at every step, and does not repeat them per beam: the decoder batch may be
    /// any multiple of `batch` (see [`Tiger::decode_kv`]).
    pub fn cross_kv(&self, memory: Tensor<3>) -> Vec<(Tensor<4>, Tensor<4>)> {
        self.decoder
            .iter()
            .map(|layer| layer.cross_attn.project_memory(memory.clone()))
            .collect()
    }

    /// Decoder logits like [`Tiger::decode`], with the cross-attention keys and values of
    /// [`Tiger::cross_kv`]. `kv`: one `([queries, heads, src, d_head] x 2)` per layer, `mask`:
    /// `[queries, src]`, `tokens`: `[queries × g, tgt]`, the `g` rows of each query consecutive
    /// (its beams) → `[queries × g, tgt, vocab]`.
    pub fn decode_kv(
        &self,
        kv: &[(Tensor<4>, Tensor<4>)],
        mask: Tensor<2, Int>,
        tokens: Tensor<2, Int>,
    ) -> Tensor<3> {
        let biases = self.decoder_biases(tokens.dims()[1], mask);
        linear::forward(&self.head, self.decoder_states(kv, &biases, tokens))
    }

    /// The decoder's attention biases for `t` target positions: self-attention (relative
    /// positions plus the causal mask) `[1, heads, t, t]`, and cross-attention (the padding of
    /// `mask` `[queries, src]`) `[queries, 1, 1, src]`. Beam search builds them once per query
    /// batch rather than at every step.
    pub fn decoder_biases(&self, t: usize, mask: Tensor<2, Int>) -> (Tensor<4>, Tensor<4>) {
        let device = mask.device();
        let causal = Tensor::<2, Bool>::tril_mask([t, t], 0, &device)
            .float()
            .mul_scalar(-1e9)
            .reshape([1, 1, t, t]);
        (
            self.decoder_bias.forward(t, t, &device) + causal,
            key_mask(mask),
        )
    }

    /// Next-token logits of the last position only: `kv` and `tokens` as in
    /// [`Tiger::decode_kv`], `biases` from [`Tiger::decoder_biases`] for `tokens`' length →
    /// `[batch, vocab]` (the output layer runs on one position).
    pub fn decode_last(
        &self,
        kv: &[(Tensor<4>, Tensor<4>)],
        biases: &(Tensor<4>, Tensor<4>),
        tokens: Tensor<2, Int>,
    ) -> Tensor<2> {
        let states = self.decoder_states(kv, biases, tokens);
        let [b, t, d] = states.dims();
        let last = states.slice(s![.., t - 1..t, ..]).reshape([b, d]);
        self.head.forward(last)
    }

    /// Final decoder states (after the last norm): `[batch, tgt, d_model]`.
    fn decoder_states(
        &self,
        kv: &[(Tensor<4>, Tensor<4>)],
        (self_bias, cross_bias): &(Tensor<4>, Tensor<4>),
        tokens: Tensor<2, Int>,
    ) -> Tensor<3> {
        let mut x = self
            .dropout
            .forward(gather_rows(self.embed.weight.val(), tokens));
        for (layer, (k, v)) in self.decoder.iter().zip(kv) {
            let h = rmsnorm::forward(&layer.norm1, x.clone());
            x = x + layer
                .dropout
                .forward(layer.self_attn.forward_self(h, self_bias.clone()));
            let h = rmsnorm::forward(&layer.norm2, x.clone());
            x = x + layer.dropout.forward(layer.cross_attn.forward_kv(
                h,
                k.clone(),
                v.clone(),
                cross_bias.clone(),
            ));
            let h = rmsnorm::forward(&layer.norm3, x.clone());
            x = x + layer.dropout.forward(layer.ff.forward(h));
        }
        self.dropout
            .forward(rmsnorm::forward(&self.decoder_norm, x))
    }

    /// Teacher-forced logits. `src`, `mask`: `[batch, src]`, `tgt_in`: `[batch, tgt]` →
    /// `[batch, tgt, vocab]`.
    pub fn forward(
        &self,
        src: Tensor<2, Int>,
        mask: Tensor<2, Int>,
        tgt_in: Tensor<2, Int>,
    ) -> Tensor<3> {
        let memory = self.encode(src, mask.clone());
        self.decode(memory, mask, tgt_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Beams sharing their history's keys and values (no per-beam copies) give the logits that
    /// decoding each beam against its own copy of the history gives.
    #[test]
    fn shared_cross_attention_equals_repeated_memory() {
        let device = Device::flex();
        let model = TigerConfig::new(30)
            .with_d_model(16)
            .with_heads(2)
            .with_d_head(8)
            .with_d_ff(32)
            .with_encoder_layers(1)
            .with_decoder_layers(2)
            .with_dropout(0.0)
            .init(&device);
        let src = Tensor::<2, Int>::from_data([[3, 4, 5, 6], [7, 8, 0, 0]], &device);
        let mask = Tensor::<2, Int>::from_data([[1, 1, 1, 1], [1, 1, 0, 0]], &device);
        let memory = model.encode(src, mask.clone());
        // Three beams per history, query-major, each with its own prefix.
        let tokens = Tensor::<2, Int>::from_data(
            [
                [1, 9, 10],
                [1, 11, 12],
                [1, 13, 14],
                [1, 15, 16],
                [1, 17, 18],
                [1, 19, 20],
            ],
            &device,
        );
        let shared = model.decode_kv(
            &model.cross_kv(memory.clone()),
            mask.clone(),
            tokens.clone(),
        );
        let rep = |t: Tensor<3>| {
            let [b, s, d] = t.dims();
            t.unsqueeze_dim::<4>(1)
                .expand([b, 3, s, d])
                .reshape([b * 3, s, d])
        };
        let mask_rep = mask.unsqueeze_dim::<3>(1).expand([2, 3, 4]).reshape([6, 4]);
        let repeated = model.decode(rep(memory), mask_rep, tokens);
        shared.to_data().assert_approx_eq::<f32>(
            &repeated.to_data(),
            burn::tensor::Tolerance::rel_abs(1e-4, 1e-5),
        );
    }
}
