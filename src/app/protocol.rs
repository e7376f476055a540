//! Messages between the UI and the worker thread: plain data only, no tensors.

use std::path::PathBuf;

use tiger_core::config::QuantizeOptions;
use tiger_core::eval::Metrics;
use tiger_core::ids::{QuantizeStats, SemanticIds};
use tiger_core::options::tiger::TigerOptions;
use tiger_core::run::RunKind;
use tiger_core::run::summary::RunSummary;
use tiger_models::decode::BeamStep;

/// What the UI asks the worker to do. Cancellation goes through a shared flag, not a command, so
/// it reaches a running job at once.
#[derive(Debug, Clone)]
pub enum Command {
    /// Load a dataset folder (and its `embeddings.npy` when present).
    LoadDataset(PathBuf),
    /// Embed the loaded catalogue's texts with the bundled encoder (from this folder) and write
    /// `DATA/embeddings.npy`, then reload the dataset.
    Embed(PathBuf),
    /// Train the RQ-VAE and assign semantic IDs.
    Quantize(QuantizeOptions),
    /// Train the generative recommender on the current semantic IDs.
    TrainTiger(TigerOptions),
    /// Train the SASRec baseline on the same split.
    TrainSasRec(tiger_core::options::sasrec::SasRecOptions),
    /// Beam search for a history of item indices.
    Recommend {
        /// Item indices, oldest first.
        history: Vec<u32>,
        /// Beam width.
        beam: usize,
        /// Results wanted.
        k: usize,
        /// Mask IDs that name no item.
        constrained: bool,
    },
    /// Rank the test split exactly with the open TIGER model (every item's full ID scored) and
    /// compare with its beam search of the test width: the paper's ablation.
    CompareExact,
    /// Open a run folder of any kind with its dataset: `data` when given, else the folder its
    /// config names (the worker asks for it with [`Event::RunNeedsData`] when it moved). A folder
    /// of runs (a sweep) is listed instead.
    OpenRun {
        /// The run folder.
        run: PathBuf,
        /// The dataset folder, when the user located it.
        data: Option<PathBuf>,
    },
    /// List every run under the runs folder, under the listed folders (these join them for good),
    /// and every run opened.
    ScanRuns(Vec<PathBuf>),
    /// Write the current semantic IDs to a file: JSON when it ends in `.json`, CSV otherwise.
    ExportIds(PathBuf),
    /// Copy the open run of a training job ([`Job::Quantize`], [`Job::TrainTiger`] or
    /// [`Job::TrainSasRec`]) into a folder the user chose.
    ExportCheckpoint(Job, PathBuf),
    /// Stop the worker thread.
    Shutdown,
}

/// Which long job an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Loading a dataset.
    Load,
    /// RQ-VAE training.
    Quantize,
    /// TIGER training.
    TrainTiger,
    /// SASRec baseline training.
    TrainSasRec,
    /// Beam search.
    Recommend,
    /// Embedding the catalogue.
    Embed,
    /// Opening a run folder.
    OpenRun,
    /// Exact scoring of the test split against beam search.
    ExactScoring,
}

impl Job {
    /// The kind of run a training job makes, if it makes one.
    pub fn run_kind(self) -> Option<RunKind> {
        match self {
            Job::Quantize => Some(RunKind::Rqvae),
            Job::TrainTiger => Some(RunKind::Tiger),
            Job::TrainSasRec => Some(RunKind::Sasrec),
            _ => None,
        }
    }
}

/// An RQ-VAE run as the Quantize tab shows it: trained in the window or opened from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantRun {
    /// The run folder.
    pub path: PathBuf,
    /// Options used.
    pub options: QuantizeOptions,
    /// Statistics at every log interval, the last one final.
    pub history: Vec<QuantizeStats>,
}

/// One catalogue row for display.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRow {
    /// Item id.
    pub id: String,
    /// Display title.
    pub title: String,
    /// Text the encoder reads.
    pub text: String,
    /// Whether the item occurs in some training sequence (false = cold start).
    pub in_training: bool,
}

/// What the UI shows about a loaded dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSummary {
    /// Folder.
    pub path: PathBuf,
    /// Detected layout.
    pub format: String,
    /// Catalogue rows.
    pub items: Vec<ItemRow>,
    /// Users in the files.
    pub users: usize,
    /// Interactions in the files.
    pub interactions: usize,
    /// Users kept by the 5-core filter.
    pub core_users: usize,
    /// Items kept by the 5-core filter.
    pub core_items: usize,
    /// Interactions kept by the 5-core filter.
    pub core_interactions: usize,
    /// Embedding file found, with its width.
    pub embeddings: Option<(PathBuf, usize)>,
}

/// One recommended item.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommendation {
    /// Item index (`None` for an invalid ID in unconstrained mode).
    pub item: Option<u32>,
    /// Full ID values (codes then collision token).
    pub values: Vec<u32>,
    /// Cumulative log-probability.
    pub score: f32,
}

/// What the worker reports.
#[derive(Debug, Clone)]
pub enum Event {
    /// The device in use.
    Device {
        /// E.g. "gpu (burn-wgpu: NVIDIA H200)".
        description: String,
        /// Why the GPU was not used, if it was not.
        fallback: Option<String>,
    },
    /// A dataset finished loading.
    DatasetLoaded(Box<DatasetSummary>),
    /// 2-D PCA positions of every item's embedding, for the map.
    Map(Vec<[f32; 2]>),
    /// A job began.
    Started(Job),
    /// A job's stage changed (e.g. "compiling kernels").
    Phase(String),
    /// A job advanced.
    Progress {
        /// Which job.
        job: Job,
        /// Units done.
        done: usize,
        /// Units in total.
        total: usize,
    },
    /// RQ-VAE statistics at a log interval.
    QuantizeStats(QuantizeStats),
    /// The current semantic IDs changed (an RQ-VAE run finished or a run was opened): the tree,
    /// the map and Recommend use them.
    IdsChanged(Box<SemanticIds>),
    /// The t-SNE map of the loaded embeddings (item order), which keeps neighbourhoods.
    NeighbourMap(Vec<[f32; 2]>),
    /// Epochs of the t-SNE map done so far.
    NeighbourMapProgress {
        /// Epochs done.
        done: usize,
        /// Epochs in all.
        total: usize,
    },
    /// What the current semantic IDs mean (every code's label, each level's coherence); follows
    /// [`Event::IdsChanged`] when a dataset is loaded.
    Hierarchy(Box<tiger_core::run::hierarchy::Hierarchy>),
    /// The RQ-VAE run the Quantize tab shows (finished in the window or opened from disk).
    QuantRunShown(Box<QuantRun>),
    /// A run is open (trained in the window or opened from disk): the Quantize, Train or
    /// Recommend tab shows it, and it is opened again at the next launch.
    RunOpened {
        /// Its kind.
        kind: RunKind,
        /// Its folder.
        path: PathBuf,
    },
    /// A run was closed because the one opened or trained after it uses other semantic IDs or
    /// another dataset.
    RunClosed(RunKind),
    /// The dataset a run was trained on is not where its config says; the UI asks for it.
    RunNeedsData {
        /// The run folder.
        run: PathBuf,
        /// Where its config says the dataset is.
        expected: PathBuf,
    },
    /// The runs list, newest first.
    RunsList(Vec<RunSummary>),
    /// The recorded curves of an opened recommender run.
    TrainHistory {
        /// [`Job::TrainTiger`] (TIGER) or [`Job::TrainSasRec`].
        job: Job,
        /// `(step, loss)` reports.
        losses: Vec<(usize, f64)>,
        /// `(step, metrics)` validations.
        valid: Vec<(usize, Metrics)>,
        /// Training seconds at each validation, when the run recorded them.
        seconds: Vec<Option<f64>>,
    },
    /// Training loss of the recommender being trained.
    TrainLoss {
        /// [`Job::TrainTiger`] (TIGER) or [`Job::TrainSasRec`].
        job: Job,
        /// Step.
        step: usize,
        /// Mean loss since the last report.
        loss: f64,
    },
    /// Validation metrics of the recommender being trained.
    TrainValid {
        /// [`Job::TrainTiger`] (TIGER) or [`Job::TrainSasRec`].
        job: Job,
        /// Step.
        step: usize,
        /// Metrics.
        metrics: Metrics,
        /// Training seconds (validation excluded) up to this validation.
        seconds: f64,
    },
    /// Seq2seq training finished; a model is ready for recommendations.
    TrainDone {
        /// Final step.
        step: usize,
    },
    /// Test-split metrics of a model ("popularity", "SASRec", "TIGER") for the comparison table.
    TestMetrics {
        /// Model name.
        model: String,
        /// Recall/NDCG on the test targets.
        metrics: Metrics,
    },
    /// One beam-search step (for the animation).
    BeamStep(BeamStep),
    /// Beam search finished.
    Recommendations(Vec<Recommendation>),
    /// A job stopped on request.
    Cancelled(Job),
    /// A job finished with nothing more to hand over; the text says what was done.
    Finished(Job, String),
    /// A file was written.
    Exported(PathBuf),
    /// A job failed; the message names the file or option at fault.
    Error(String),
}
