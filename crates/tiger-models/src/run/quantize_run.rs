//! Writing an RQ-VAE run folder (semantic IDs, statistics, curves, config and weights, put in place
//! together) and reading one back.

use std::path::Path;

use burn::store::{ModuleSnapshot, SafetensorsStore};
use tiger_core::atomic::Staged;
use tiger_core::run::json::{RunError, write_err};
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
/// labels and coherence). Every file is written whole under a temporary name first, then all are
/// renamed into place with the config last and the old config removed before the first rename
/// ([`tiger_core::atomic::Staged`]): a folder with a config holds one run's files, old or new,
/// never a mix, and an interrupted rewrite leaves a folder without a config, which readers report
/// as unfinished.
pub fn save_quantize_run(
    dir: &Path,
    item_ids: &[String],
    ids: &SemanticIds,
    hierarchy: &Hierarchy,
    trained: &TrainedRqVae,
    config: &QuantizeRunConfig,
) -> Result<(), RunError> {
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let mut staged = Staged::new(dir);
    let weights = dir.join(files::WEIGHTS);
    let mut store = SafetensorsStore::from_file(staged.temp_for(files::WEIGHTS)).overwrite(true);
    trained
        .model
        .save_into(&mut store)
        .map_err(|e| write_err(&weights, e))?;
    let io = std::io::Error::other;
    for (name, text) in [
        (
            files::STANDARDIZER,
            serde_json::to_string_pretty(&trained.standardizer).map_err(io),
        ),
        (
            files::STATS,
            serde_json::to_string_pretty(&trained.stats).map_err(io),
        ),
        (
            files::CURVES,
            serde_json::to_string(&trained.history).map_err(io),
        ),
    ] {
        text.and_then(|t| staged.write(name, t.as_bytes()))
            .map_err(|e| write_err(&dir.join(name), e))?;
    }
    staged
        .write_with(files::SEMANTIC_IDS, |w| ids.write_csv_to(w, item_ids))
        .map_err(|e| write_err(&dir.join(files::SEMANTIC_IDS), e))?;
    hierarchy.stage(&mut staged, ids.levels)?;
    let config_path = dir.join(files::CONFIG);
    let config_text =
        serde_json::to_string_pretty(config).map_err(|e| write_err(&config_path, e))?;
    staged
        .commit(files::CONFIG, config_text.as_bytes())
        .map_err(|e| write_err(dir, e))
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
