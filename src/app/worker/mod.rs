//! The worker thread: owns the device, the dataset, the semantic IDs and the models, runs one job
//! at a time, and reports plain-data events over a bounded channel. The UI never touches tensors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burn::prelude::*;

mod export;
mod jobs;
mod neighbour_map;
mod runs;

use crate::app::protocol::{Command, DatasetSummary, Event, ItemRow, Job};
use tiger_core::data::{Dataset, Split};
use tiger_core::device_choice::DeviceChoice;
use tiger_core::embeddings::{Embeddings, store};
use tiger_core::ids::Vocab;
use tiger_core::ids::features::Features;
use tiger_core::rec_data::RecData;
use tiger_core::run::RunKind;
use tiger_core::run::layout::DatasetStamp;
use tiger_kernels::Kernels;
use tiger_kernels::device;
use tiger_models::tiger::Tiger;

/// Capacity of the event channel; the worker waits when the UI falls this far behind.
const EVENTS: usize = 512;
/// Progress events are sent at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// Where the worker's device comes from.
#[derive(Debug, Clone)]
pub enum DeviceSource {
    /// The worker initialises this choice itself (off the UI thread).
    Choose(DeviceChoice),
    /// Already initialised (e.g. shared with the window's renderer).
    Ready(device::ChosenDevice),
}

impl From<DeviceChoice> for DeviceSource {
    fn from(choice: DeviceChoice) -> Self {
        DeviceSource::Choose(choice)
    }
}

/// The UI's side of the worker: send commands, drain events, raise the cancel flag.
pub struct WorkerHandle {
    commands: SyncSender<Command>,
    /// Events from the worker, drained by the UI each frame.
    pub events: Receiver<Event>,
    pub(super) cancel: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WorkerHandle {
    /// Starts the worker thread on `source`; `repaint` is called after every event (the UI's
    /// `request_repaint`). `runs` is where training checkpoints go. The worker computes with the
    /// calling thread's kernel choice ([`Kernels::current`]).
    pub fn spawn(
        source: impl Into<DeviceSource>,
        runs: PathBuf,
        repaint: Box<dyn Fn() + Send>,
    ) -> std::io::Result<Self> {
        let (cmd_tx, cmd_rx) = sync_channel::<Command>(16);
        let (ev_tx, ev_rx) = sync_channel::<Event>(EVENTS);
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let source = source.into();
        let kernels = Kernels::current();
        let thread = std::thread::Builder::new()
            .name("tiger-worker".into())
            .spawn(move || {
                kernels.install();
                let chosen = match source {
                    DeviceSource::Choose(choice) => device::choose(choice),
                    DeviceSource::Ready(chosen) => chosen,
                };
                let mut worker = Worker {
                    device: chosen.device.clone(),
                    device_name: chosen.description.clone(),
                    events: ev_tx,
                    repaint: Arc::new(Mutex::new(repaint)),
                    map_cancel: Arc::new(AtomicBool::new(false)),
                    cancel: flag,
                    runs,
                    data: None,
                    rec: None,
                    tiger: None,
                    open: Default::default(),
                    listed: Vec::new(),
                    roots: Vec::new(),
                    last_progress: Instant::now(),
                };
                worker.send(Event::Device {
                    description: chosen.description,
                    fallback: chosen.fallback,
                });
                while let Ok(cmd) = cmd_rx.recv() {
                    if matches!(cmd, Command::Shutdown) {
                        break;
                    }
                    worker.cancel.store(false, Ordering::SeqCst);
                    // A panic inside burn or a job (device lost, out of memory) must not silently
                    // kill the worker: report it and keep serving commands.
                    let ran =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.run(cmd)));
                    if let Err(panic) = ran {
                        let msg = device::panic_text(panic.as_ref());
                        worker.send(Event::Error(device::backend_failure(&msg)));
                    }
                }
                worker.map_cancel.store(true, Ordering::SeqCst);
            })?;
        Ok(Self {
            commands: cmd_tx,
            events: ev_rx,
            cancel,
            thread: Some(thread),
        })
    }

    /// Queues a command; false if the worker is gone or its queue is full.
    pub fn send(&self, cmd: Command) -> bool {
        match self.commands.try_send(cmd) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Asks the running job to stop at its next check (within one training step).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        let _ = self.commands.try_send(Command::Shutdown);
        // Let a blocked `send` on the worker side finish by draining, then wait for the thread.
        while self.events.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !t.is_finished() && Instant::now() < deadline {
                while self.events.try_recv().is_ok() {}
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// A loaded dataset with its split and embeddings.
pub(super) struct Loaded {
    pub(super) dataset: Dataset,
    pub(super) split: Split,
    pub(super) embeddings: Option<Arc<Embeddings>>,
    /// Every item's descriptive features, for code labels and coherence.
    pub(super) features: Features,
    pub(super) stamp: DatasetStamp,
    /// What the UI is told about it.
    summary: DatasetSummary,
    /// 2-D PCA positions of the embeddings.
    map: Option<Vec<[f32; 2]>>,
}

/// A trained recommender ready for beam search.
pub(super) struct Recommender {
    pub(super) model: Tiger,
    pub(super) vocab: Vocab,
    pub(super) max_history: usize,
    /// Trained on random IDs of the same shape (the ablation).
    pub(super) random_ids: bool,
}

impl Recommender {
    /// The model's name in the test comparison.
    pub(super) fn label(&self) -> &'static str {
        if self.random_ids {
            "TIGER (random IDs)"
        } else {
            "TIGER"
        }
    }

    /// The name of the model's exact-scoring row in the test comparison.
    pub(super) fn exact_label(&self) -> &'static str {
        if self.random_ids {
            "TIGER (random IDs, exact scoring)"
        } else {
            "TIGER (exact scoring)"
        }
    }
}

/// The worker's state; its jobs live in `jobs.rs`, `runs.rs` and `export.rs`.
pub(super) struct Worker {
    pub(super) device: Device,
    /// What the device is, for the runs' records.
    pub(super) device_name: String,
    pub(super) events: SyncSender<Event>,
    pub(super) repaint: Arc<Mutex<Box<dyn Fn() + Send>>>,
    /// Raised to stop the t-SNE map of the loaded embeddings (a new dataset, or shutdown).
    pub(super) map_cancel: Arc<AtomicBool>,
    pub(super) cancel: Arc<AtomicBool>,
    pub(super) runs: PathBuf,
    pub(super) data: Option<Loaded>,
    pub(super) rec: Option<RecData>,
    pub(super) tiger: Option<Recommender>,
    /// The open run of each kind.
    pub(super) open: HashMap<RunKind, PathBuf>,
    /// Every run folder opened since the window opened (listed even when outside the runs folder).
    pub(super) listed: Vec<PathBuf>,
    /// Folders whose runs are listed besides the runs folder (the bundled demo runs, sweeps).
    pub(super) roots: Vec<PathBuf>,
    pub(super) last_progress: Instant,
}

impl Worker {
    pub(super) fn send(&self, event: Event) {
        let _ = self.events.send(event);
        if let Ok(repaint) = self.repaint.lock() {
            repaint();
        }
    }

    /// Starts the t-SNE map of the loaded dataset's embeddings (stopping one still running).
    fn start_neighbour_map(&mut self) {
        self.map_cancel.store(true, Ordering::SeqCst);
        let Some(l) = &self.data else {
            return;
        };
        let Some(emb) = l.embeddings.clone() else {
            return;
        };
        let cancel = Arc::new(AtomicBool::new(false));
        self.map_cancel = cancel.clone();
        let out = neighbour_map::Outlet {
            events: self.events.clone(),
            repaint: self.repaint.clone(),
        };
        neighbour_map::start(emb, l.dataset.source.clone(), cancel, out);
    }

    pub(super) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    pub(super) fn progress(&mut self, job: Job, done: usize, total: usize) {
        if done == total || self.last_progress.elapsed() >= PROGRESS_EVERY {
            self.last_progress = Instant::now();
            self.send(Event::Progress { job, done, total });
        }
    }

    fn run(&mut self, cmd: Command) {
        let result = match cmd {
            Command::LoadDataset(path) => self.load(&path),
            Command::Embed(model_dir) => self.embed(&model_dir),
            Command::Quantize(opts) => self.quantize(opts),
            Command::TrainTiger(opts) => self.train(opts),
            Command::TrainSasRec(opts) => self.train_sasrec(opts),
            Command::Recommend {
                history,
                beam,
                k,
                constrained,
            } => self.recommend(history, beam, k, constrained),
            Command::CompareExact => self.compare_exact(),
            Command::OpenRun { run, data } => self.open_run(&run, data.as_deref()),
            Command::ScanRuns(roots) => {
                self.scan_runs(&roots);
                Ok(())
            }
            Command::ExportIds(path) => self.export_ids(&path),
            Command::ExportCheckpoint(job, dest) => self.export_checkpoint(job, &dest),
            Command::Shutdown => Ok(()),
        };
        if let Err(e) = result {
            self.send(Event::Error(e));
        }
    }

    pub(super) fn load(&mut self, path: &Path) -> Result<(), String> {
        self.send(Event::Started(Job::Load));
        let loaded = load_data(path)?;
        self.commit_data(loaded);
        Ok(())
    }

    /// Makes `loaded` the worker's dataset: every model and run of the previous one is dropped,
    /// and the UI gets the summary and the map.
    pub(super) fn commit_data(&mut self, loaded: Loaded) {
        let summary = loaded.summary.clone();
        let map = loaded.map.clone();
        self.data = Some(loaded);
        self.rec = None;
        self.tiger = None;
        self.open.clear();
        self.send(Event::DatasetLoaded(Box::new(summary)));
        if let Some(points) = map {
            self.send(Event::Map(points));
        }
        self.start_neighbour_map();
    }
}

/// Loads a dataset folder (and its `embeddings.npy` when present), splits it, and prepares what the
/// UI shows about it; changes nothing in the worker.
pub(super) fn load_data(path: &Path) -> Result<Loaded, String> {
    let dataset = tiger_core::data::load(path).map_err(|e| e.to_string())?;
    let split = tiger_core::data::split(&dataset, 5).map_err(|e| e.to_string())?;
    let emb_path = path.join("embeddings.npy");
    let embeddings = if emb_path.is_file() {
        let e = store::read(&emb_path).map_err(|e| e.to_string())?;
        e.check_rows(&emb_path, dataset.items.len())
            .map_err(|e| e.to_string())?;
        Some(Arc::new(e))
    } else {
        None
    };
    let mut in_training = vec![false; dataset.items.len()];
    for u in &split.users {
        for &i in &u.train {
            in_training[i as usize] = true;
        }
    }
    let summary = DatasetSummary {
        path: path.into(),
        format: dataset.format.clone(),
        items: dataset
            .items
            .iter()
            .zip(&in_training)
            .map(|(i, &t)| ItemRow {
                id: i.id.clone(),
                title: i.title.clone(),
                text: i.text.clone(),
                in_training: t,
            })
            .collect(),
        users: dataset.users.len(),
        interactions: dataset.interactions.len(),
        core_users: split.users.len(),
        core_items: split.items,
        core_interactions: split.interactions,
        embeddings: embeddings.as_ref().map(|e| (emb_path.clone(), e.dim)),
    };
    let map = embeddings
        .as_ref()
        .map(|e| tiger_models::embed::pca::project_2d(e, 20));
    let features = Features::from_texts(dataset.items.iter().map(|i| i.text.as_str()));
    Ok(Loaded {
        stamp: DatasetStamp::of(&dataset),
        features,
        dataset,
        split,
        embeddings,
        summary,
        map,
    })
}
