//! Messages between the UI and the worker thread: plain data only, no tensors.

use std::path::PathBuf;

use crate::config::QuantizeOptions;
use crate::decode::BeamStep;
use crate::eval::Metrics;
use crate::rqvae::{QuantizeStats, SemanticIds};
use crate::train::options::Seq2SeqOptions;

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
    TrainTiger(Seq2SeqOptions),
    /// Train the SASRec baseline on the same split.
    TrainSasRec(crate::baseline::sasrec_train::SasRecOptions),
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
    /// Write the current semantic IDs to a file: JSON when it ends in `.json`, CSV otherwise.
    ExportIds(PathBuf),
    /// Copy the checkpoint folder of a training job ([`Job::Quantize`], [`Job::Train`] or
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
    /// TIGER (seq2seq) training.
    Train,
    /// SASRec baseline training.
    TrainSasRec,
    /// Beam search.
    Recommend,
    /// Embedding the catalogue.
    Embed,
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
    /// RQ-VAE finished: the catalogue's semantic IDs.
    QuantizeDone {
        /// IDs of every item.
        ids: Box<SemanticIds>,
        /// Final statistics.
        stats: QuantizeStats,
        /// Options used.
        options: QuantizeOptions,
    },
    /// Training loss of the recommender being trained.
    TrainLoss {
        /// [`Job::Train`] (TIGER) or [`Job::TrainSasRec`].
        job: Job,
        /// Step.
        step: usize,
        /// Mean loss since the last report.
        loss: f64,
    },
    /// Validation metrics of the recommender being trained.
    TrainValid {
        /// [`Job::Train`] (TIGER) or [`Job::TrainSasRec`].
        job: Job,
        /// Step.
        step: usize,
        /// Metrics.
        metrics: Metrics,
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
