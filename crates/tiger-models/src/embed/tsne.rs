//! A 2-D map of item embeddings that keeps neighbourhoods: Barnes-Hut t-SNE (the `bhtsne`
//! crate) on the CPU, from a seeded start, stoppable between epochs. Items whose codes share a
//! prefix sit together on it when the semantic IDs follow the embeddings, which PCA's two axes
//! cannot show. Cost grows as n·log n per epoch: seconds for ten thousand items on two cores,
//! minutes for two hundred thousand.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

use tiger_core::embeddings::Embeddings;
use tiger_core::embeddings::synthetic::XorShift;

/// Seed of the starting layout the window and `tiger-explorer map` use.
pub const SEED: u64 = 2023;
/// Optimisation epochs.
pub const EPOCHS: usize = 750;
/// Perplexity (the effective number of neighbours each point keeps), lowered for tiny catalogues.
const PERPLEXITY: f32 = 30.0;
/// Barnes-Hut accuracy (0 would be exact).
const THETA: f32 = 0.5;
/// Learning rate per item: bhtsne's gradient leaves out the factor 4 of the t-SNE paper, so the
/// usual n / 12 (Belkina et al. 2019) becomes n / 3; its own default (n / 48) leaves a map of ten
/// thousand items half unfolded, with a third fewer of each item's ten nearest neighbours kept.
const RATE_PER_ITEM: f32 = 1.0 / 3.0;
/// Fewest items worth a t-SNE map.
pub const MIN_ITEMS: usize = 16;

/// Raised from the epoch callback to stop the fit.
struct Cancelled;

/// Euclidean distance, in eight independent sums (vectorised).
fn distance(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, ra) = a.split_at(a.len() / 8 * 8);
    let (cb, rb) = b.split_at(ca.len());
    for (x, y) in ca.chunks_exact(8).zip(cb.chunks_exact(8)) {
        for k in 0..8 {
            let d = x[k] - y[k];
            acc[k] += d * d;
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| (x - y) * (x - y)).sum();
    (acc.iter().sum::<f32>() + tail).sqrt()
}

/// Projects every row of `emb` to 2-D. `progress(epoch, epochs)` is called after each epoch;
/// `cancel` is checked there too. `None` when cancelled or when there are fewer than
/// [`MIN_ITEMS`] rows.
pub fn project_2d(
    emb: &Embeddings,
    seed: u64,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(usize, usize),
) -> Option<Vec<[f32; 2]>> {
    let (n, d) = (emb.rows, emb.dim);
    if n < MIN_ITEMS || d == 0 {
        return None;
    }
    let rows: Vec<&[f32]> = emb.data.chunks_exact(d).collect();
    // bhtsne needs 3 · perplexity neighbours per point.
    let perplexity = PERPLEXITY.min(((n - 1) / 3) as f32 - 1.0).max(2.0);
    let mut rng = XorShift::new(seed);
    let start: Vec<f32> = (0..n * 2).map(|_| (rng.unit() - 0.5) * 2e-4).collect();
    let fitted = catch_unwind(AssertUnwindSafe(|| {
        let mut tsne: bhtsne::tSNE<f32, &[f32], 2> = bhtsne::tSNE::new(&rows);
        tsne.perplexity(perplexity)
            .learning_rate((n as f32 * RATE_PER_ITEM).max(200.0))
            .epochs(EPOCHS)
            .initial_embedding(start)
            .epoch_callback(|epoch, _| {
                if cancel.load(Ordering::Relaxed) {
                    resume_unwind(Box::new(Cancelled));
                }
                progress(epoch + 1, EPOCHS);
            });
        tsne.barnes_hut(THETA, |a, b| distance(a, b));
        tsne.embedding()
    }));
    match fitted {
        Ok(flat) => Some(flat.chunks_exact(2).map(|p| [p[0], p[1]]).collect()),
        Err(e) if e.is::<Cancelled>() => None,
        Err(e) => resume_unwind(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiger_core::embeddings::synthetic::synthetic_embeddings;

    /// Mean distance to the other members of `i`'s cluster over mean distance to all points.
    fn cluster_ratio(points: &[[f32; 2]], cluster: impl Fn(usize) -> usize) -> f32 {
        let dist =
            |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
        let (mut same, mut ns, mut all, mut na) = (0f32, 0f32, 0f32, 0f32);
        for i in 0..points.len() {
            for j in 0..points.len() {
                if i == j {
                    continue;
                }
                let d = dist(points[i], points[j]);
                all += d;
                na += 1.0;
                if cluster(i) == cluster(j) {
                    same += d;
                    ns += 1.0;
                }
            }
        }
        (same / ns) / (all / na)
    }

    #[test]
    fn clusters_in_the_input_stay_together_on_the_map() {
        // 320 points around 64 centres in 16-d (row i belongs to centre i % 64).
        let emb = synthetic_embeddings(320, 16, 3);
        let points = project_2d(&emb, 1, &AtomicBool::new(false), &mut |_, _| {}).unwrap();
        assert_eq!(points.len(), 320);
        assert!(points.iter().all(|p| p[0].is_finite() && p[1].is_finite()));
        let ratio = cluster_ratio(&points, |i| i % 64);
        assert!(
            ratio < 0.25,
            "members of a cluster lie {ratio} of the mean distance apart"
        );
    }

    #[test]
    fn a_raised_flag_stops_the_fit_and_tiny_catalogues_get_none() {
        let emb = synthetic_embeddings(200, 8, 1);
        let cancel = AtomicBool::new(false);
        let mut epochs = 0;
        let out = project_2d(&emb, 1, &cancel, &mut |e, _| {
            epochs = e;
            if e == 5 {
                cancel.store(true, Ordering::Relaxed);
            }
        });
        assert!(out.is_none());
        assert_eq!(epochs, 5, "stopped at the next epoch");
        let tiny = synthetic_embeddings(MIN_ITEMS - 1, 8, 1);
        assert!(project_2d(&tiny, 1, &AtomicBool::new(false), &mut |_, _| {}).is_none());
    }
}
