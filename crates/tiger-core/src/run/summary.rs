//! The runs list: every run folder under a root (a CLI sweep's nested folders included) read into
//! a short summary with its headline figures. Reads only small JSON files. Burn-free.

use std::path::{Path, PathBuf};

use super::json::read_json;
use super::layout::{RunHeader, RunKind, files, read_header};
use super::quantize_record::read_quantize_run;
use super::records::TestRecord;
use crate::config::QuantizeOptions;
use crate::ids::QuantizeStats;
use crate::run::tiger_config::{TigerRunConfig, TrainState};

/// A run as the runs list and Compare show it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// The run folder.
    pub path: PathBuf,
    /// The same folder resolved (links and `..` followed), to match runs to each other.
    pub resolved: PathBuf,
    /// Kind, date and dataset.
    pub header: RunHeader,
    /// Kind-specific figures.
    pub figures: Figures,
}

/// The figures of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Figures {
    /// An RQ-VAE run: its options and final codebook statistics.
    Rqvae {
        /// Options.
        options: Box<QuantizeOptions>,
        /// Final statistics.
        stats: Box<QuantizeStats>,
        /// Each level's coherence (`coherence.json`; empty for a run without one).
        coherence: Vec<crate::ids::coherence::LevelCoherence>,
    },
    /// A TIGER or SASRec run.
    Recommender {
        /// Steps trained.
        steps: usize,
        /// Best validation NDCG@10 and its step.
        best_valid: Option<(usize, f64)>,
        /// Test metrics, when recorded.
        test: Option<TestRecord>,
        /// For a TIGER run on semantic IDs (not the random-IDs ablation): the folder its
        /// `semantic_ids.csv` came from, resolved, when it is still there.
        ids_from: Option<PathBuf>,
    },
}

impl RunSummary {
    /// The folder's name (a run's name in lists).
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The dataset's folder name.
    pub fn dataset_name(&self) -> String {
        self.header.data.file_name().map_or_else(
            || self.header.data.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The headline figures in one line: usage per level and unique-prefix rate for an RQ-VAE,
    /// test (else best validation) NDCG@10 for a recommender.
    pub fn headline(&self) -> String {
        match &self.figures {
            Figures::Rqvae { stats, options, .. } => {
                let usage: Vec<String> = stats
                    .levels
                    .iter()
                    .map(|l| format!("{:.0}", l.usage_pct))
                    .collect();
                // The paper's scheme goes unnamed; another one leads the line.
                let scheme = match (options.scheme, options.sinkhorn) {
                    (crate::config::IdScheme::Rqvae, false) => String::new(),
                    (scheme, false) => format!("{} · ", scheme.name()),
                    (scheme, true) => format!("{} + Sinkhorn · ", scheme.name()),
                };
                format!(
                    "{scheme}usage {}% · unique {:.1}%",
                    usage.join("/"),
                    stats.unique_prefix_pct
                )
            }
            Figures::Recommender {
                test, best_valid, ..
            } => match (test, best_valid) {
                (Some(t), _) => format!("test NDCG@10 {:.4}", t.ndcg10()),
                (None, Some((_, v))) => format!("valid NDCG@10 {v:.4}"),
                (None, None) => "not validated yet".into(),
            },
        }
    }
}

/// Reads the summary of the run in `dir`, or says what is wrong with it.
pub fn summarize(dir: &Path) -> Result<RunSummary, String> {
    let header = read_header(dir)?;
    let figures = match header.kind {
        RunKind::Rqvae => {
            let r = read_quantize_run(dir)?;
            Figures::Rqvae {
                options: Box::new(r.config.options),
                stats: Box::new(r.stats),
                coherence: super::hierarchy::Hierarchy::read_coherence(dir).unwrap_or_default(),
            }
        }
        RunKind::Tiger | RunKind::Sasrec => {
            let curves: Option<TrainState> = if dir.join(files::CURVES).is_file() {
                Some(read_json(dir, files::CURVES)?)
            } else {
                None
            };
            let test: Option<TestRecord> = if dir.join(files::TEST_METRICS).is_file() {
                Some(read_json(dir, files::TEST_METRICS)?)
            } else {
                None
            };
            let ids_from = match header.kind {
                RunKind::Tiger => read_json::<TigerRunConfig>(dir, files::CONFIG)
                    .ok()
                    .filter(|c| !c.options.random_ids)
                    .and_then(|c| c.ids_source)
                    .and_then(|ids| ids_folder(dir, &ids)),
                _ => None,
            };
            Figures::Recommender {
                steps: curves.as_ref().map_or(0, |c| c.step),
                best_valid: curves.and_then(|c| c.best),
                test,
                ids_from,
            }
        }
    };
    Ok(RunSummary {
        path: dir.into(),
        resolved: std::fs::canonicalize(dir).unwrap_or_else(|_| dir.into()),
        header,
        figures,
    })
}

/// The resolved folder holding `ids` as a run recorded it: a path as given when training (from
/// the working folder of then, tried from here) or relative to the run.
fn ids_folder(run: &Path, ids: &Path) -> Option<PathBuf> {
    [ids.to_path_buf(), run.join(ids)]
        .iter()
        .find_map(|p| std::fs::canonicalize(p).ok())
        .and_then(|p| p.parent().map(Path::to_path_buf))
}

/// Folders nested this deep under a root are still searched for runs.
const MAX_DEPTH: usize = 4;

/// Every run folder (a folder with a `config.json`) under `root`, searching nested folders of
/// sweeps but not inside runs; sorted by path. A missing root gives none.
pub fn find_runs(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(root, 0, &mut found);
    found.sort();
    found
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    if dir.join(files::CONFIG).is_file() {
        found.push(dir.into());
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".old") {
            continue;
        }
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&e.path(), depth + 1, found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_found_in_nested_sweeps_but_not_inside_runs() {
        let root = std::env::temp_dir().join(format!("find-runs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["a", "sweep/b", "sweep/c/best", "sweep/.hidden", "empty/x"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        for d in ["a", "sweep/b", "sweep/c", "sweep/c/best", "sweep/.hidden"] {
            std::fs::write(root.join(d).join("config.json"), "{}").unwrap();
        }
        let found = find_runs(&root);
        let rel: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(&root).unwrap())
            .collect();
        assert_eq!(
            rel,
            [Path::new("a"), Path::new("sweep/b"), Path::new("sweep/c")]
        );
        assert!(find_runs(&root.join("missing")).is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
