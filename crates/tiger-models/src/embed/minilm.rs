//! all-MiniLM-L6-v2 (BERT, 6 layers, 384-d, 12 heads) written with burn modules, loaded from the
//! model's PyTorch safetensors through burn-store's PyTorch→burn adapter, with mean pooling over
//! real (non-PAD) tokens and L2 normalisation, as sentence-transformers does.

use std::path::{Path, PathBuf};

use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::store::{
    FloatCastAdapter, ModuleAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore,
};
use burn::tensor::{DType, activation};

/// Shape of a BERT encoder. Defaults are all-MiniLM-L6-v2's.
#[derive(Config, Debug)]
pub struct MiniLmConfig {
    /// Word-piece vocabulary size.
    #[config(default = 30522)]
    pub vocab_size: usize,
    /// Hidden width.
    #[config(default = 384)]
    pub hidden: usize,
    /// Transformer layers.
    #[config(default = 6)]
    pub layers: usize,
    /// Attention heads.
    #[config(default = 12)]
    pub heads: usize,
    /// Feed-forward width.
    #[config(default = 1536)]
    pub intermediate: usize,
    /// Longest sequence (position embeddings).
    #[config(default = 512)]
    pub max_positions: usize,
    /// LayerNorm epsilon.
    #[config(default = 1e-12)]
    pub layer_norm_eps: f64,
}

/// Token, position and segment embeddings followed by LayerNorm.
#[derive(Module, Debug)]
pub struct BertEmbeddings {
    word_embeddings: Embedding,
    position_embeddings: Embedding,
    token_type_embeddings: Embedding,
    layer_norm: LayerNorm,
}

/// Multi-head self-attention projections (`attention.self` in the checkpoint).
#[derive(Module, Debug)]
pub struct SelfAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    heads: usize,
}

/// A dense layer followed by a residual add and LayerNorm.
#[derive(Module, Debug)]
pub struct DenseNorm {
    dense: Linear,
    layer_norm: LayerNorm,
}

/// A plain dense layer (`intermediate.dense`).
#[derive(Module, Debug)]
pub struct Dense {
    dense: Linear,
}

/// Self-attention with its output projection.
#[derive(Module, Debug)]
pub struct Attention {
    self_attn: SelfAttention,
    output: DenseNorm,
}

/// One transformer layer.
#[derive(Module, Debug)]
pub struct BertLayer {
    attention: Attention,
    intermediate: Dense,
    output: DenseNorm,
}

/// The stack of transformer layers.
#[derive(Module, Debug)]
pub struct BertEncoder {
    layer: Vec<BertLayer>,
}

/// The sentence encoder. Field names mirror the checkpoint's keys so weights load by name.
#[derive(Module, Debug)]
pub struct MiniLm {
    embeddings: BertEmbeddings,
    encoder: BertEncoder,
}

/// Errors loading the encoder weights.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A required model file is absent.
    #[error("{path}: model file not found; run scripts/fetch-model.sh to fetch all-MiniLM-L6-v2")]
    Missing {
        /// The missing file.
        path: PathBuf,
    },
    /// The weights file could not be applied to the model.
    #[error("{path}: cannot load weights: {message}")]
    Load {
        /// The weights file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl MiniLmConfig {
    /// Builds an encoder with freshly initialised weights on `device`.
    pub fn init(&self, device: &Device) -> MiniLm {
        let d = self.hidden;
        let ln = || {
            LayerNormConfig::new(d)
                .with_epsilon(self.layer_norm_eps)
                .init(device)
        };
        let lin = |i, o| LinearConfig::new(i, o).init(device);
        MiniLm {
            embeddings: BertEmbeddings {
                word_embeddings: EmbeddingConfig::new(self.vocab_size, d).init(device),
                position_embeddings: EmbeddingConfig::new(self.max_positions, d).init(device),
                token_type_embeddings: EmbeddingConfig::new(2, d).init(device),
                layer_norm: ln(),
            },
            encoder: BertEncoder {
                layer: (0..self.layers)
                    .map(|_| BertLayer {
                        attention: Attention {
                            self_attn: SelfAttention {
                                query: lin(d, d),
                                key: lin(d, d),
                                value: lin(d, d),
                                heads: self.heads,
                            },
                            output: DenseNorm {
                                dense: lin(d, d),
                                layer_norm: ln(),
                            },
                        },
                        intermediate: Dense {
                            dense: lin(d, self.intermediate),
                        },
                        output: DenseNorm {
                            dense: lin(self.intermediate, d),
                            layer_norm: ln(),
                        },
                    })
                    .collect(),
            },
        }
    }

    /// Builds the encoder and loads PyTorch/HuggingFace BERT weights from `path` (safetensors).
    /// Every parameter must be present with the right shape; extra tensors (the pooler) are
    /// ignored.
    pub fn load(&self, path: &Path, device: &Device) -> Result<MiniLm, ModelError> {
        if !path.is_file() {
            return Err(ModelError::Missing { path: path.into() });
        }
        let mut model = self.init(device);
        let mut store = SafetensorsStore::from_file(path)
            .with_key_remapping(r"^bert\.", "")
            .with_key_remapping(r"\.LayerNorm\.", ".layer_norm.")
            .with_key_remapping(r"\.attention\.self\.", ".attention.self_attn.")
            .with_from_adapter(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)));
        let load_err = |message: String| ModelError::Load {
            path: path.into(),
            message,
        };
        let result = model
            .load_from(&mut store)
            .map_err(|e| load_err(e.to_string()))?;
        if !result.missing.is_empty() || !result.errors.is_empty() {
            return Err(load_err(result.to_string()));
        }
        Ok(model)
    }
}

impl SelfAttention {
    /// `x`: `[batch, seq, hidden]`, `mask_add`: `[batch, 1, 1, seq]` (0 for tokens, a large
    /// negative number for PAD) → `[batch, seq, hidden]`.
    fn forward(&self, x: Tensor<3>, mask_add: Tensor<4>) -> Tensor<3> {
        let [b, s, d] = x.dims();
        let (h, dh) = (self.heads, d / self.heads);
        let split = |t: Tensor<3>| t.reshape([b, s, h, dh]).swap_dims(1, 2);
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = split(self.value.forward(x));
        let scores = q.matmul(k.transpose()).div_scalar((dh as f32).sqrt()) + mask_add;
        activation::softmax(scores, 3)
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([b, s, d])
    }
}

impl DenseNorm {
    /// `x`: `[batch, seq, in]`, `residual`: `[batch, seq, hidden]` → `[batch, seq, hidden]`.
    fn forward(&self, x: Tensor<3>, residual: Tensor<3>) -> Tensor<3> {
        self.layer_norm.forward(self.dense.forward(x) + residual)
    }
}

impl MiniLm {
    /// Token states. `ids`, `mask`: `[batch, seq]` (mask 1 = token, 0 = PAD) → `[batch, seq,
    /// hidden]`.
    pub fn forward(&self, ids: Tensor<2, Int>, mask: Tensor<2, Int>) -> Tensor<3> {
        let device = ids.device();
        let [b, s] = ids.dims();
        let positions = Tensor::<1, Int>::arange(0..s as i64, &device)
            .reshape([1, s])
            .repeat_dim(0, b);
        let e = &self.embeddings;
        let mut x = e.layer_norm.forward(
            e.word_embeddings.forward(ids)
                + e.position_embeddings.forward(positions)
                + e.token_type_embeddings
                    .forward(Tensor::<2, Int>::zeros([b, s], &device)),
        );
        let mask_add = mask
            .float()
            .sub_scalar(1.0)
            .mul_scalar(1e9)
            .reshape([b, 1, 1, s]);
        for layer in &self.encoder.layer {
            let att = layer
                .attention
                .self_attn
                .forward(x.clone(), mask_add.clone());
            let a = layer.attention.output.forward(att, x);
            let h = activation::gelu(layer.intermediate.dense.forward(a.clone()));
            x = layer.output.forward(h, a);
        }
        x
    }

    /// Sentence embeddings: mean of token states over real tokens, L2-normalised.
    /// `ids`, `mask`: `[batch, seq]` → `[batch, hidden]`.
    pub fn embed(&self, ids: Tensor<2, Int>, mask: Tensor<2, Int>) -> Tensor<2> {
        let [b, s] = ids.dims();
        let states = self.forward(ids, mask.clone());
        let hidden = states.dims()[2];
        let m = mask.float().reshape([b, s, 1]);
        let pooled = (states * m.clone())
            .sum_dim(1)
            .div(m.sum_dim(1).clamp_min(1e-9))
            .reshape([b, hidden]);
        let norm = pooled.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
        pooled.div(norm)
    }
}
