//! Writing an RQ-VAE run folder: semantic IDs, statistics, curves, config and weights, each
//! written atomically.

use std::path::Path;

use burn::store::{ModuleSnapshot, SafetensorsStore};
use tiger_core::run::json::{RunError, write_err, write_json, write_json_compact};
use tiger_core::run::quantize_record::QuantizeRunConfig;

use burn::prelude::Device;
use tiger_core::embeddings::Embeddings;
use tiger_core::run::json::read_json;

use crate::rqvae::{RqVae, RqVaeConfig, Standardizer};
use crate::train::device_rows::DeviceRows;
use crate::train::rqvae_loop::{TrainedRqVae, assign_codes};
use tiger_core::ids::SemanticIds;
use tiger_core::run::hierarchy::Hierarchy;
use tiger_core::run::layout::files;

/// Writes the whole run into `dir` (created if needed), with what its IDs mean (`hierarchy`: code
/// labels and coherence). Each file is written to a temporary name and renamed, so an interrupted
/// write never leaves a partial file; the config goes last, so a folder with a config is a whole
/// run.
pub fn save_quantize_run(
    dir: &Path,
    item_ids: &[String],
    ids: &SemanticIds,
    hierarchy: &Hierarchy,
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
    hierarchy.write(dir, ids.levels)?;
    write_json(&dir.join(files::CONFIG), config)
}

/// An RQ-VAE run read back: the model with its saved weights and its input standardisation.
pub struct SavedRqVae {
    /// The model, with the run's weights.
    pub model: RqVae,
    /// The standardisation the run's inputs went through.
    pub standardizer: Standardizer,
}

/// Reads what a quantize run saved to assign codes again (`config.json` for the shape,
/// `rqvae.safetensors`, `standardizer.json`); the error names the file and the problem.
pub fn load_quantize_run(run: &Path, device: &Device) -> Result<SavedRqVae, String> {
    let cfg: QuantizeRunConfig = read_json(run, files::CONFIG)?;
    let standardizer: Standardizer = read_json(run, files::STANDARDIZER)?;
    if standardizer.mean.len() != cfg.input_dim || standardizer.std.len() != cfg.input_dim {
        return Err(format!(
            "{}: {} means and {} deviations for {}-wide inputs",
            run.join(files::STANDARDIZER).display(),
            standardizer.mean.len(),
            standardizer.std.len(),
            cfg.input_dim
        ));
    }
    let mut model = RqVaeConfig::from_options(&cfg.options, cfg.input_dim).init(device);
    let weights = run.join(files::WEIGHTS);
    let mut store = SafetensorsStore::from_file(&weights);
    model
        .load_from(&mut store)
        .map_err(|e| format!("{}: {e}", weights.display()))?;
    Ok(SavedRqVae {
        model,
        standardizer,
    })
}

impl SavedRqVae {
    /// The codes of every row of `emb` (`[rows, levels]`), as the run assigned them.
    pub fn assign(&self, emb: &Embeddings, device: &Device) -> Result<Vec<u32>, String> {
        let x = self.standardizer.apply(emb);
        let rows = DeviceRows::upload(&x, emb.rows, emb.dim, device);
        assign_codes(&self.model, &rows).map_err(|e| e.to_string())
    }
}
