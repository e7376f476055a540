//! What the UI knows: plain data received from the worker, plus view-independent results. Updated
//! only by draining events at the start of each frame.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::app::protocol::{DatasetSummary, Event, Job, Recommendation};
use tiger_core::config::QuantizeOptions;
use tiger_core::eval::Metrics;
use tiger_core::ids::{QuantizeStats, SemanticIds};
use tiger_core::run::RunKind;
use tiger_core::run::summary::RunSummary;
use tiger_models::decode::BeamStep;

use super::tree::{IdNode, build};

/// Everything the panels read.
#[derive(Debug, Default)]
pub struct AppState {
    /// Device description.
    pub device: Option<String>,
    /// Why the GPU is not used, if it is not.
    pub device_note: Option<String>,
    /// The loaded dataset.
    pub dataset: Option<DatasetSummary>,
    /// The running job.
    pub busy: Option<Job>,
    /// The running job's stage.
    pub phase: String,
    /// The running job's progress.
    pub progress: Option<(usize, usize)>,
    /// The last error, shown once in the status bar.
    pub last_error: Option<String>,
    /// Statistics of the RQ-VAE run in progress, or of the open one.
    pub quant_history: Vec<QuantizeStats>,
    /// Options of the open RQ-VAE run.
    pub quant_options: Option<QuantizeOptions>,
    /// The open run of each kind.
    pub open: HashMap<RunKind, PathBuf>,
    /// Every run found on disk or opened, newest first (the runs list and Compare).
    pub run_list: Vec<RunSummary>,
    /// A run whose dataset moved: `(run, where its config says the dataset was)`; the window asks
    /// for the folder.
    pub needs_data: Option<(PathBuf, PathBuf)>,
    /// Current semantic IDs.
    pub ids: Option<SemanticIds>,
    /// Their hierarchy.
    pub tree: Vec<IdNode>,
    /// What their codes mean: labels and coherence (empty until the worker sends them).
    pub hierarchy: tiger_core::run::hierarchy::Hierarchy,
    /// Training losses of TIGER.
    pub train_losses: Vec<(usize, f64)>,
    /// Validation metrics of TIGER.
    pub train_valid: Vec<(usize, Metrics)>,
    /// Training losses of the SASRec baseline (its own curves, not mixed with TIGER's).
    pub sasrec_losses: Vec<(usize, f64)>,
    /// Validation metrics of the SASRec baseline.
    pub sasrec_valid: Vec<(usize, Metrics)>,
    /// Training seconds at each of TIGER's validations (`None` where the run did not record it).
    pub train_valid_secs: Vec<Option<f64>>,
    /// Training seconds at each of SASRec's validations.
    pub sasrec_valid_secs: Vec<Option<f64>>,
    /// A trained recommender is ready in the worker.
    pub model_ready: bool,
    /// Beam-search steps of the last recommendation.
    pub beam_steps: Vec<BeamStep>,
    /// Results of the last recommendation.
    pub recommendations: Vec<Recommendation>,
    /// Incremented on every recommendation result (for the animation to restart).
    pub beam_generation: u64,
    /// 2-D PCA positions of the items' embeddings.
    pub map: Vec<[f32; 2]>,
    /// The t-SNE map of the same items (empty until the worker's map thread sends it).
    pub map_tsne: Vec<[f32; 2]>,
    /// Epochs of the t-SNE map done, while it computes.
    pub map_tsne_progress: Option<(usize, usize)>,
    /// Changes whenever the map or the semantic IDs change (the GPU map re-uploads its points).
    pub map_generation: u64,
    /// The map is synthetic (`gui --map-bench`); the dataset's map does not replace it.
    pub synthetic_map: bool,
    /// Test metrics per model, for the comparison table (latest per model name).
    pub comparison: Vec<(String, Metrics)>,
}

impl AppState {
    /// Applies one worker event.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Device {
                description,
                fallback,
            } => {
                self.device = Some(description);
                self.device_note = fallback;
            }
            Event::DatasetLoaded(summary) => {
                // A new dataset closes every run of the previous one.
                self.dataset = Some(*summary);
                self.map_tsne.clear();
                self.map_tsne_progress = None;
                self.busy = None;
                self.ids = None;
                self.map_generation += 1;
                self.tree.clear();
                self.model_ready = false;
                self.open.clear();
                self.quant_history.clear();
                self.quant_options = None;
                self.comparison.clear();
                for curve in [&mut self.train_losses, &mut self.sasrec_losses] {
                    curve.clear();
                }
                for curve in [&mut self.train_valid, &mut self.sasrec_valid] {
                    curve.clear();
                }
                for secs in [&mut self.train_valid_secs, &mut self.sasrec_valid_secs] {
                    secs.clear();
                }
                self.recommendations.clear();
                self.beam_steps.clear();
            }
            Event::Started(job) => {
                self.busy = Some(job);
                self.progress = None;
                self.phase.clear();
                self.last_error = None;
                match job {
                    Job::Quantize => self.quant_history.clear(),
                    Job::TrainTiger => {
                        self.train_losses.clear();
                        self.train_valid.clear();
                        self.train_valid_secs.clear();
                    }
                    Job::TrainSasRec => {
                        self.sasrec_losses.clear();
                        self.sasrec_valid.clear();
                        self.sasrec_valid_secs.clear();
                    }
                    Job::Recommend => {
                        self.beam_steps.clear();
                        self.recommendations.clear();
                    }
                    Job::Load | Job::Embed | Job::OpenRun | Job::ExactScoring => {}
                }
            }
            Event::Map(_) if self.synthetic_map => {}
            Event::Map(points) => {
                self.map = points;
                self.map_generation += 1;
            }
            Event::Phase(p) => self.phase = p,
            Event::Progress { done, total, .. } => self.progress = Some((done, total)),
            Event::QuantizeStats(s) => self.quant_history.push(s),
            Event::Hierarchy(h) => self.hierarchy = *h,
            Event::NeighbourMap(points) => {
                self.map_tsne = points;
                self.map_tsne_progress = None;
                self.map_generation += 1;
            }
            Event::NeighbourMapProgress { done, total } => {
                self.map_tsne_progress = Some((done, total));
            }
            Event::IdsChanged(ids) => {
                self.hierarchy = Default::default();
                self.tree = build(&ids);
                self.ids = Some(*ids);
                self.map_generation += 1;
            }
            Event::QuantRunShown(run) => {
                self.quant_history = run.history;
                self.quant_options = Some(run.options);
            }
            Event::RunOpened { kind, path } => {
                self.open.insert(kind, path);
            }
            Event::RunClosed(kind) => {
                self.open.remove(&kind);
                match kind {
                    RunKind::Rqvae => {
                        self.quant_history.clear();
                        self.quant_options = None;
                    }
                    RunKind::Tiger => {
                        self.model_ready = false;
                        self.train_losses.clear();
                        self.train_valid.clear();
                        self.train_valid_secs.clear();
                        self.comparison.retain(|(m, _)| m != "TIGER");
                        self.recommendations.clear();
                        self.beam_steps.clear();
                    }
                    RunKind::Sasrec => {}
                }
            }
            Event::RunNeedsData { run, expected } => {
                self.busy = None;
                self.phase = format!(
                    "the dataset of {} is not at {} any more: pick its folder",
                    run.display(),
                    expected.display()
                );
                self.needs_data = Some((run, expected));
            }
            Event::RunsList(list) => self.run_list = list,
            Event::TrainHistory {
                job,
                losses,
                valid,
                seconds,
            } => {
                if job == Job::TrainSasRec {
                    self.sasrec_losses = losses;
                    self.sasrec_valid = valid;
                    self.sasrec_valid_secs = seconds;
                } else {
                    self.train_losses = losses;
                    self.train_valid = valid;
                    self.train_valid_secs = seconds;
                }
            }
            Event::TrainLoss {
                job: Job::TrainSasRec,
                step,
                loss,
            } => self.sasrec_losses.push((step, loss)),
            Event::TrainLoss { step, loss, .. } => self.train_losses.push((step, loss)),
            Event::TrainValid {
                job: Job::TrainSasRec,
                step,
                metrics,
                seconds,
            } => {
                self.sasrec_valid.push((step, metrics));
                self.sasrec_valid_secs.push(Some(seconds));
            }
            Event::TrainValid {
                step,
                metrics,
                seconds,
                ..
            } => {
                self.train_valid.push((step, metrics));
                self.train_valid_secs.push(Some(seconds));
            }
            Event::TrainDone { .. } => {
                self.model_ready = true;
                self.busy = None;
            }
            Event::TestMetrics { model, metrics } => {
                self.comparison.retain(|(m, _)| *m != model);
                self.comparison.push((model, metrics));
                // The floor first, then the baseline, then TIGER and its ablations.
                let rank = |m: &str| {
                    [
                        "popularity",
                        "SASRec",
                        "TIGER",
                        "TIGER (exact scoring)",
                        "TIGER (random IDs)",
                        "TIGER (random IDs, exact scoring)",
                    ]
                    .iter()
                    .position(|r| *r == m)
                };
                self.comparison.sort_by_key(|(m, _)| rank(m));
            }
            Event::BeamStep(s) => self.beam_steps.push(s),
            Event::Recommendations(r) => {
                self.recommendations = r;
                self.beam_generation += 1;
                self.busy = None;
            }
            Event::Finished(_, text) => {
                self.busy = None;
                self.phase = text;
            }
            Event::Cancelled(job) => {
                self.busy = None;
                self.phase = format!("{job:?} cancelled");
            }
            Event::Exported(path) => self.phase = format!("exported {}", path.display()),
            Event::Error(e) => {
                self.last_error = Some(e);
                self.busy = None;
            }
        }
    }

    /// Replaces the map with [`synthetic_map`]`(n)` (for measuring the map's drawing speed beyond
    /// the sample's size); the dataset's map no longer replaces it.
    pub fn set_synthetic_map(&mut self, n: usize) {
        self.map = synthetic_map(n);
        self.map_generation += 1;
        self.synthetic_map = true;
    }

    /// Title of item `i`, or a placeholder.
    pub fn title(&self, i: u32) -> &str {
        self.dataset
            .as_ref()
            .and_then(|d| d.items.get(i as usize))
            .map_or("?", |r| r.title.as_str())
    }
}

/// `n` deterministic 2-D points in 16 round clusters on a 4 x 4 grid (point `i` is in cluster
/// `i % 16`), for frame-rate measurements of the map.
pub fn synthetic_map(n: usize) -> Vec<[f32; 2]> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x9E37_79B9_7F4A_7C15);
    let mut next = move || rng.random::<f32>();
    (0..n)
        .map(|i| {
            let c = (i % 16) as f32;
            let (cx, cy) = ((c % 4.0) * 3.0, (c / 4.0).floor() * 3.0);
            let r = next().sqrt();
            let a = next() * std::f32::consts::TAU;
            [cx + r * a.cos(), cy + r * a.sin()]
        })
        .collect()
}
