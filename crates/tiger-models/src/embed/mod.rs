//! The sentence encoder (all-MiniLM-L6-v2 in burn), its tokenizer, and embedding files.

pub mod encode;
pub mod minilm;
pub mod pca;
pub mod tokenizer;
pub mod tsne;

pub use encode::{EncodeError, Encoder};
