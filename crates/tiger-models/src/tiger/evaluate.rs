//! Evaluating and querying the generative recommender with beam search.

use burn::prelude::*;
use serde::Serialize;

use super::model::Tiger;
use super::scorer::ModelScorer;
use crate::decode::{BeamConfig, BeamStep, Hypothesis, search};
use tiger_core::data::samples::Sample;
use tiger_core::eval::{Metrics, MetricsAccumulator};
use tiger_core::ids::vocab::Vocab;
use tiger_core::rec_data::RecData;

/// Queries per beam-search batch.
pub const EVAL_CHUNK: usize = 256;

/// Metrics of one evaluation plus the share of generated IDs that name no item.
#[derive(Debug, Clone, Serialize)]
pub struct EvalResult {
    /// Recall / NDCG.
    pub metrics: Metrics,
    /// Generated hypotheses that are not real items, as a share of all generated (0 when
    /// constrained).
    pub invalid_share: f64,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Ranks items for each sample with beam search and scores the rankings. `model` must be a
/// non-autodiff copy (`model.valid()`). Returns `None` if `cancelled()` turned true.
pub fn evaluate(
    model: &Tiger,
    vocab: &Vocab,
    data: &RecData,
    samples: &[Sample],
    config: BeamConfig,
    ks: &[usize],
    device: &Device,
    cancelled: &dyn Fn() -> bool,
) -> Option<EvalResult> {
    let start = std::time::Instant::now();
    let mut acc = MetricsAccumulator::new(ks);
    let (mut generated, mut invalid) = (0usize, 0usize);
    for chunk in samples.chunks(EVAL_CHUNK) {
        if cancelled() {
            return None;
        }
        let hyps = beam_for(model, vocab, data, chunk, config, device, &mut |_| {});
        for (sample, hs) in chunk.iter().zip(&hyps) {
            generated += hs.len();
            invalid += hs.iter().filter(|h| h.item.is_none()).count();
            let ranked: Vec<u32> = hs.iter().filter_map(|h| h.item).collect();
            acc.add_ranking(&ranked, sample.target);
        }
    }
    Some(EvalResult {
        metrics: acc.finish(),
        invalid_share: invalid as f64 / generated.max(1) as f64,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Beam search for a batch of samples (their histories and users); `observe` sees sample 0's steps.
pub fn beam_for(
    model: &Tiger,
    vocab: &Vocab,
    data: &RecData,
    samples: &[Sample],
    config: BeamConfig,
    device: &Device,
    observe: &mut dyn FnMut(&BeamStep),
) -> Vec<Vec<Hypothesis>> {
    let hist: Vec<(&[u32], Option<u32>)> = samples
        .iter()
        .map(|s| {
            (
                s.history.as_slice(),
                vocab.user_token(&data.dataset.users[s.user as usize]),
            )
        })
        .collect();
    let mut scorer = ModelScorer::new(model, vocab, &data.ids, &hist, device);
    search(&mut scorer, &data.trie, samples.len(), config, observe)
}

/// Recommends for one free-form history (no user token; the caller keeps it within the model's
/// `max_history`): the top hypotheses of beam search.
pub fn recommend(
    model: &Tiger,
    vocab: &Vocab,
    data: &RecData,
    history: &[u32],
    config: BeamConfig,
    device: &Device,
    observe: &mut dyn FnMut(&BeamStep),
) -> Vec<Hypothesis> {
    let hist: Vec<(&[u32], Option<u32>)> = vec![(history, None)];
    let mut scorer = ModelScorer::new(model, vocab, &data.ids, &hist, device);
    search(&mut scorer, &data.trie, 1, config, observe)
        .into_iter()
        .next()
        .unwrap_or_default()
}
