//! RQ-VAE: model, residual quantizer (on the fused code-search kernel where it applies), k-means
//! initialisation and the input standardizer. Semantic IDs and their statistics are in
//! `tiger_core::ids`.

pub mod kmeans;
pub mod model;
pub mod quantizer;
pub mod standardize;

pub use model::{RqVae, RqVaeConfig, RqVaeOutput};
pub use standardize::Standardizer;
