//! The worker's exports: semantic IDs as CSV or JSON and copies of training checkpoints, each
//! written through a temporary file or folder and a rename.

use std::path::Path;

use super::Worker;
use crate::app::protocol::{Event, Job};

impl Worker {
    /// Copies the run folder of `job` (RQ-VAE, TIGER or SASRec) into `dest` as a new folder named
    /// like the run, through a temporary folder and a rename.
    pub(super) fn export_checkpoint(&mut self, job: Job, dest: &Path) -> Result<(), String> {
        let kind = job
            .run_kind()
            .ok_or_else(|| format!("{job:?} has no checkpoint"))?;
        let src =
            self.open.get(&kind).cloned().ok_or_else(|| {
                format!("no {} run is open: train or open one first", kind.label())
            })?;
        let name = src.file_name().map_or_else(
            || kind.label().to_lowercase(),
            |n| n.to_string_lossy().into_owned(),
        );
        let target = tiger_models::train::checkpoint::save_dir(dest, &name, |tmp| {
            copy_tree(&src, tmp).map_err(|e| e.to_string())
        })
        .map_err(|e| e.to_string())?;
        self.send(Event::Exported(target));
        Ok(())
    }

    pub(super) fn export_ids(&mut self, path: &Path) -> Result<(), String> {
        let rec = self
            .rec
            .as_ref()
            .ok_or("no semantic IDs yet: quantize first")?;
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        // What the codes mean goes with them: each item's labels in the JSON rows, and every
        // code's label beside the export as `<name>_code_labels.json`.
        let labels = self
            .data
            .as_ref()
            .map(|l| tiger_core::ids::CodeLabels::compute(&rec.ids, &l.features))
            .unwrap_or_default();
        if json {
            let rows: Vec<serde_json::Value> = rec
                .dataset
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let codes = rec.ids.codes_of(i);
                    serde_json::json!({
                        "item_id": item.id,
                        "title": item.title,
                        "codes": codes,
                        "collision": rec.ids.collision[i],
                        "labels": (1..=codes.len())
                            .map(|l| labels.words(&codes[..l]))
                            .collect::<Vec<_>>(),
                    })
                })
                .collect();
            tiger_core::run::write_json(path, &rows).map_err(|e| e.to_string())?;
        } else {
            rec.ids
                .write_csv(path, &rec.item_ids())
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let stem = path.file_stem().map_or_else(
            || "semantic_ids".into(),
            |s| s.to_string_lossy().into_owned(),
        );
        let labels_path = path.with_file_name(format!("{stem}_code_labels.json"));
        labels
            .write_json(&labels_path, rec.ids.levels)
            .map_err(|e| format!("{}: {e}", labels_path.display()))?;
        self.send(Event::Exported(path.into()));
        Ok(())
    }
}

/// Copies the files and folders under `src` into the existing folder `dst` (temporary `*.tmp` and
/// `*.old` checkpoint folders are skipped).
pub(super) fn copy_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(src)? {
        let entry = entry?;
        let name = entry.file_name();
        let lossy = name.to_string_lossy();
        if lossy.ends_with(".tmp") || lossy.ends_with(".old") {
            continue;
        }
        let to = dst.join(&name);
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&to)?;
            copy_tree(&entry.path(), &to)?;
        } else {
            std::fs::copy(entry.path(), &to)?;
        }
    }
    Ok(())
}
