//! What a recommender run records besides its weights: the test-split metrics of its best weights
//! (`test_metrics.json`). Its curves are the loop state ([`crate::run::tiger_config::TrainState`])
//! in `curves.json`. Burn-free.

use serde::{Deserialize, Serialize};

use crate::eval::Metrics;

/// `test_metrics.json`: how the run's best weights rank the test targets, beside the popularity
/// floor on the same split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    /// The split evaluated ("test").
    pub split: String,
    /// Step of the weights evaluated.
    pub step: usize,
    /// Recall and NDCG of the model.
    pub model: Metrics,
    /// Recall and NDCG of the most popular training items.
    pub popularity: Metrics,
    /// Beam width (TIGER; `None` for SASRec, which ranks every item).
    pub beam: Option<usize>,
    /// Device that computed it.
    pub device: String,
}

impl TestRecord {
    /// NDCG@10 of the model.
    pub fn ndcg10(&self) -> f64 {
        self.model.ndcg_at(10).unwrap_or(0.0)
    }
}
