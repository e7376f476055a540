//! The worker thread: owns the device, the dataset, the semantic IDs and the models, runs one job
//! at a time, and reports plain-data events over a bounded channel. The UI never touches tensors.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use burn::prelude::*;

use super::context::RecData;
use super::protocol::{Command, DatasetSummary, Event, ItemRow, Job, Recommendation};
use super::rqvae_loop::{self, Flow, RqVaeEvent};
use super::seq2seq_loop::{self, TrainEvent};
use crate::data::{Dataset, Split};
use crate::decode::BeamConfig;
use crate::device::{self, DeviceChoice};
use crate::embed::{Embeddings, store};
use crate::rqvae::SemanticIds;
use crate::seq2seq::{Seq2Seq, Vocab};

/// Capacity of the event channel; the worker waits when the UI falls this far behind.
const EVENTS: usize = 512;
/// Progress events are sent at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(50);

/// The UI's side of the worker: send commands, drain events, raise the cancel flag.
pub struct WorkerHandle {
    commands: SyncSender<Command>,
    /// Events from the worker, drained by the UI each frame.
    pub events: Receiver<Event>,
    cancel: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl WorkerHandle {
    /// Starts the worker thread on `choice`; `repaint` is called after every event (the UI's
    /// `request_repaint`). `runs` is where training checkpoints go.
    pub fn spawn(
        choice: DeviceChoice,
        runs: PathBuf,
        repaint: Box<dyn Fn() + Send>,
    ) -> std::io::Result<Self> {
        let (cmd_tx, cmd_rx) = sync_channel::<Command>(16);
        let (ev_tx, ev_rx) = sync_channel::<Event>(EVENTS);
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("tiger-worker".into())
            .spawn(move || {
                let chosen = device::choose(choice);
                let mut worker = Worker {
                    device: chosen.device.clone(),
                    events: ev_tx,
                    repaint,
                    cancel: flag,
                    runs,
                    data: None,
                    rec: None,
                    tiger: None,
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
                    worker.run(cmd);
                }
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
struct Loaded {
    dataset: Dataset,
    split: Split,
    embeddings: Option<Embeddings>,
}

/// A trained recommender ready for beam search.
struct Tiger {
    model: Seq2Seq,
    vocab: Vocab,
    max_history: usize,
}

struct Worker {
    device: Device,
    events: SyncSender<Event>,
    repaint: Box<dyn Fn() + Send>,
    cancel: Arc<AtomicBool>,
    runs: PathBuf,
    data: Option<Loaded>,
    rec: Option<RecData>,
    tiger: Option<Tiger>,
    last_progress: Instant,
}

impl Worker {
    fn send(&self, event: Event) {
        let _ = self.events.send(event);
        (self.repaint)();
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    fn progress(&mut self, job: Job, done: usize, total: usize) {
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
            Command::ExportIds(path) => self.export_ids(&path),
            Command::Shutdown => Ok(()),
        };
        if let Err(e) = result {
            self.send(Event::Error(e));
        }
    }

    fn load(&mut self, path: &Path) -> Result<(), String> {
        self.send(Event::Started(Job::Load));
        let dataset = crate::data::load(path).map_err(|e| e.to_string())?;
        let split = crate::data::split(&dataset, 5).map_err(|e| e.to_string())?;
        let emb_path = path.join("embeddings.npy");
        let embeddings = if emb_path.is_file() {
            let e = store::read(&emb_path).map_err(|e| e.to_string())?;
            e.check_rows(&emb_path, dataset.items.len())
                .map_err(|e| e.to_string())?;
            Some(e)
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
            .map(|e| crate::embed::pca::project_2d(e, 20));
        self.data = Some(Loaded {
            dataset,
            split,
            embeddings,
        });
        self.rec = None;
        self.tiger = None;
        self.send(Event::DatasetLoaded(Box::new(summary)));
        if let Some(points) = map {
            self.send(Event::Map(points));
        }
        Ok(())
    }

    fn quantize(&mut self, opts: crate::config::QuantizeOptions) -> Result<(), String> {
        let loaded = self.data.as_ref().ok_or("load a dataset first")?;
        let emb = loaded
            .embeddings
            .clone()
            .ok_or("this dataset has no embeddings.npy: embed it first (tiger-explorer embed)")?;
        self.send(Event::Started(Job::Quantize));
        let device = self.device.clone();
        let result = rqvae_loop::train(&emb, &opts, &device, &mut |e| {
            match e {
                RqVaeEvent::Phase(p) => self.send(Event::Phase(p)),
                RqVaeEvent::Step { step, steps } => self.progress(Job::Quantize, step, steps),
                RqVaeEvent::Stats(s) => self.send(Event::QuantizeStats(s)),
            }
            if self.cancelled() {
                Flow::Cancel
            } else {
                Flow::Continue
            }
        });
        match result {
            Ok(trained) => {
                let ids = SemanticIds::assign(trained.codes, opts.levels);
                if let Some(l) = &self.data {
                    self.rec = Some(RecData::new(
                        l.dataset.clone(),
                        l.split.clone(),
                        ids.clone(),
                    ));
                }
                self.tiger = None;
                self.send(Event::QuantizeDone {
                    ids: Box::new(ids),
                    stats: trained.stats,
                    options: opts,
                });
                Ok(())
            }
            Err(rqvae_loop::RqVaeError::Cancelled) => {
                self.send(Event::Cancelled(Job::Quantize));
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn train(&mut self, opts: crate::train::options::Seq2SeqOptions) -> Result<(), String> {
        let rec = self
            .rec
            .take()
            .ok_or("quantize first: the recommender trains on semantic IDs")?;
        self.send(Event::Started(Job::Train));
        let run = self.runs.join("gui-tiger");
        let device = self.device.clone();
        let result = seq2seq_loop::train(&rec, &opts, &run, &device, false, &mut |e| {
            match e {
                TrainEvent::Phase(p) => self.send(Event::Phase(p)),
                TrainEvent::Step { step, steps } => self.progress(Job::Train, step, steps),
                TrainEvent::Loss { step, loss, .. } => self.send(Event::TrainLoss { step, loss }),
                TrainEvent::Valid { step, metrics, .. } => {
                    self.send(Event::TrainValid { step, metrics })
                }
            }
            if self.cancelled() {
                Flow::Cancel
            } else {
                Flow::Continue
            }
        });
        let outcome = match result {
            Ok(state) => match seq2seq_loop::load_run(&run, &device) {
                Ok((cfg, model)) => {
                    self.send(Event::Phase(
                        "test evaluation (beam search, width 20)".into(),
                    ));
                    let test = crate::seq2seq::batch::samples(
                        &rec.split,
                        crate::seq2seq::batch::Part::Test,
                        cfg.options.max_history,
                    );
                    let beam = BeamConfig {
                        width: 20,
                        constrained: true,
                    };
                    let cancel = self.cancel.clone();
                    let result = crate::seq2seq::evaluate::evaluate(
                        &model,
                        &cfg.vocab,
                        &rec,
                        &test,
                        beam,
                        &seq2seq_loop::KS,
                        &device,
                        &|| cancel.load(Ordering::SeqCst),
                    );
                    self.send_popularity(&rec.split, rec.ids.len());
                    if let Some(r) = result {
                        self.send(Event::TestMetrics {
                            model: "TIGER".into(),
                            metrics: r.metrics,
                        });
                    }
                    self.tiger = Some(Tiger {
                        model,
                        vocab: cfg.vocab,
                        max_history: cfg.options.max_history,
                    });
                    self.send(Event::TrainDone { step: state.step });
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            },
            Err(seq2seq_loop::TrainError::Cancelled(_)) => {
                self.send(Event::Cancelled(Job::Train));
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        };
        self.rec = Some(rec);
        outcome
    }

    fn embed(&mut self, model_dir: &Path) -> Result<(), String> {
        let loaded = self.data.as_ref().ok_or("load a dataset first")?;
        let source = loaded.dataset.source.clone();
        let texts: Vec<String> = loaded
            .dataset
            .items
            .iter()
            .map(|i| i.text.clone())
            .collect();
        let encoder =
            crate::embed::Encoder::load(model_dir, &self.device).map_err(|e| e.to_string())?;
        self.send(Event::Started(Job::Embed));
        self.send(Event::Phase(
            "embedding item texts (all-MiniLM-L6-v2)".into(),
        ));
        let result = encoder.embed_all(&texts, 128, &mut |done, total| {
            self.progress(Job::Embed, done, total);
            !self.cancelled()
        });
        match result {
            Ok(emb) => {
                let out = source.join("embeddings.npy");
                store::write(&out, &emb).map_err(|e| e.to_string())?;
                self.send(Event::Exported(out));
                self.load(&source)
            }
            Err(crate::embed::EncodeError::Cancelled) => {
                self.send(Event::Cancelled(Job::Embed));
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn send_popularity(&self, split: &Split, items: usize) {
        let ranking = crate::eval::popularity::ranking(split, items);
        let top = &ranking[..seq2seq_loop::KS[1].min(ranking.len())];
        let mut acc = crate::eval::MetricsAccumulator::new(&seq2seq_loop::KS);
        for s in crate::seq2seq::batch::samples(split, crate::seq2seq::batch::Part::Test, 1) {
            acc.add_ranking(top, s.target);
        }
        self.send(Event::TestMetrics {
            model: "popularity".into(),
            metrics: acc.finish(),
        });
    }

    fn train_sasrec(
        &mut self,
        opts: crate::baseline::sasrec_train::SasRecOptions,
    ) -> Result<(), String> {
        let loaded = self.data.as_ref().ok_or("load a dataset first")?;
        let (split, items, source) = (
            loaded.split.clone(),
            loaded.dataset.items.len(),
            loaded.dataset.source.clone(),
        );
        self.send(Event::Started(Job::Train));
        let run = self.runs.join("gui-sasrec");
        let device = self.device.clone();
        let result = crate::baseline::sasrec_train::train(
            &split,
            items,
            &opts,
            &run,
            &source,
            &device,
            false,
            &mut |e| {
                match e {
                    TrainEvent::Phase(p) => self.send(Event::Phase(p)),
                    TrainEvent::Step { step, steps } => self.progress(Job::Train, step, steps),
                    TrainEvent::Loss { step, loss, .. } => {
                        self.send(Event::TrainLoss { step, loss })
                    }
                    TrainEvent::Valid { step, metrics, .. } => {
                        self.send(Event::TrainValid { step, metrics })
                    }
                }
                if self.cancelled() {
                    Flow::Cancel
                } else {
                    Flow::Continue
                }
            },
        );
        match result {
            Ok(state) => {
                let (cfg, model) = crate::baseline::sasrec_train::load_run(&run, &device)
                    .map_err(|e| e.to_string())?;
                let test = crate::seq2seq::batch::samples(
                    &split,
                    crate::seq2seq::batch::Part::Test,
                    cfg.options.max_len,
                );
                let metrics = crate::baseline::sasrec_train::evaluate(
                    &model,
                    &test,
                    cfg.options.max_len,
                    &seq2seq_loop::KS,
                    &device,
                )
                .map_err(|e| e.to_string())?;
                self.send_popularity(&split, items);
                self.send(Event::TestMetrics {
                    model: "SASRec".into(),
                    metrics,
                });
                self.send(Event::Finished(
                    Job::Train,
                    format!("SASRec trained to step {}", state.step),
                ));
                Ok(())
            }
            Err(seq2seq_loop::TrainError::Cancelled(_)) => {
                self.send(Event::Cancelled(Job::Train));
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    fn export_ids(&mut self, path: &Path) -> Result<(), String> {
        let rec = self
            .rec
            .as_ref()
            .ok_or("no semantic IDs yet: quantize first")?;
        let json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if json {
            let rows: Vec<serde_json::Value> = rec
                .dataset
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    serde_json::json!({
                        "item_id": item.id,
                        "title": item.title,
                        "codes": rec.ids.codes_of(i),
                        "collision": rec.ids.collision[i],
                    })
                })
                .collect();
            crate::run::write_json(path, &rows).map_err(|e| e.to_string())?;
        } else {
            rec.ids
                .write_csv(path, &rec.item_ids())
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        self.send(Event::Exported(path.into()));
        Ok(())
    }

    fn recommend(
        &mut self,
        history: Vec<u32>,
        beam: usize,
        k: usize,
        constrained: bool,
    ) -> Result<(), String> {
        let tiger = self.tiger.as_ref().ok_or("train the recommender first")?;
        let rec = self.rec.as_ref().ok_or("quantize first")?;
        if history.is_empty() {
            return Err("the history is empty: add items first".into());
        }
        if history.iter().any(|&i| i as usize >= rec.ids.len()) {
            return Err("the history names an item outside the catalogue".into());
        }
        self.send(Event::Started(Job::Recommend));
        let kept = &history[history.len().saturating_sub(tiger.max_history)..];
        let config = BeamConfig {
            width: beam.max(k).max(1),
            constrained,
        };
        let mut steps = Vec::new();
        let hyps = crate::seq2seq::evaluate::recommend(
            &tiger.model,
            &tiger.vocab,
            rec,
            kept,
            config,
            &self.device,
            &mut |s| steps.push(s.clone()),
        );
        for s in steps {
            self.send(Event::BeamStep(s));
        }
        let recs = hyps
            .into_iter()
            .take(k)
            .map(|h| Recommendation {
                item: h.item,
                values: h.values,
                score: h.score,
            })
            .collect();
        self.send(Event::Recommendations(recs));
        Ok(())
    }
}
