//! Writing and reading an RQ-VAE run folder: semantic IDs, statistics, curves, config and
//! weights, each written atomically.

use std::path::{Path, PathBuf};

use burn::store::{ModuleSnapshot, SafetensorsStore};
use serde::{Deserialize, Serialize};

use super::layout::{RunHeader, files};
use crate::config::QuantizeOptions;
use crate::rqvae::{QuantizeStats, SemanticIds};
use crate::train::rqvae_loop::TrainedRqVae;

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

/// What `config.json` records about an RQ-VAE run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuantizeRunConfig {
    /// Kind, layout version, date and dataset.
    #[serde(flatten)]
    pub header: RunHeader,
    /// Embeddings file used.
    pub embeddings: PathBuf,
    /// Every RQ-VAE option.
    pub options: QuantizeOptions,
    /// Input width.
    pub input_dim: usize,
    /// Device description.
    pub device: String,
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

/// Writes `value` as compact JSON to `path`, atomically (for machine data such as curves).
pub fn write_json_compact(path: &Path, value: &impl Serialize) -> Result<(), RunError> {
    let text = serde_json::to_string(value).map_err(|e| write_err(path, e))?;
    crate::atomic::write(path, text.as_bytes()).map_err(|e| write_err(path, e))
}

/// Reads `dir/name` as JSON of type `T`, with the file named in the message.
pub fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Result<T, String> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("{}: missing (the run folder is incomplete)", path.display())
        } else {
            format!("{}: cannot read: {e}", path.display())
        }
    })?;
    serde_json::from_str(&text).map_err(|e| {
        let why: String = e.to_string().chars().take(160).collect();
        format!("{}: damaged ({why})", path.display())
    })
}

/// Writes the whole run into `dir` (created if needed). Each file is written to a temporary name
/// and renamed, so an interrupted write never leaves a partial file; the config goes last, so a
/// folder with a config is a whole run.
pub fn save_quantize_run(
    dir: &Path,
    item_ids: &[String],
    ids: &SemanticIds,
    trained: &TrainedRqVae,
    config: &QuantizeRunConfig,
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
    write_json(&dir.join(files::STATS), &trained.stats)?;
    write_json_compact(&dir.join(files::CURVES), &trained.history)?;
    let csv = dir.join(files::SEMANTIC_IDS);
    ids.write_csv(&csv, item_ids)
        .map_err(|e| write_err(&csv, e))?;
    write_json(&dir.join(files::CONFIG), config)
}

/// An RQ-VAE run read back: options, final statistics and the statistics at every log interval.
#[derive(Debug, Clone)]
pub struct QuantizeRecord {
    /// The run's config.
    pub config: QuantizeRunConfig,
    /// Final statistics.
    pub stats: QuantizeStats,
    /// Statistics at every log interval (empty when the run recorded none).
    pub history: Vec<QuantizeStats>,
}

/// Reads an RQ-VAE run's config, statistics and curves (not its IDs or weights).
pub fn read_quantize_run(dir: &Path) -> Result<QuantizeRecord, String> {
    let config: QuantizeRunConfig = read_json(dir, files::CONFIG)?;
    config
        .options
        .validate()
        .map_err(|e| format!("{}: {e}", dir.join(files::CONFIG).display()))?;
    let stats: QuantizeStats = read_json(dir, files::STATS)?;
    let history: Vec<QuantizeStats> = if dir.join(files::CURVES).is_file() {
        read_json(dir, files::CURVES)?
    } else {
        Vec::new()
    };
    Ok(QuantizeRecord {
        config,
        stats,
        history,
    })
}
