//! Recall/NDCG metrics (the app's source file).

#[path = "../../src/eval/metrics.rs"]
pub mod metrics;
pub use metrics::Metrics;
