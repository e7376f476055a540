//! SASRec (Kang & McAuley, 2018): a causal self-attentive model over item ids with learned
//! positions, the dense baseline TIGER is compared against. Scores every catalogue item by the dot
//! product of the last hidden state with the item embeddings (shared input/output embeddings).

use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear,
    LinearConfig,
};
use burn::prelude::*;
use burn::tensor::activation;

use tiger_kernels::attention::{Attention, AttentionConfig};
use tiger_kernels::linear;
use tiger_kernels::row_lookup::gather_rows;

/// Shape of a SASRec model.
#[derive(Config, Debug)]
pub struct SasRecConfig {
    /// Catalogue size (item ids 1..=items; 0 is padding).
    pub items: usize,
    /// Hidden width.
    #[config(default = 64)]
    pub d_model: usize,
    /// Self-attention blocks.
    #[config(default = 2)]
    pub blocks: usize,
    /// Attention heads.
    #[config(default = 1)]
    pub heads: usize,
    /// Longest sequence (learned positions).
    #[config(default = 50)]
    pub max_len: usize,
    /// Dropout.
    #[config(default = 0.2)]
    pub dropout: f64,
}

/// One pre-norm block: causal self-attention and a point-wise feed-forward.
#[derive(Module, Debug)]
pub struct SasBlock {
    norm1: LayerNorm,
    attn: Attention,
    norm2: LayerNorm,
    ff1: Linear,
    ff2: Linear,
    dropout: Dropout,
}

/// The model.
#[derive(Module, Debug)]
pub struct SasRec {
    items: Embedding,
    positions: Embedding,
    blocks: Vec<SasBlock>,
    norm: LayerNorm,
    dropout: Dropout,
    d_model: usize,
}

impl SasRecConfig {
    /// Builds the model on `device`.
    pub fn init(&self, device: &Device) -> SasRec {
        let d = self.d_model;
        let ln = || LayerNormConfig::new(d).with_epsilon(1e-8).init(device);
        // Small embeddings: the item table is also the output layer, and burn's default N(0, 1)
        // would start the softmax with logits of standard deviation ≈ √d (initial loss ≈ 20).
        let init = burn::nn::Initializer::Normal {
            mean: 0.0,
            std: 1.0 / (d as f64).sqrt(),
        };
        SasRec {
            items: EmbeddingConfig::new(self.items + 1, d)
                .with_initializer(init.clone())
                .init(device),
            positions: EmbeddingConfig::new(self.max_len, d)
                .with_initializer(init)
                .init(device),
            blocks: (0..self.blocks)
                .map(|_| SasBlock {
                    norm1: ln(),
                    attn: AttentionConfig::new(d, self.heads, d / self.heads.max(1))
                        .with_dropout(self.dropout)
                        .init(device),
                    norm2: ln(),
                    ff1: LinearConfig::new(d, d).init(device),
                    ff2: LinearConfig::new(d, d).init(device),
                    dropout: DropoutConfig::new(self.dropout).init(),
                })
                .collect(),
            norm: ln(),
            dropout: DropoutConfig::new(self.dropout).init(),
            d_model: d,
        }
    }
}

impl SasRec {
    /// Hidden states. `seq`: `[batch, t]` item ids + 1, left-padded with 0 → `[batch, t, d_model]`.
    pub fn forward(&self, seq: Tensor<2, Int>) -> Tensor<3> {
        let device = seq.device();
        let [b, t] = seq.dims();
        let pad = seq.clone().equal_elem(0);
        let positions = Tensor::<1, Int>::arange(0..t as i64, &device)
            .reshape([1, t])
            .repeat_dim(0, b);
        let mut x = gather_rows(self.items.weight.val(), seq)
            + gather_rows(self.positions.weight.val(), positions);
        let keep = pad.clone().bool_not().float().reshape([b, t, 1]);
        x = self.dropout.forward(x) * keep.clone();
        let causal = Tensor::<2, Bool>::tril_mask([t, t], 0, &device)
            .float()
            .reshape([1, 1, t, t]);
        let key_pad = pad.float().reshape([b, 1, 1, t]);
        let bias = (causal + key_pad).clamp_max(1.0).mul_scalar(-1e9);
        for block in &self.blocks {
            let h = block.norm1.forward(x.clone());
            x = x + block
                .dropout
                .forward(block.attn.forward(h.clone(), h, bias.clone()));
            let h = block.norm2.forward(x.clone());
            let inner = activation::relu(linear::forward(&block.ff1, h));
            let f = linear::forward(&block.ff2, block.dropout.forward(inner));
            x = (x + block.dropout.forward(f)) * keep.clone();
        }
        self.norm.forward(x)
    }

    /// Scores of every class for each position: `hidden` `[n, d_model]` → `[n, items + 1]`
    /// (column 0 is padding).
    pub fn logits(&self, hidden: Tensor<2>) -> Tensor<2> {
        hidden.matmul(self.items.weight.val().transpose())
    }

    /// Scores of every catalogue item after each sequence: `seq` `[batch, t]` → `[batch, items]`.
    pub fn score_last(&self, seq: Tensor<2, Int>) -> Tensor<2> {
        let [b, t] = seq.dims();
        let h = self
            .forward(seq)
            .slice(s![.., t - 1..t, ..])
            .reshape([b, self.d_model]);
        let all = self.logits(h);
        let n = all.dims()[1];
        all.slice(s![.., 1..n])
    }
}
