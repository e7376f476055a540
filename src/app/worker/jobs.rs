//! The worker's long jobs: quantize, train (TIGER and SASRec), recommend, embed. Exports live in
//! `export.rs`; opening runs in `runs.rs`.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::runs::with_final;
use super::{Recommender, Worker};
use crate::app::protocol::{Event, Job, QuantRun, Recommendation};
use tiger_core::data::samples::{Part, samples};
use tiger_core::embeddings::store;
use tiger_core::ids::SemanticIds;
use tiger_core::rec_data::RecData;
use tiger_core::run::hierarchy::Hierarchy;
use tiger_core::run::layout::fresh_name;
use tiger_core::run::{RunHeader, RunKind};
use tiger_models::decode::BeamConfig;
use tiger_models::train::rqvae_loop::{self, Flow, RqVaeEvent};
use tiger_models::train::tiger_loop::{self, TrainEvent};

impl Worker {
    /// A new folder under the runs folder for a run of `kind` made now.
    fn fresh_run(&self, kind: RunKind) -> std::path::PathBuf {
        let base = fresh_name(kind);
        (1..)
            .map(|n| match n {
                1 => self.runs.join(&base),
                n => self.runs.join(format!("{base}-{n}")),
            })
            .find(|p| !p.exists())
            .unwrap_or_else(|| self.runs.join(base))
    }

    pub(super) fn quantize(
        &mut self,
        opts: tiger_core::config::QuantizeOptions,
    ) -> Result<(), String> {
        let loaded = self.data.as_ref().ok_or("load a dataset first")?;
        let emb = loaded
            .embeddings
            .clone()
            .ok_or("this dataset has no embeddings.npy: embed it first (tiger-explorer embed)")?;
        self.send(Event::Started(Job::Quantize));
        let started = std::time::Instant::now();
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
                let done = match (opts.scheme.trains_rqvae(), opts.sinkhorn) {
                    (true, false) => format!("{} trained", opts.scheme.name()),
                    (true, true) => format!("{} trained, last level balanced", opts.scheme.name()),
                    (false, _) => format!("{} IDs made", opts.scheme.name()),
                };
                let ids = SemanticIds::assign(trained.codes.clone(), opts.levels);
                // Keep the run (weights, standardiser, IDs, stats, curves) like the CLI does.
                let Some(l) = &self.data else {
                    return Err("the dataset was closed during training".into());
                };
                let item_ids: Vec<String> = l.dataset.items.iter().map(|i| i.id.clone()).collect();
                let config = tiger_core::run::QuantizeRunConfig {
                    header: RunHeader::new(RunKind::Rqvae, &l.dataset),
                    embeddings: l.dataset.source.join("embeddings.npy"),
                    options: opts.clone(),
                    input_dim: emb.dim,
                    device: self.device_name.clone(),
                    train_seconds: started.elapsed().as_secs_f64(),
                };
                let hierarchy = Hierarchy::compute(
                    &ids,
                    &l.features,
                    l.embeddings.as_ref().map(|e| (e.data.as_slice(), e.dim)),
                );
                let dir = self.fresh_run(RunKind::Rqvae);
                let saved = tiger_models::run::save_quantize_run(
                    &dir, &item_ids, &ids, &hierarchy, &trained, &config,
                );
                self.show_ids(ids, RunKind::Rqvae, Some(hierarchy));
                self.send(Event::QuantRunShown(Box::new(QuantRun {
                    path: dir.clone(),
                    options: opts,
                    history: with_final(trained.history, trained.stats),
                })));
                match saved {
                    Ok(()) => self.mark_open(RunKind::Rqvae, &dir),
                    Err(e) => self.send(Event::Error(format!("the RQ-VAE run was not saved: {e}"))),
                }
                self.send(Event::Finished(Job::Quantize, done));
                Ok(())
            }
            Err(rqvae_loop::RqVaeError::Cancelled) => {
                self.send(Event::Cancelled(Job::Quantize));
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    pub(super) fn train(
        &mut self,
        opts: tiger_core::options::tiger::TigerOptions,
    ) -> Result<(), String> {
        let original = self
            .rec
            .take()
            .ok_or("quantize first: the recommender trains on semantic IDs")?;
        // The random-IDs ablation trains on the same IDs shuffled among the items; the run keeps
        // them, and they become the current IDs once it is open.
        let random = opts.random_ids.then(|| {
            RecData::new(
                original.dataset.clone(),
                original.split.clone(),
                original.ids.shuffled(opts.seed),
            )
        });
        let rec = random.as_ref().unwrap_or(&original);
        self.send(Event::Started(Job::TrainTiger));
        let run = self.fresh_run(RunKind::Tiger);
        let device = self.device.clone();
        let result = tiger_loop::train(
            rec,
            &opts,
            &run,
            &device,
            false,
            &mut self.train_observer(Job::TrainTiger),
        );
        let (outcome, finished) = match result {
            Ok(state) => (self.finish_tiger(&run, rec, state.step), true),
            Err(tiger_loop::TrainError::Cancelled(_)) => {
                self.send(Event::Cancelled(Job::TrainTiger));
                (Ok(()), false)
            }
            Err(e) => (Err(e.to_string()), false),
        };
        self.rec = Some(original);
        if let Some(random) = random
            && finished
            && outcome.is_ok()
        {
            self.show_ids(random.ids, RunKind::Tiger, None);
        }
        outcome
    }

    /// Records a finished TIGER run's test metrics and makes it the open recommender.
    fn finish_tiger(&mut self, run: &Path, rec: &RecData, step: usize) -> Result<(), String> {
        self.send(Event::Phase(format!(
            "test evaluation (beam search, width {})",
            tiger_models::train::test_eval::TEST_BEAM
        )));
        let cancel = self.cancel.clone();
        let tested = tiger_models::train::test_eval::test_tiger(
            run,
            rec,
            &self.device,
            &self.device_name,
            &|| cancel.load(Ordering::SeqCst),
        )
        .map_err(|e| e.to_string())?;
        let (cfg, model) = tiger_loop::load_run(run, &self.device).map_err(|e| e.to_string())?;
        self.tiger = Some(Recommender {
            model,
            vocab: cfg.vocab,
            max_history: cfg.options.max_history,
            random_ids: cfg.options.random_ids,
        });
        if let Some(record) = tested {
            self.send_test(Job::TrainTiger, record);
        }
        self.mark_open(RunKind::Tiger, run);
        self.send(Event::TrainDone { step });
        Ok(())
    }

    pub(super) fn embed(&mut self, model_dir: &Path) -> Result<(), String> {
        let loaded = self.data.as_ref().ok_or("load a dataset first")?;
        let source = loaded.dataset.source.clone();
        let texts: Vec<String> = loaded
            .dataset
            .items
            .iter()
            .map(|i| i.text.clone())
            .collect();
        let encoder = tiger_models::embed::Encoder::load(model_dir, &self.device)
            .map_err(|e| e.to_string())?;
        self.send(Event::Started(Job::Embed));
        self.send(Event::Phase(
            "embedding item texts (all-MiniLM-L6-v2)".into(),
        ));
        // Cancel is checked between batches: 48 texts take about half a second on two CPU cores,
        // which keeps Cancel under a second there (the GPU is launch-bound at this size anyway).
        let result = encoder.embed_all(&texts, EMBED_BATCH, &mut |done, total| {
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
            Err(tiger_models::embed::EncodeError::Cancelled) => {
                self.send(Event::Cancelled(Job::Embed));
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Forwards a training loop's events to the UI and turns the cancel flag into `Flow::Cancel`.
    fn train_observer(&mut self, job: Job) -> impl FnMut(TrainEvent) -> Flow + '_ {
        move |e| {
            match e {
                TrainEvent::Phase(p) => self.send(Event::Phase(p)),
                TrainEvent::Step { step, steps } => self.progress(job, step, steps),
                TrainEvent::Loss { step, loss, .. } => {
                    self.send(Event::TrainLoss { job, step, loss })
                }
                TrainEvent::Valid {
                    step,
                    metrics,
                    seconds,
                    ..
                } => self.send(Event::TrainValid {
                    job,
                    step,
                    metrics,
                    seconds,
                }),
            }
            if self.cancelled() {
                Flow::Cancel
            } else {
                Flow::Continue
            }
        }
    }

    pub(super) fn train_sasrec(
        &mut self,
        opts: tiger_core::options::sasrec::SasRecOptions,
    ) -> Result<(), String> {
        let loaded = self.data.as_ref().ok_or("load a dataset first")?;
        let (dataset, split) = (loaded.dataset.clone(), loaded.split.clone());
        self.send(Event::Started(Job::TrainSasRec));
        let run = self.fresh_run(RunKind::Sasrec);
        let device = self.device.clone();
        let result = tiger_models::sasrec::train::train(
            &dataset,
            &split,
            &opts,
            &run,
            &device,
            false,
            &mut self.train_observer(Job::TrainSasRec),
        );
        match result {
            Ok(state) => {
                let record = tiger_models::sasrec::train::test_sasrec(
                    &run,
                    &split,
                    dataset.items.len(),
                    &device,
                    &self.device_name,
                )
                .map_err(|e| e.to_string())?;
                self.send_test(Job::TrainSasRec, record);
                self.mark_open(RunKind::Sasrec, &run);
                self.send(Event::Finished(
                    Job::TrainSasRec,
                    match &state.stopped_early {
                        Some(why) => format!("SASRec stopped early at step {}: {why}", state.step),
                        None => format!("SASRec trained to step {}", state.step),
                    },
                ));
                Ok(())
            }
            Err(tiger_loop::TrainError::Cancelled(_)) => {
                self.send(Event::Cancelled(Job::TrainSasRec));
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Ranks the test split with the open TIGER model by beam search of the test width and
    /// exactly, sends the exact ranking's metrics to the comparison table and says how often the
    /// beam already had the exact top 10.
    pub(super) fn compare_exact(&mut self) -> Result<(), String> {
        let tiger = self
            .tiger
            .as_ref()
            .ok_or("train or open a TIGER run first")?;
        let rec = self.rec.as_ref().ok_or("quantize first")?;
        self.send(Event::Started(Job::ExactScoring));
        let width = tiger_models::train::test_eval::TEST_BEAM;
        self.send(Event::Phase(format!(
            "exact scoring of every item's full ID against beam search of width {width} (test split)"
        )));
        let queries = samples(&rec.split, Part::Test, tiger.max_history);
        let cancel = self.cancel.clone();
        let compared = tiger_models::tiger::evaluate::compare_exact(
            &tiger.model,
            &tiger.vocab,
            rec,
            &queries,
            width,
            &tiger_models::train::tiger_loop::KS,
            &self.device,
            &|| cancel.load(Ordering::SeqCst),
        );
        let Some(c) = compared else {
            self.send(Event::Cancelled(Job::ExactScoring));
            return Ok(());
        };
        let name = tiger.exact_label();
        let ndcg = |m: &tiger_core::eval::Metrics| m.ndcg_at(10).unwrap_or(0.0);
        let text = format!(
            "exact scoring: NDCG@10 {:.4} against beam search's {:.4}; the beam (width {width}) \
             already held the exact top 10 for {:.0} % of {} users; the widest beam needed was {} \
             ({:.0} s)",
            ndcg(&c.exact),
            ndcg(&c.beam),
            100.0 * c.beam_exact_share,
            c.exact.queries,
            c.widest_beam,
            c.seconds
        );
        self.send(Event::TestMetrics {
            model: name.into(),
            metrics: c.exact,
        });
        self.send(Event::Finished(Job::ExactScoring, text));
        Ok(())
    }

    pub(super) fn recommend(
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
        let hyps = tiger_models::tiger::evaluate::recommend(
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

/// Texts per encoder batch in the app.
const EMBED_BATCH: usize = 48;
