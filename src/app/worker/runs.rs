//! The worker's run folders: opening a run of any kind with its dataset, closing runs that no
//! longer fit, and the runs list. Everything a run needs is read and checked before anything in
//! the worker or the window changes, so a broken folder leaves both as they were.

use std::path::{Path, PathBuf};
use tiger_core::run::hierarchy::Hierarchy;

use super::{Loaded, Recommender, Worker, load_data};
use crate::app::protocol::{Event, Job, QuantRun};
use tiger_core::ids::SemanticIds;
use tiger_core::rec_data::RecData;
use tiger_core::run::tiger_config::TrainState;
use tiger_core::run::{RunHeader, RunKind, TestRecord, files, read_json};
use tiger_models::train::tiger_loop;

impl Worker {
    /// Opens the run in `run` (on `data` when given, else on the dataset its config names).
    pub(super) fn open_run(&mut self, run: &Path, data: Option<&Path>) -> Result<(), String> {
        self.send(Event::Started(Job::OpenRun));
        if !run.join(files::CONFIG).exists() {
            // A folder of runs (a sweep): list them all.
            let found = tiger_core::run::summary::find_runs(run);
            if !found.is_empty() {
                self.scan_runs(&[run.to_path_buf()]);
                self.send(Event::Finished(
                    Job::OpenRun,
                    format!("listed the {} runs under {}", found.len(), run.display()),
                ));
                return Ok(());
            }
        }
        let header = tiger_core::run::layout::read_header(run)?;
        let same_data = data.is_none()
            && self
                .data
                .as_ref()
                .is_some_and(|l| header.dataset.as_ref() == Some(&l.stamp));
        let fresh = if same_data {
            None
        } else {
            let dir = match data
                .map(Path::to_path_buf)
                .or_else(|| header.find_data(run))
            {
                Some(d) => d,
                None => {
                    self.send(Event::RunNeedsData {
                        run: run.into(),
                        expected: header.data.clone(),
                    });
                    return Ok(());
                }
            };
            let loaded = load_data(&dir)
                .map_err(|e| format!("{}: cannot load its dataset: {e}", run.display()))?;
            check_stamp(run, &header, &loaded)?;
            Some(loaded)
        };
        let Some(loaded) = fresh.as_ref().or(self.data.as_ref()) else {
            return Err("load a dataset first".into());
        };
        let item_ids: Vec<String> = loaded.dataset.items.iter().map(|i| i.id.clone()).collect();
        let name = run.to_path_buf();
        match header.kind {
            RunKind::Rqvae => {
                let record = tiger_core::run::read_quantize_run(run)?;
                let ids = read_ids(run, &item_ids)?;
                self.commit_fresh(fresh);
                self.show_ids(ids, RunKind::Rqvae, None);
                self.send(Event::QuantRunShown(Box::new(QuantRun {
                    path: name.clone(),
                    options: record.config.options,
                    history: with_final(record.history, record.stats),
                })));
            }
            RunKind::Tiger => {
                let (cfg, model) =
                    tiger_loop::load_run(run, &self.device).map_err(|e| e.to_string())?;
                let (curves, test) = recorded(run)?;
                let ids = read_ids(run, &item_ids)?;
                self.commit_fresh(fresh);
                self.show_ids(ids, RunKind::Tiger, None);
                self.tiger = Some(Recommender {
                    model,
                    vocab: cfg.vocab,
                    max_history: cfg.options.max_history,
                    random_ids: cfg.options.random_ids,
                });
                self.send_recorded(Job::TrainTiger, curves, test);
                self.send(Event::TrainDone { step: 0 });
            }
            RunKind::Sasrec => {
                // Loading the weights checks them, though only the figures are shown.
                tiger_models::sasrec::train::load_run(run, &self.device)
                    .map_err(|e| e.to_string())?;
                let (curves, test) = recorded(run)?;
                self.commit_fresh(fresh);
                self.send_recorded(Job::TrainSasRec, curves, test);
            }
        }
        self.mark_open(header.kind, &name);
        self.send(Event::Finished(
            Job::OpenRun,
            format!("opened {} run {}", header.kind.label(), name.display()),
        ));
        Ok(())
    }

    /// Makes a freshly loaded dataset current (closing every run of the previous one).
    fn commit_fresh(&mut self, fresh: Option<Loaded>) {
        if let Some(loaded) = fresh {
            self.commit_data(loaded);
        }
    }

    /// Makes `ids` the current semantic IDs, brought by a run of `kind`: a run of the other
    /// ID-bearing kind stays open only when it uses the same IDs. What the codes mean is
    /// `known` when the caller computed it already, else computed here.
    pub(super) fn show_ids(&mut self, ids: SemanticIds, kind: RunKind, known: Option<Hierarchy>) {
        let unchanged = self.rec.as_ref().is_some_and(|r| r.ids == ids);
        if !unchanged {
            let other = match kind {
                RunKind::Tiger => RunKind::Rqvae,
                _ => RunKind::Tiger,
            };
            if other == RunKind::Tiger {
                self.tiger = None;
            }
            if self.open.remove(&other).is_some() {
                self.send(Event::RunClosed(other));
            }
        }
        let made = self.data.as_ref().map(|l| {
            let rec = RecData::new(l.dataset.clone(), l.split.clone(), ids.clone());
            let embeddings = l.embeddings.as_ref().map(|e| (e.data.as_slice(), e.dim));
            let hierarchy =
                known.unwrap_or_else(|| Hierarchy::compute(&ids, &l.features, embeddings));
            (rec, hierarchy)
        });
        let hierarchy = made.map(|(rec, h)| {
            self.rec = Some(rec);
            h
        });
        self.send(Event::IdsChanged(Box::new(ids)));
        if let Some(h) = hierarchy {
            self.send(Event::Hierarchy(Box::new(h)));
        }
    }

    /// Records `path` as the open run of `kind` and tells the UI.
    pub(super) fn mark_open(&mut self, kind: RunKind, path: &Path) {
        self.open.insert(kind, path.into());
        if !self.listed.iter().any(|p| p == path) {
            self.listed.push(path.into());
        }
        self.send(Event::RunOpened {
            kind,
            path: path.into(),
        });
        self.scan_runs(&[]);
    }

    /// Sends a recommender run's recorded curves and test metrics to the UI.
    fn send_recorded(&self, job: Job, curves: Option<TrainState>, test: Option<TestRecord>) {
        let curves = curves.unwrap_or_default();
        // Training time per validation, where the run recorded it.
        let seconds = if curves.valid_seconds.len() == curves.valid.len() {
            curves.valid_seconds.into_iter().map(Some).collect()
        } else {
            vec![None; curves.valid.len()]
        };
        self.send(Event::TrainHistory {
            job,
            losses: curves.losses,
            valid: curves.valid,
            seconds,
        });
        if let Some(t) = test {
            self.send_test(job, t);
        }
    }

    /// Sends a run's test metrics (and the popularity floor) to the comparison table.
    pub(super) fn send_test(&self, job: Job, record: TestRecord) {
        let name = match (job, &self.tiger) {
            (Job::TrainTiger, Some(t)) => t.label(),
            (Job::TrainTiger, None) => "TIGER",
            _ => "SASRec",
        };
        self.send(Event::TestMetrics {
            model: "popularity".into(),
            metrics: record.popularity,
        });
        self.send(Event::TestMetrics {
            model: name.into(),
            metrics: record.model,
        });
    }

    /// Lists every run under the runs folder and the listed folders (`extra` joins them), and
    /// every run opened since the window opened, newest first. Folders that cannot be read are left out.
    pub(super) fn scan_runs(&mut self, extra: &[PathBuf]) {
        for root in extra {
            if !self.roots.contains(root) {
                self.roots.push(root.clone());
            }
        }
        let mut paths: Vec<PathBuf> = std::iter::once(&self.runs)
            .chain(&self.roots)
            .flat_map(|r| tiger_core::run::summary::find_runs(r))
            .chain(self.listed.iter().cloned())
            .collect();
        let key = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.into());
        let mut seen = std::collections::HashSet::new();
        paths.retain(|p| seen.insert(key(p)));
        let mut list: Vec<_> = paths
            .iter()
            .filter_map(|p| tiger_core::run::summary::summarize(p).ok())
            .collect();
        list.sort_by(|a, b| {
            b.header
                .created
                .cmp(&a.header.created)
                .then(a.path.cmp(&b.path))
        });
        self.send(Event::RunsList(list));
    }
}

/// Refuses a dataset other than the one the run was trained on.
fn check_stamp(run: &Path, header: &RunHeader, loaded: &Loaded) -> Result<(), String> {
    match &header.dataset {
        Some(stamp) if *stamp != loaded.stamp => Err(format!(
            "{}: trained on another dataset ({} items, {} interactions) than {} ({} items, {} \
             interactions)",
            run.display(),
            stamp.items,
            stamp.interactions,
            loaded.dataset.source.display(),
            loaded.stamp.items,
            loaded.stamp.interactions
        )),
        _ => Ok(()),
    }
}

/// Reads a run's `semantic_ids.csv` against the catalogue.
fn read_ids(run: &Path, item_ids: &[String]) -> Result<SemanticIds, String> {
    let path = run.join(files::SEMANTIC_IDS);
    if !path.is_file() {
        return Err(format!(
            "{}: missing (the run folder is incomplete)",
            path.display()
        ));
    }
    SemanticIds::read_csv(&path, item_ids).map_err(|e| e.to_string())
}

/// A recommender run's curves and test metrics, each when recorded.
fn recorded(run: &Path) -> Result<(Option<TrainState>, Option<TestRecord>), String> {
    let optional = |name: &str| run.join(name).is_file();
    let curves = if optional(files::CURVES) {
        Some(read_json(run, files::CURVES)?)
    } else {
        None
    };
    let test = if optional(files::TEST_METRICS) {
        Some(read_json(run, files::TEST_METRICS)?)
    } else {
        None
    };
    Ok((curves, test))
}

/// The curves with the final statistics as their last point.
pub(super) fn with_final(
    mut history: Vec<tiger_core::ids::QuantizeStats>,
    last: tiger_core::ids::QuantizeStats,
) -> Vec<tiger_core::ids::QuantizeStats> {
    if history.last().is_none_or(|l| l.step != last.step) {
        history.push(last);
    }
    history
}
