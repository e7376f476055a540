//! Packing a run to share or bundle: the same layout with its weights in half precision and
//! without the optimiser state and resumable checkpoint; a recommender's test metrics are recorded
//! again for the packed weights. Written into a temporary folder and renamed, so an interrupted
//! pack leaves nothing behind.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn::store::{FloatCastAdapter, ModuleSnapshot, SafetensorsStore};

use crate::train::checkpoint;
use tiger_core::run::layout::{RunKind, files, read_header};
use tiger_core::run::records::TestRecord;
use tiger_core::run::{read_json, write_json, write_json_compact};

/// Packs the run in `run` into the new folder `out` (which must not exist). The packed config
/// names its dataset relative to `out` when both are on this machine, so that a run bundled beside
/// its dataset opens from any working folder. With `weights` false an RQ-VAE run keeps only its
/// IDs, statistics and curves. Recommender runs are evaluated again on `device`; their new test
/// record is returned.
pub fn pack_run(
    run: &Path,
    out: &Path,
    weights: bool,
    device: &Device,
    device_name: &str,
) -> Result<Option<TestRecord>, String> {
    let header = read_header(run)?;
    if !weights && header.kind != RunKind::Rqvae {
        return Err(format!(
            "{}: a {} run is its weights; only an RQ-VAE run can be packed without them",
            run.display(),
            header.kind.label()
        ));
    }
    if out.exists() {
        return Err(format!(
            "{}: already exists; choose a new folder",
            out.display()
        ));
    }
    let data = header.find_data(run).ok_or_else(|| {
        format!(
            "{}: its dataset {} is not here",
            run.display(),
            header.data.display()
        )
    })?;
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .ok_or_else(|| format!("{}: not a folder name", out.display()))?
        .to_string_lossy()
        .into_owned();
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let relative = relative_to(&parent.join(&name), &data);
    checkpoint::save_dir(parent, &name, |tmp| {
        let mut config: serde_json::Value = read_json(run, files::CONFIG)?;
        if let Some(rel) = &relative {
            config["data"] = serde_json::Value::String(rel.to_string_lossy().into_owned());
        }
        write_json(&tmp.join(files::CONFIG), &config).map_err(|e| e.to_string())?;
        for f in [files::SEMANTIC_IDS, files::STATS, files::STANDARDIZER] {
            if run.join(f).is_file() {
                std::fs::copy(run.join(f), tmp.join(f))
                    .map_err(|e| format!("{}: {e}", run.join(f).display()))?;
            }
        }
        if run.join(files::CURVES).is_file() {
            let curves: serde_json::Value = read_json(run, files::CURVES)?;
            write_json_compact(&tmp.join(files::CURVES), &curves).map_err(|e| e.to_string())?;
        }
        match header.kind {
            RunKind::Rqvae if !weights => Ok(()),
            RunKind::Rqvae => pack_rqvae(run, tmp, device),
            RunKind::Tiger => {
                let (_, model) =
                    crate::train::tiger_loop::load_run(run, device).map_err(|e| e.to_string())?;
                pack_best(run, tmp, &model)
            }
            RunKind::Sasrec => {
                let (_, model) =
                    crate::sasrec::train::load_run(run, device).map_err(|e| e.to_string())?;
                pack_best(run, tmp, &model)
            }
        }
    })
    .map_err(|e| e.to_string())?;
    retest(out, header.kind, &data, device, device_name)
}

/// Writes `model` as the packed run's best weights in half precision, with the step they come from.
fn pack_best<M: burn::module::Module>(run: &Path, tmp: &Path, model: &M) -> Result<(), String> {
    let best = tmp.join(files::BEST);
    std::fs::create_dir_all(&best).map_err(|e| format!("{}: {e}", best.display()))?;
    checkpoint::save_half(model, &best.join("model.bpk"))?;
    let state = run.join(files::BEST).join("state.json");
    if state.is_file() {
        std::fs::copy(&state, best.join("state.json"))
            .map_err(|e| format!("{}: {e}", state.display()))?;
    }
    Ok(())
}

/// Writes the RQ-VAE's weights in half precision; residual k-means codebooks are copied as they
/// are (rounding them could move codes), and a random-IDs run has nothing to write.
fn pack_rqvae(run: &Path, tmp: &Path, device: &Device) -> Result<(), String> {
    use crate::id_schemes::IdModel;
    let model = match super::quantize_run::load_quantize_run(run, device)?.model {
        IdModel::RqVae(model) => model,
        IdModel::ResidualKmeans(_) => {
            let from = run.join(files::CODEBOOKS);
            return std::fs::copy(&from, tmp.join(files::CODEBOOKS))
                .map(|_| ())
                .map_err(|e| format!("{}: {e}", from.display()));
        }
        IdModel::Random => return Ok(()),
    };
    let mut half = SafetensorsStore::from_file(tmp.join(files::WEIGHTS))
        .overwrite(true)
        .with_to_adapter(FloatCastAdapter::to(burn::tensor::DType::F16));
    model
        .save_into(&mut half)
        .map_err(|e| format!("{}: {e}", tmp.join(files::WEIGHTS).display()))
}

/// Records the packed recommender's test metrics again (its weights were rounded).
fn retest(
    out: &Path,
    kind: RunKind,
    data: &Path,
    device: &Device,
    device_name: &str,
) -> Result<Option<TestRecord>, String> {
    use crate::train::test_eval;
    match kind {
        RunKind::Rqvae => Ok(None),
        RunKind::Tiger => {
            let cfg = crate::train::tiger_loop::load_run(out, device)
                .map_err(|e| e.to_string())?
                .0;
            let rec = tiger_core::rec_data::RecData::load(
                data,
                &out.join(files::SEMANTIC_IDS),
                cfg.options.k_core,
            )
            .map_err(|e| e.to_string())?;
            test_eval::test_tiger(out, &rec, device, device_name, &|| false)
                .map_err(|e| e.to_string())
        }
        RunKind::Sasrec => {
            let cfg = crate::sasrec::train::load_run(out, device)
                .map_err(|e| e.to_string())?
                .0;
            let dataset = tiger_core::data::load(data).map_err(|e| e.to_string())?;
            let split =
                tiger_core::data::split(&dataset, cfg.options.k_core).map_err(|e| e.to_string())?;
            crate::sasrec::train::test_sasrec(out, &split, dataset.items.len(), device, device_name)
                .map(Some)
                .map_err(|e| e.to_string())
        }
    }
}

/// `to` as a path relative to the folder `from` (which may not exist yet), when both resolve on
/// this machine.
pub fn relative_to(from: &Path, to: &Path) -> Option<PathBuf> {
    let to = std::fs::canonicalize(to).ok()?;
    let from = match std::fs::canonicalize(from) {
        Ok(p) => p,
        Err(_) => std::fs::canonicalize(from.parent()?)
            .ok()?
            .join(from.file_name()?),
    };
    let common = from
        .components()
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut rel = PathBuf::new();
    for _ in from.components().skip(common) {
        rel.push("..");
    }
    for c in to.components().skip(common) {
        rel.push(c);
    }
    Some(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_out_of_the_run_folder() {
        let root = std::env::temp_dir().join(format!("rel-{}", std::process::id()));
        std::fs::create_dir_all(root.join("data/ml")).unwrap();
        std::fs::create_dir_all(root.join("assets/demo")).unwrap();
        let rel = relative_to(&root.join("assets/demo/tiger"), &root.join("data/ml")).unwrap();
        assert_eq!(rel, Path::new("../../../data/ml"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
