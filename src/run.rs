//! Writing a quantize run folder: semantic IDs, statistics, config and weights, each atomically.

use std::path::{Path, PathBuf};

use burn::store::{ModuleSnapshot, SafetensorsStore};
use serde::Serialize;

use crate::config::QuantizeOptions;
use crate::rqvae::SemanticIds;
use crate::train::rqvae_loop::TrainedRqVae;

/// File names inside a run folder.
pub mod files {
    /// Semantic IDs, `item_id,c1,..,cL,collision`.
    pub const SEMANTIC_IDS: &str = "semantic_ids.csv";
    /// Final statistics.
    pub const STATS: &str = "rqvae_stats.json";
    /// Options, model shape and provenance.
    pub const CONFIG: &str = "config.json";
    /// Model weights.
    pub const WEIGHTS: &str = "rqvae.safetensors";
    /// Input standardisation.
    pub const STANDARDIZER: &str = "standardizer.json";
}

/// Errors writing a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file could not be written.
    #[error("{path}: cannot write: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// What `config.json` records about a quantize run.
#[derive(Debug, Serialize)]
pub struct RunConfig<'a> {
    /// Dataset folder.
    pub data: &'a Path,
    /// Embeddings file used.
    pub embeddings: &'a Path,
    /// Every RQ-VAE option.
    pub options: &'a QuantizeOptions,
    /// Input width.
    pub input_dim: usize,
    /// Device description.
    pub device: &'a str,
    /// Training wall time in seconds.
    pub train_seconds: f64,
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Write {
        path: path.into(),
        message: e.to_string(),
    }
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| write_err(path, e))?;
    crate::atomic::write(path, text.as_bytes()).map_err(|e| write_err(path, e))
}

/// Writes the whole run into `dir` (created if needed). Each file is written to a temporary name
/// and renamed, so an interrupted write never leaves a partial file.
pub fn save_quantize_run(
    dir: &Path,
    item_ids: &[String],
    ids: &SemanticIds,
    trained: &TrainedRqVae,
    config: &RunConfig,
) -> Result<(), RunError> {
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let weights = dir.join(files::WEIGHTS);
    let tmp = dir.join(format!(".{}.tmp-{}", files::WEIGHTS, std::process::id()));
    let mut store = SafetensorsStore::from_file(&tmp).overwrite(true);
    let saved = trained.model.save_into(&mut store);
    if let Err(e) = saved {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_err(&weights, e));
    }
    std::fs::rename(&tmp, &weights).map_err(|e| write_err(&weights, e))?;
    write_json(&dir.join(files::STANDARDIZER), &trained.standardizer)?;
    write_json(&dir.join(files::CONFIG), config)?;
    write_json(&dir.join(files::STATS), &trained.stats)?;
    let csv = dir.join(files::SEMANTIC_IDS);
    ids.write_csv(&csv, item_ids)
        .map_err(|e| write_err(&csv, e))
}
