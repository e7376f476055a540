//! The worker's long jobs: quantize, train (TIGER and SASRec), recommend, embed. Exports live in
//! `worker_export.rs`.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::protocol::{Event, Job, Recommendation};
use super::rqvae_loop::{self, Flow, RqVaeEvent};
use super::seq2seq_loop::{self, TrainEvent};
use super::worker::{Tiger, Worker};
use super::worker_export::{RQVAE_RUN, SASREC_RUN, TIGER_RUN};
use crate::data::Split;
use crate::decode::BeamConfig;
use crate::embed::store;
use crate::rqvae::SemanticIds;
use crate::train::context::RecData;

impl Worker {
    pub(super) fn quantize(&mut self, opts: crate::config::QuantizeOptions) -> Result<(), String> {
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
                let ids = SemanticIds::assign(trained.codes.clone(), opts.levels);
                // Keep the run (weights, standardiser, IDs, stats) like the CLI does: no lost work.
                if let Some(l) = &self.data {
                    let item_ids: Vec<String> =
                        l.dataset.items.iter().map(|i| i.id.clone()).collect();
                    let config = crate::run::RunConfig {
                        data: &l.dataset.source,
                        embeddings: &l.dataset.source.join("embeddings.npy"),
                        options: &opts,
                        input_dim: emb.dim,
                        device: "gui worker",
                        train_seconds: 0.0,
                    };
                    let dir = self.runs.join(RQVAE_RUN);
                    if let Err(e) =
                        crate::run::save_quantize_run(&dir, &item_ids, &ids, &trained, &config)
                    {
                        self.send(Event::Error(format!("the RQ-VAE run was not saved: {e}")));
                    }
                }
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
                    stats: trained.stats.clone(),
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

    pub(super) fn train(
        &mut self,
        opts: crate::train::options::Seq2SeqOptions,
    ) -> Result<(), String> {
        let rec = self
            .rec
            .take()
            .ok_or("quantize first: the recommender trains on semantic IDs")?;
        self.send(Event::Started(Job::Train));
        let run = self.runs.join(TIGER_RUN);
        let device = self.device.clone();
        let result = seq2seq_loop::train(
            &rec,
            &opts,
            &run,
            &device,
            false,
            &mut self.train_observer(Job::Train),
        );
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

    pub(super) fn embed(&mut self, model_dir: &Path) -> Result<(), String> {
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
            Err(crate::embed::EncodeError::Cancelled) => {
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
                TrainEvent::Valid { step, metrics, .. } => {
                    self.send(Event::TrainValid { job, step, metrics })
                }
            }
            if self.cancelled() {
                Flow::Cancel
            } else {
                Flow::Continue
            }
        }
    }

    pub(super) fn send_popularity(&self, split: &Split, items: usize) {
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

    pub(super) fn train_sasrec(
        &mut self,
        opts: crate::baseline::sasrec_train::SasRecOptions,
    ) -> Result<(), String> {
        let loaded = self.data.as_ref().ok_or("load a dataset first")?;
        let (split, items, source) = (
            loaded.split.clone(),
            loaded.dataset.items.len(),
            loaded.dataset.source.clone(),
        );
        self.send(Event::Started(Job::TrainSasRec));
        let run = self.runs.join(SASREC_RUN);
        let device = self.device.clone();
        let result = crate::baseline::sasrec_train::train(
            &split,
            items,
            &opts,
            &run,
            &source,
            &device,
            false,
            &mut self.train_observer(Job::TrainSasRec),
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
                    Job::TrainSasRec,
                    format!("SASRec trained to step {}", state.step),
                ));
                Ok(())
            }
            Err(seq2seq_loop::TrainError::Cancelled(_)) => {
                self.send(Event::Cancelled(Job::TrainSasRec));
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
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

/// Texts per encoder batch in the app.
const EMBED_BATCH: usize = 48;
