//! Writing an RQ-VAE run folder: semantic IDs, statistics, curves, config and weights, each
//! written atomically.

use std::path::Path;

use burn::store::{ModuleSnapshot, SafetensorsStore};
use tiger_core::run::json::{RunError, write_err, write_json, write_json_compact};
use tiger_core::run::quantize_record::QuantizeRunConfig;

use crate::train::rqvae_loop::TrainedRqVae;
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
