//! What an RQ-VAE run folder records besides its weights: its config and its statistics, read
//! back for the Quantize tab, the runs list and Compare.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::json::read_json;
use super::layout::{RunHeader, files};
use crate::config::QuantizeOptions;
use crate::ids::QuantizeStats;

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
    let mut stats: QuantizeStats = read_json(dir, files::STATS)?;
    if stats.lacks_report() {
        // Written before the report had entropy, Gini and collision groups: compute them from
        // the run's IDs (when those cannot be read, the figures the file has are shown alone).
        let path = dir.join(files::SEMANTIC_IDS);
        let o = &config.options;
        if let Ok((_, ids)) = crate::ids::SemanticIds::read_csv_in_file_order(&path) {
            // Only IDs of the run's own shape: a code beyond the codebook means the file is not
            // the run's, and would size the counts by whatever number it holds.
            if ids.levels == o.levels && ids.codebook_size() as usize <= o.codebook_size {
                stats.take_report(crate::ids::catalogue_stats(
                    &ids.codes,
                    ids.levels,
                    o.codebook_size,
                ));
            }
        }
    }
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
