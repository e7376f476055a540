//! tiger-explorer: TIGER generative retrieval (semantic IDs from an RQ-VAE over sentence embeddings,
//! then a sequence model that generates the next item's ID), end to end, on the GPU through burn.

pub mod app;
pub mod baseline;
pub mod bench;
pub mod decode;
pub mod device;
pub mod embed;
pub mod gpu_cache;
pub mod image_png;
pub mod row_lookup;
pub mod rqvae;
pub mod run;
pub mod seq2seq;
pub mod train;

// The burn-free layer, at the paths the rest of the crate uses.
pub use tiger_core::{atomic, config, data, eval};
