//! Word-piece tokenization with the model's own `tokenizer.json` (loaded offline by `tokenizers`).

use std::path::{Path, PathBuf};

use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Longest sequence fed to the encoder (the model was trained with 128; it accepts up to 512).
pub const MAX_TOKENS: usize = 256;

/// A batch of token ids padded to its longest member.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBatch {
    /// `[batch, seq]` row-major token ids (PAD = 0).
    pub ids: Vec<i64>,
    /// `[batch, seq]` row-major attention mask (1 = real token, 0 = PAD).
    pub mask: Vec<i64>,
    /// Number of sequences.
    pub batch: usize,
    /// Padded length.
    pub seq: usize,
}

/// Errors loading or running the tokenizer.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// The tokenizer file is missing or invalid.
    #[error("{path}: cannot load tokenizer: {message}")]
    Load {
        /// The tokenizer.json path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Encoding failed.
    #[error("tokenizer failed: {0}")]
    Encode(String),
}

/// The sentence encoder's tokenizer with padding set to the longest sequence of each batch.
pub struct TextTokenizer {
    inner: Tokenizer,
}

impl TextTokenizer {
    /// Loads `tokenizer.json`, replacing its fixed padding (128) by batch-longest padding and its
    /// truncation by [`MAX_TOKENS`].
    pub fn load(path: &Path) -> Result<Self, TokenizerError> {
        let load_err = |message: String| TokenizerError::Load {
            path: path.into(),
            message,
        };
        let mut inner = Tokenizer::from_file(path).map_err(|e| load_err(e.to_string()))?;
        let pad = inner.get_padding().cloned().unwrap_or_default();
        inner.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..pad
        }));
        inner
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| load_err(e.to_string()))?;
        Ok(Self { inner })
    }

    /// Tokenizes `texts` (with [CLS]/[SEP]) into one padded batch.
    pub fn encode(&self, texts: &[&str]) -> Result<TokenBatch, TokenizerError> {
        let encodings = self
            .inner
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| TokenizerError::Encode(e.to_string()))?;
        let seq = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0);
        let mut ids = Vec::with_capacity(texts.len() * seq);
        let mut mask = Vec::with_capacity(texts.len() * seq);
        for e in &encodings {
            ids.extend(e.get_ids().iter().map(|&v| v as i64));
            mask.extend(e.get_attention_mask().iter().map(|&v| v as i64));
            // BatchLongest padding makes every row `seq` long; guard anyway.
            for _ in e.get_ids().len()..seq {
                ids.push(0);
                mask.push(0);
            }
        }
        Ok(TokenBatch {
            ids,
            mask,
            batch: texts.len(),
            seq,
        })
    }
}
