//! The sentence encoder (all-MiniLM-L6-v2 in burn), its tokenizer, and embedding files.

pub mod encode;
pub mod minilm;
pub mod npy;
pub mod pca;
pub mod safetensors_io;
pub mod store;
pub mod tokenizer;

pub use encode::{EncodeError, Encoder};
pub use store::{Embeddings, StoreError};
