//! Evaluating and querying the generative recommender with beam search.

use burn::prelude::*;
use serde::Serialize;

use super::model::Tiger;
use super::scorer::ModelScorer;
use crate::decode::beam::{Searched, search_bounded};
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

/// Hypotheses per beam-search call while widening for exact scoring (a query at the catalogue's
/// width runs alone when the catalogue is larger).
const EXACT_HYPOTHESES: usize = 1 << 14;

/// Beam search of one width against exact scoring of every item's full ID, on the same samples:
/// how much recall the beam loses (the paper's ablation).
#[derive(Debug, Clone, Serialize)]
pub struct ExactComparison {
    /// Metrics of beam search at the given width.
    pub beam: Metrics,
    /// Metrics of the exact ranking (every item's full ID scored by the model).
    pub exact: Metrics,
    /// Share of samples whose beam-search top K (the largest K) already was the exact top K.
    pub beam_exact_share: f64,
    /// The widest beam the exact ranking needed.
    pub widest_beam: usize,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// Each sample's ranking by beam search of one width and its exact top K ([`exact_rankings`]).
#[derive(Debug, Clone, Default)]
pub struct ExactRankings {
    /// Per sample, the items beam search of the given width ranks, best first.
    pub beam: Vec<Vec<u32>>,
    /// Per sample, the exact top K items (and possibly more, not all exact), best first.
    pub exact: Vec<Vec<u32>>,
    /// Per sample, whether the beam's top K already were provably exact.
    pub beam_was_exact: Vec<bool>,
    /// The widest beam any sample needed.
    pub widest_beam: usize,
}

/// Ranks each sample's items by beam search of `width`, and exactly for the top `k`: an item's
/// score is the sum of its full ID's log-probabilities, and a sample's exact top `k` are found by
/// widening the beam (×4 at a time) until the `k`-th hypothesis scores at least every prefix the
/// search pruned ([`Searched::exact_top`]: no pruned ID can score higher), at most to the
/// catalogue's size, where nothing is pruned. `None` if `cancelled()` turned true.
#[allow(clippy::too_many_arguments)]
pub fn exact_rankings(
    model: &Tiger,
    vocab: &Vocab,
    data: &RecData,
    samples: &[Sample],
    width: usize,
    k: usize,
    device: &Device,
    cancelled: &dyn Fn() -> bool,
) -> Option<ExactRankings> {
    let k = k.max(1);
    let width = width.max(k);
    let items = data.ids.len().max(1);
    let ranked = |hyps: &[Hypothesis]| -> Vec<u32> { hyps.iter().filter_map(|h| h.item).collect() };
    let config = |width| BeamConfig {
        width,
        constrained: true,
    };
    let mut out = ExactRankings {
        widest_beam: width,
        ..Default::default()
    };
    for chunk in samples.chunks(EVAL_CHUNK) {
        if cancelled() {
            return None;
        }
        let found = bounded_for(model, vocab, data, chunk, config(width), device);
        let base = out.exact.len();
        let mut open = Vec::new();
        for i in 0..chunk.len() {
            let top = ranked(&found.hypotheses[i]);
            let exact = found.exact_top(i, k);
            out.beam_was_exact.push(exact);
            out.exact.push(if exact { top.clone() } else { Vec::new() });
            out.beam.push(top);
            if !exact {
                open.push(i);
            }
        }
        let mut w = width;
        while !open.is_empty() {
            w = (w * 4).min(items).max(w);
            out.widest_beam = out.widest_beam.max(w);
            let mut still = Vec::new();
            for group in open.chunks((EXACT_HYPOTHESES / w).max(1)) {
                if cancelled() {
                    return None;
                }
                let sub: Vec<Sample> = group.iter().map(|&i| chunk[i].clone()).collect();
                let wide = bounded_for(model, vocab, data, &sub, config(w), device);
                for (j, &i) in group.iter().enumerate() {
                    if wide.exact_top(j, k) || w >= items {
                        out.exact[base + i] = ranked(&wide.hypotheses[j]);
                    } else {
                        still.push(i);
                    }
                }
            }
            open = still;
        }
    }
    Some(out)
}

/// [`exact_rankings`] for the largest of `ks`, scored: beam search of `width` against the exact
/// ranking. `None` if `cancelled()` turned true.
#[allow(clippy::too_many_arguments)]
pub fn compare_exact(
    model: &Tiger,
    vocab: &Vocab,
    data: &RecData,
    samples: &[Sample],
    width: usize,
    ks: &[usize],
    device: &Device,
    cancelled: &dyn Fn() -> bool,
) -> Option<ExactComparison> {
    let start = std::time::Instant::now();
    let k = ks.iter().copied().max().unwrap_or(1);
    let r = exact_rankings(model, vocab, data, samples, width, k, device, cancelled)?;
    let (mut beam, mut exact) = (MetricsAccumulator::new(ks), MetricsAccumulator::new(ks));
    for (i, sample) in samples.iter().enumerate() {
        beam.add_ranking(&r.beam[i], sample.target);
        exact.add_ranking(&r.exact[i], sample.target);
    }
    let already = r.beam_was_exact.iter().filter(|&&e| e).count();
    Some(ExactComparison {
        beam: beam.finish(),
        exact: exact.finish(),
        beam_exact_share: already as f64 / samples.len().max(1) as f64,
        widest_beam: r.widest_beam,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// [`beam_for`] with the search's pruning bound, no observer.
fn bounded_for(
    model: &Tiger,
    vocab: &Vocab,
    data: &RecData,
    samples: &[Sample],
    config: BeamConfig,
    device: &Device,
) -> Searched {
    let hist = histories(vocab, data, samples);
    let mut scorer = ModelScorer::new(model, vocab, &data.ids, &hist, device);
    search_bounded(&mut scorer, &data.trie, samples.len(), config, &mut |_| {})
}

/// Each sample's history and user token.
fn histories<'s>(
    vocab: &Vocab,
    data: &RecData,
    samples: &'s [Sample],
) -> Vec<(&'s [u32], Option<u32>)> {
    samples
        .iter()
        .map(|s| {
            (
                s.history.as_slice(),
                vocab.user_token(&data.dataset.users[s.user as usize]),
            )
        })
        .collect()
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
    let hist = histories(vocab, data, samples);
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
