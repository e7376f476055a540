//! When a recommender's training ends before its last step: the same two flags for TIGER and
//! SASRec, flattened into each one's options (and config fields of the same names).

use serde::{Deserialize, Serialize};

/// `--patience` and `--max-minutes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args, Default)]
pub struct StopOptions {
    /// Stop once this many validations in a row have not beaten the best NDCG@10 (0 = never).
    #[arg(long, default_value_t = 0)]
    #[serde(default)]
    pub patience: usize,
    /// Stop after this many minutes of training and validation, validating at the step it stops
    /// (0 = no limit).
    #[arg(long, default_value_t = 0.0)]
    #[serde(default)]
    pub max_minutes: f64,
}

impl StopOptions {
    /// Refuses an unusable time budget.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_minutes.is_finite() && self.max_minutes >= 0.0 {
            Ok(())
        } else {
            Err("--max-minutes must be 0 or more".into())
        }
    }
}
