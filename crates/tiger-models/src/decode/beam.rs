//! Beam search over semantic IDs, batched over queries with scores and top-k on the device (or,
//! where the scorer can, every step on the device: [`StepScorer::select_on_device`]).
//! Constrained mode masks, at every step, the values that no real item continues with (from the
//! trie), so every result is a real item; unconstrained mode lets invalid IDs through and reports
//! them. An observer can watch every step (kept and pruned hypotheses), as the GUI animates.

use burn::prelude::*;

use tiger_core::ids::Trie;

/// Score below which a hypothesis counts as dead (masked or padded).
const DEAD: f32 = -1e8;
/// Value used to mask a candidate out.
const MASKED: f32 = -1e9;

/// Per ID position, the ranked candidates of every query: `[queries × keep]` scores and flat
/// indices `parent · k + value`, best first (what each step's ranking gives).
pub type RankedSteps = Vec<(Vec<f32>, Vec<i64>)>;

/// Gives the log-probabilities of the next ID position for a batch of hypotheses.
pub trait StepScorer {
    /// `prefixes` holds, for each of `queries × width` hypotheses (query-major), the values chosen
    /// so far (all of length `pos`). Returns `[queries × width, width_of(pos)]` log-probabilities
    /// on the device.
    fn log_probs(&mut self, pos: usize, prefixes: &[Vec<u32>]) -> Tensor<2>;
    /// The step's candidate scores `[queries × width, width_of(pos)]` on the device:
    /// log-probability plus `add[:, 1..]` (the constraint mask) plus `add[:, 0]` (the hypothesis'
    /// score so far), `add` being `[queries × width, 1 + width_of(pos)]` row-major on the host.
    /// A scorer may compute it in one pass, uploading `add` with its own inputs.
    fn totals(&mut self, pos: usize, prefixes: &[Vec<u32>], add: Vec<f32>) -> Tensor<2> {
        let logp = self.log_probs(pos, prefixes);
        add_on_device(logp, add, &self.device())
    }
    /// Every step of a constrained search of width `width` run on the device, if this scorer can:
    /// [`RankedSteps`] (ties to the lower index, `keep = min(2 · width, width · k)`), exactly what
    /// the host's ranking of each step would give. `None` (the default) makes [`search`] score
    /// and rank step by step.
    fn select_on_device(
        &mut self,
        _trie: &Trie,
        _queries: usize,
        _width: usize,
    ) -> Option<RankedSteps> {
        None
    }
    /// How many values position `pos` can take.
    fn width_of(&self, pos: usize) -> usize;
    /// The device the scores live on.
    fn device(&self) -> Device;
}

/// [`StepScorer::totals`] from the step's log-probabilities `logp` (`[n, k]`, on `device`) and the
/// host's `add` (`[n, 1 + k]` row-major: each hypothesis' score, then its mask): uploaded, then
/// `(logp + mask) + score` on the device.
pub fn add_on_device(logp: Tensor<2>, add: Vec<f32>, device: &Device) -> Tensor<2> {
    let [n, k] = logp.dims();
    let add = Tensor::<2>::from_data(TensorData::new(add, [n, k + 1]), device);
    let scores = add.clone().slice(s![.., 0..1]);
    logp + add.slice(s![.., 1..k + 1]) + scores
}

/// One finished hypothesis.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// The full ID's values (codes, then collision token).
    pub values: Vec<u32>,
    /// Sum of log-probabilities.
    pub score: f32,
    /// The catalogue item it names; `None` for an invalid ID (unconstrained mode only).
    pub item: Option<u32>,
}

/// One candidate expansion seen at a step (for the observer).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Index of the parent hypothesis in the previous step's kept list.
    pub parent: usize,
    /// Value chosen at this position.
    pub value: u32,
    /// Cumulative log-probability.
    pub score: f32,
    /// Kept in the beam (true) or pruned (false).
    pub kept: bool,
    /// Whether the prefix so far is a prefix of some real item.
    pub valid: bool,
}

/// What the observer receives after each position is decided, for query 0 of the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BeamStep {
    /// ID position just decided (0-based).
    pub pos: usize,
    /// The best `2 × width` candidates (kept first), with their parents.
    pub candidates: Vec<Candidate>,
}

/// Beam search settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeamConfig {
    /// Hypotheses kept per query.
    pub width: usize,
    /// Mask values no real item continues with.
    pub constrained: bool,
}

/// A live hypothesis during the search.
#[derive(Debug, Clone)]
struct Live {
    values: Vec<u32>,
    score: f32,
    node: Option<u32>,
}

/// Runs beam search for `queries` queries at once; returns, per query, up to `width` hypotheses
/// sorted by score (dead ones dropped). `observe` sees every step of query 0.
pub fn search(
    scorer: &mut dyn StepScorer,
    trie: &Trie,
    queries: usize,
    config: BeamConfig,
    observe: &mut dyn FnMut(&BeamStep),
) -> Vec<Vec<Hypothesis>> {
    search_bounded(scorer, trie, queries, config, observe).hypotheses
}

/// What [`search_bounded`] returns.
#[derive(Debug, Clone)]
pub struct Searched {
    /// Per query, up to `width` hypotheses sorted by score.
    pub hypotheses: Vec<Vec<Hypothesis>>,
    /// Per query, the best score of a live prefix the search pruned (`-inf` when it pruned
    /// none). Log-probabilities are at most 0, so no ID the search did not return scores above
    /// it: when a query's K-th hypothesis scores at least this, its top K are exactly the top K of
    /// scoring every full ID.
    pub best_pruned: Vec<f32>,
}

impl Searched {
    /// Whether query `q`'s top `k` hypotheses are provably the exact top `k`: `k` were found (or
    /// the search pruned nothing) and the `k`-th scores at least every pruned prefix.
    pub fn exact_top(&self, q: usize, k: usize) -> bool {
        let (hyps, pruned) = (&self.hypotheses[q], self.best_pruned[q]);
        if pruned == f32::NEG_INFINITY {
            return true;
        }
        hyps.len() >= k && hyps[k - 1].score >= pruned
    }
}

/// [`search`], also reporting for each query the best prefix it pruned ([`Searched`]).
pub fn search_bounded(
    scorer: &mut dyn StepScorer,
    trie: &Trie,
    queries: usize,
    config: BeamConfig,
    observe: &mut dyn FnMut(&BeamStep),
) -> Searched {
    let mut best_pruned = vec![f32::NEG_INFINITY; queries];
    let w = config.width.max(1);
    let start = Live {
        values: Vec::new(),
        score: 0.0,
        node: Some(Trie::ROOT),
    };
    let dead = Live {
        values: Vec::new(),
        score: MASKED,
        node: None,
    };
    // Query-major: beams[q * w + j]. At the start only beam 0 of each query is alive.
    let mut beams: Vec<Live> = (0..queries * w)
        .map(|i| {
            if i % w == 0 {
                start.clone()
            } else {
                dead.clone()
            }
        })
        .collect();
    let mut on_device = if config.constrained {
        scorer.select_on_device(trie, queries, w)
    } else {
        None
    }
    .map(|steps| steps.into_iter());
    for pos in 0..trie.depth() {
        let k = scorer.width_of(pos);
        let keep = (2 * w).min(w * k);
        let ranked = match on_device.as_mut() {
            Some(steps) => steps.next(),
            None => host_step(scorer, trie, &beams, pos, queries, config),
        };
        let Some((vals, idx)) =
            ranked.filter(|(v, i)| v.len() == queries * keep && i.len() == v.len())
        else {
            // A failed read-back proves nothing: no query's (empty) top K counts as exact.
            return Searched {
                hypotheses: vec![Vec::new(); queries],
                best_pruned: vec![f32::INFINITY; queries],
            };
        };
        let mut next = Vec::with_capacity(queries * w);
        for q in 0..queries {
            let mut step = BeamStep {
                pos,
                candidates: Vec::new(),
            };
            for j in 0..keep {
                let (score, flat) = (vals[q * keep + j], idx[q * keep + j]);
                let kept = j < w;
                // A top-k kernel may fill a tail of tied scores with a sentinel (index -1, lowest
                // float; seen on lavapipe): such an entry is dead, never an index.
                let Some(flat) = usize::try_from(flat)
                    .ok()
                    .filter(|&f| f < w * k && score > DEAD)
                else {
                    if kept {
                        next.push(dead.clone());
                    }
                    continue;
                };
                let (parent, value) = (flat / k, (flat % k) as u32);
                let from = &beams[q * w + parent];
                let node = from.node.and_then(|n| trie.child(n, value));
                // Ranked best first: the first candidate not kept is the best one pruned.
                if j == w && (node.is_some() || !config.constrained) {
                    best_pruned[q] = best_pruned[q].max(score);
                }
                if q == 0 {
                    step.candidates.push(Candidate {
                        parent,
                        value,
                        score,
                        kept,
                        valid: node.is_some(),
                    });
                }
                if kept {
                    let mut values = from.values.clone();
                    values.push(value);
                    next.push(Live {
                        values,
                        score,
                        node,
                    });
                }
            }
            if q == 0 {
                observe(&step);
            }
        }
        beams = next;
    }
    let hypotheses = beams
        .chunks(w)
        .map(|chunk| {
            chunk
                .iter()
                .filter(|b| b.score > DEAD)
                .map(|b| Hypothesis {
                    values: b.values.clone(),
                    score: b.score,
                    item: b.node.and_then(|n| trie.item(n)),
                })
                .collect()
        })
        .collect();
    Searched {
        hypotheses,
        best_pruned,
    }
}

/// One step scored and ranked from the host: each beam's score and constraint mask go up with the
/// scorer's inputs, the step's scores are ranked by [`rank`].
fn host_step(
    scorer: &mut dyn StepScorer,
    trie: &Trie,
    beams: &[Live],
    pos: usize,
    queries: usize,
    config: BeamConfig,
) -> Option<(Vec<f32>, Vec<i64>)> {
    let w = config.width.max(1);
    let k = scorer.width_of(pos);
    let prefixes: Vec<Vec<u32>> = beams.iter().map(|b| b.values.clone()).collect();
    let mut add = Vec::with_capacity(queries * w * (k + 1));
    // Candidates per query that are not masked: the top-k must return this many live entries
    // (or `keep`), which checks the device's top-k below.
    let mut open = vec![0usize; queries];
    for (i, b) in beams.iter().enumerate() {
        let alive = b.score > DEAD;
        let mut row = vec![
            if alive && !config.constrained {
                0.0
            } else {
                MASKED
            };
            k
        ];
        if alive
            && config.constrained
            && let Some(node) = b.node
        {
            for v in trie.next_values(node).filter(|&v| (v as usize) < k) {
                row[v as usize] = 0.0;
                open[i / w] += 1;
            }
        } else if alive && !config.constrained {
            open[i / w] += k;
        }
        add.push(b.score);
        add.extend(row);
    }
    // add holds [score, mask…] per beam.
    let total = scorer.totals(pos, &prefixes, add).reshape([queries, w * k]);
    rank(total, (2 * w).min(w * k), &open)
}

/// Candidates (all queries together) up to which a step is ranked on the host: exact (ties to the
/// lower index) and with no top-k kernel. At this size the read-back (256 KiB) and the selection
/// cost about what the kernel does (single-query latency on the H200 was 13–14 ms either way,
/// `docs/performance.md`); larger steps use the device's top-k.
const HOST_RANK_MAX: usize = 1 << 16;

/// The `keep` best candidates of each query's row of `total` (`[queries, flat]`), as scores and
/// flat indices (`[queries × keep]` each, best first); `open[q]` is how many of query `q`'s
/// candidates are live. Small steps (a single query) are ranked on the host; larger ones on the
/// device, with a check that its top-k returned every live candidate it should have (burn-wgpu's
/// top-k can drop tied scores, seen on lavapipe): short queries are re-ranked on the host.
/// `None` when a read-back fails.
fn rank(total: Tensor<2>, keep: usize, open: &[usize]) -> Option<(Vec<f32>, Vec<i64>)> {
    let [queries, flat] = total.dims();
    let host_rows =
        |all: &[f32], rows: &mut dyn Iterator<Item = usize>, vals: &mut [f32], idx: &mut [i64]| {
            for q in rows {
                let row = &all[q * flat..(q + 1) * flat];
                for (j, (v, i)) in host_top(row, keep).into_iter().enumerate() {
                    vals[q * keep + j] = v;
                    idx[q * keep + j] = i as i64;
                }
            }
        };
    if queries * flat <= HOST_RANK_MAX {
        let all: Vec<f32> = total.try_into_vec_as().ok()?;
        if all.len() != queries * flat {
            return None;
        }
        let (mut vals, mut idx) = (vec![f32::MIN; queries * keep], vec![-1; queries * keep]);
        host_rows(&all, &mut (0..queries), &mut vals, &mut idx);
        return Some((vals, idx));
    }
    let (vals, idx) = total.clone().topk_with_indices(keep, 1);
    let (mut vals, mut idx) = read_top(vals, idx, flat);
    if vals.len() != queries * keep || idx.len() != queries * keep {
        return None;
    }
    let short: Vec<usize> = (0..queries)
        .filter(|&q| live_entries(&vals, &idx, q, keep, flat) < open[q].min(keep))
        .collect();
    if !short.is_empty() {
        let all: Vec<f32> = total.try_into_vec_as().ok()?;
        if all.len() != queries * flat {
            return None;
        }
        host_rows(&all, &mut short.into_iter(), &mut vals, &mut idx);
    }
    Some((vals, idx))
}

/// Entries of query `q`'s top-k that are live candidates: a score above [`DEAD`] and an index
/// within the `flat` candidates.
fn live_entries(vals: &[f32], idx: &[i64], q: usize, keep: usize, flat: usize) -> usize {
    (q * keep..(q + 1) * keep)
        .filter(|&j| vals[j] > DEAD && usize::try_from(idx[j]).is_ok_and(|i| i < flat))
        .count()
}

/// The `keep` highest scores of `row` and their indices, highest first, ties to the lower index.
fn host_top(row: &[f32], keep: usize) -> Vec<(f32, usize)> {
    let mut order: Vec<usize> = (0..row.len()).collect();
    let by_score = |a: &usize, b: &usize| row[*b].total_cmp(&row[*a]).then(a.cmp(b));
    let keep = keep.min(row.len());
    if keep < row.len() {
        order.select_nth_unstable_by(keep, by_score);
        order.truncate(keep);
    }
    order.sort_by(by_score);
    order.into_iter().map(|i| (row[i], i)).collect()
}

/// Reads the top-k scores and their flat indices (`[queries, keep]` each) back in one transfer when
/// the indices are exact in f32 (below 2^24; every device read-back is a round trip, two of them
/// per step were a measurable part of a query's latency), else in two.
fn read_top(vals: Tensor<2>, idx: Tensor<2, Int>, flat: usize) -> (Vec<f32>, Vec<i64>) {
    let [queries, keep] = vals.dims();
    if flat >= 1 << 24 {
        let v: Vec<f32> = vals.try_into_vec_as().unwrap_or_default();
        let i: Vec<i64> = idx.try_into_vec_as().unwrap_or_default();
        return (v, i);
    }
    let both: Vec<f32> = Tensor::cat(vec![vals, idx.float()], 1)
        .try_into_vec_as()
        .unwrap_or_default();
    if both.len() != queries * 2 * keep {
        return (Vec::new(), Vec::new());
    }
    let mut v = Vec::with_capacity(queries * keep);
    let mut i = Vec::with_capacity(queries * keep);
    for row in both.chunks_exact(2 * keep) {
        v.extend_from_slice(&row[..keep]);
        i.extend(row[keep..].iter().map(|&x| x as i64));
    }
    (v, i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_top_ranks_by_score_then_index() {
        let row = [1.0, 3.0, 3.0, -1e9, 2.0, 3.0];
        assert_eq!(
            host_top(&row, 4),
            vec![(3.0, 1), (3.0, 2), (3.0, 5), (2.0, 4)]
        );
        assert_eq!(host_top(&row, 10).len(), 6);
        assert_eq!(host_top(&row, 0), vec![]);
    }

    #[test]
    fn live_entries_skip_sentinels_and_masked_scores() {
        let vals = [-1.0, -2.0, f32::MIN, -1.5e9, -3.0, -4.0];
        let idx = [4, 7, -1, 2, 9, 1];
        assert_eq!(live_entries(&vals, &idx, 0, 3, 8), 2);
        // Index 9 is beyond the 8 candidates.
        assert_eq!(live_entries(&vals, &idx, 1, 3, 8), 1);
    }
}
