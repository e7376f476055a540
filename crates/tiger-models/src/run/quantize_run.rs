//! Writing a quantize run folder (semantic IDs, statistics, curves, config and what made the codes:
//! RQ-VAE weights or residual k-means codebooks, put in place together) and reading one back to
//! make its codes again.

use std::path::Path;

use burn::store::{ModuleSnapshot, SafetensorsStore};
use tiger_core::atomic::Staged;
use tiger_core::run::json::{RunError, write_err};
use tiger_core::run::quantize_record::QuantizeRunConfig;

use burn::prelude::Device;
use tiger_core::embeddings::Embeddings;
use tiger_core::run::json::read_json;

use crate::id_schemes::{IdModel, ResidualKmeans, make};
use crate::rqvae::{RqVaeConfig, Standardizer};
use crate::train::rqvae_loop::TrainedIds;
use tiger_core::config::{IdScheme, QuantizeOptions};
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
    trained: &TrainedIds,
    config: &QuantizeRunConfig,
) -> Result<(), RunError> {
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let mut staged = Staged::new(dir);
    match &trained.model {
        IdModel::RqVae(model) => {
            let weights = dir.join(files::WEIGHTS);
            let mut store =
                SafetensorsStore::from_file(staged.temp_for(files::WEIGHTS)).overwrite(true);
            model
                .save_into(&mut store)
                .map_err(|e| write_err(&weights, e))?;
        }
        IdModel::ResidualKmeans(rk) => {
            let levels = rk.codebooks.len();
            let flat: Vec<f32> = rk.codebooks.concat();
            let books = tiger_core::embeddings::Embeddings {
                rows: levels * rk.codebook_size,
                dim: rk.dim,
                data: flat,
            };
            staged
                .write(
                    files::CODEBOOKS,
                    &tiger_core::embeddings::npy::encode(&books),
                )
                .map_err(|e| write_err(&dir.join(files::CODEBOOKS), e))?;
        }
        IdModel::Random => {}
    }
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

/// A quantize run read back: what made its codes, its input standardisation and options.
pub struct SavedIds {
    /// The RQ-VAE with its saved weights, the residual k-means codebooks, or nothing (random).
    pub model: IdModel,
    /// The standardisation the run's inputs went through.
    pub standardizer: Standardizer,
    /// The run's options (scheme, shape, seed, Sinkhorn).
    pub options: QuantizeOptions,
}

/// Reads what a quantize run saved to assign its codes again (`config.json`, `standardizer.json`,
/// and `rqvae.safetensors` or `codebooks.npy` by scheme); the error names the file and the
/// problem.
pub fn load_quantize_run(run: &Path, device: &Device) -> Result<SavedIds, String> {
    let cfg: QuantizeRunConfig = read_json(run, files::CONFIG)?;
    cfg.options
        .validate()
        .map_err(|e| format!("{}: {e}", run.join(files::CONFIG).display()))?;
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
    let o = &cfg.options;
    let model = match o.scheme {
        IdScheme::Rqvae | IdScheme::RqvaeRotation => {
            let mut model = RqVaeConfig::from_options(o, cfg.input_dim).init(device);
            let weights = run.join(files::WEIGHTS);
            let mut store = SafetensorsStore::from_file(&weights);
            model
                .load_from(&mut store)
                .map_err(|e| format!("{}: {e}", weights.display()))?;
            IdModel::RqVae(model)
        }
        IdScheme::ResidualKmeans => {
            let path = run.join(files::CODEBOOKS);
            let books = tiger_core::embeddings::store::read(&path).map_err(|e| e.to_string())?;
            if books.dim != cfg.input_dim || books.rows != o.levels * o.codebook_size {
                return Err(format!(
                    "{}: {} × {} codewords, but the run has {} levels of {} codes for {}-wide inputs",
                    path.display(),
                    books.rows,
                    books.dim,
                    o.levels,
                    o.codebook_size,
                    cfg.input_dim
                ));
            }
            IdModel::ResidualKmeans(ResidualKmeans {
                dim: books.dim,
                codebook_size: o.codebook_size,
                codebooks: books
                    .data
                    .chunks_exact(o.codebook_size * books.dim)
                    .map(<[f32]>::to_vec)
                    .collect(),
            })
        }
        IdScheme::Random => IdModel::Random,
    };
    Ok(SavedIds {
        model,
        standardizer,
        options: cfg.options,
    })
}

impl SavedIds {
    /// The codes of every row of `emb` (`[rows, levels]`), as the run assigned them.
    pub fn assign(&self, emb: &Embeddings, device: &Device) -> Result<Vec<u32>, String> {
        let x = self.standardizer.apply(emb);
        make::codes(&self.model, &x, emb.dim, None, device, &self.options)
            .map_err(|e| e.to_string())
    }
}
