//! RQ-VAE: model, residual quantizer, k-means initialisation, semantic IDs and codebook statistics.

pub mod kmeans;
pub mod model;
pub mod nearest_kernel;
pub mod quantizer;
pub mod standardize;
pub use tiger_core::ids::{semantic_ids, stats};

pub use model::{RqVae, RqVaeConfig, RqVaeOutput};
pub use semantic_ids::SemanticIds;
pub use standardize::Standardizer;
pub use stats::{LevelStats, QuantizeStats, catalogue_stats};
