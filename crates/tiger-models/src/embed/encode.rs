//! Embedding item texts in batches with the bundled encoder.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use super::minilm::{MiniLm, MiniLmConfig, ModelError};
use super::tokenizer::{TextTokenizer, TokenizerError};
use tiger_core::embeddings::Embeddings;

/// Errors from embedding texts.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// Model weights missing or invalid.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Tokenizer missing or failing.
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    /// Reading results from the device failed.
    #[error("device read-back failed: {0}")]
    Device(String),
    /// The caller cancelled.
    #[error("cancelled")]
    Cancelled,
}

/// Tokenizer + model, ready to embed text on one device.
pub struct Encoder {
    tokenizer: TextTokenizer,
    model: MiniLm,
    device: Device,
}

/// Where the model files are expected by default.
pub const DEFAULT_MODEL_DIR: &str = "models/all-MiniLM-L6-v2";

impl Encoder {
    /// Loads `model.safetensors` and `tokenizer.json` from `dir` onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, EncodeError> {
        let tok_path: PathBuf = dir.join("tokenizer.json");
        if !tok_path.is_file() {
            return Err(ModelError::Missing { path: tok_path }.into());
        }
        let tokenizer = TextTokenizer::load(&tok_path)?;
        let model = MiniLmConfig::new().load(&dir.join("model.safetensors"), device)?;
        Ok(Self {
            tokenizer,
            model,
            device: device.clone(),
        })
    }

    /// Embeds a batch of texts → `[texts, 384]` unit vectors, row-major.
    pub fn embed_batch(&self, texts: &[&str]) -> Result<Vec<f32>, EncodeError> {
        let tokens = self.tokenizer.encode(texts)?;
        let shape = [tokens.batch, tokens.seq];
        let ids = Tensor::<2, Int>::from_data(TensorData::new(tokens.ids, shape), &self.device);
        let mask = Tensor::<2, Int>::from_data(TensorData::new(tokens.mask, shape), &self.device);
        self.model
            .embed(ids, mask)
            .try_into_vec_as::<f32>()
            .map_err(|e| EncodeError::Device(e.to_string()))
    }

    /// Embeds every text in batches of `batch`, calling `progress(done, total)` after each batch;
    /// `progress` returning false cancels. Texts are sorted by length inside the run so batches pad
    /// little; rows come back in the input order.
    pub fn embed_all(
        &self,
        texts: &[String],
        batch: usize,
        progress: &mut dyn FnMut(usize, usize) -> bool,
    ) -> Result<Embeddings, EncodeError> {
        let dim = MiniLmConfig::new().hidden;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut data = vec![0f32; texts.len() * dim];
        let mut done = 0;
        for chunk in order.chunks(batch.max(1)) {
            let batch_texts: Vec<&str> = chunk.iter().map(|&i| texts[i].as_str()).collect();
            let out = self.embed_batch(&batch_texts)?;
            for (row, &i) in chunk.iter().enumerate() {
                data[i * dim..(i + 1) * dim].copy_from_slice(&out[row * dim..(row + 1) * dim]);
            }
            done += chunk.len();
            if !progress(done, texts.len()) {
                return Err(EncodeError::Cancelled);
            }
        }
        Ok(Embeddings {
            rows: texts.len(),
            dim,
            data,
        })
    }
}
