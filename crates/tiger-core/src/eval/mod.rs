//! Evaluation: Recall@K / NDCG@K and the popularity baseline.

pub mod metrics;
pub mod popularity;

pub use metrics::{Metrics, MetricsAccumulator};
