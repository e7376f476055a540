//! Is the hierarchy semantic? For each level, how much more alike two items that share a code
//! prefix of that length are than two items sharing a prefix of random IDs of the same shape (the
//! same items moved to other items' codes, so every group keeps its size).
//!
//! Two measures, each an average over every pair of distinct items with the same prefix:
//! - **shared features**: how many metadata values ([`super::features`]: genres, tags, decade…)
//!   the two items have in common;
//! - **cosine**: the cosine similarity of their embeddings.
//!
//! Both are computed per group from sums (`Σ c·(c − 1)` over feature counts `c`; `|Σ v|² − n` over
//! unit vectors `v`), so a level costs one pass over the features and the vectors, whatever the
//! groups' sizes.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::SemanticIds;
use super::features::Features;

/// One level's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelCoherence {
    /// Prefix length (1 = first code).
    pub level: usize,
    /// Average metadata values two items with the same prefix share.
    pub shared_features: f64,
    /// The same for random IDs of the same shape.
    pub random_shared_features: f64,
    /// Average cosine similarity of two items with the same prefix (when embeddings were given).
    pub cosine: Option<f64>,
    /// The same for random IDs of the same shape.
    pub random_cosine: Option<f64>,
}

impl LevelCoherence {
    /// `shared_features / random_shared_features`: how many times more metadata items with a
    /// common prefix share than chance would give (`None` when chance gives nothing).
    pub fn feature_lift(&self) -> Option<f64> {
        (self.random_shared_features > 0.0)
            .then(|| self.shared_features / self.random_shared_features)
    }
}

/// Embedding rows (`dim` values each) with their inverse norms: the input of the cosine measure.
pub struct UnitRows<'a> {
    dim: usize,
    data: &'a [f32],
    inv_norm: Vec<f32>,
}

impl<'a> UnitRows<'a> {
    /// Rows of `data` (`rows × dim`), read as unit vectors; zero rows stay zero.
    pub fn new(data: &'a [f32], dim: usize) -> Self {
        let dim = dim.max(1);
        let inv_norm = data
            .chunks_exact(dim)
            .map(|row| {
                let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
                if norm > 0.0 { 1.0 / norm } else { 0.0 }
            })
            .collect();
        Self {
            dim,
            data,
            inv_norm,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.inv_norm.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.inv_norm.is_empty()
    }

    /// Row `i` and the factor that makes it unit length.
    fn row(&self, i: usize) -> (&[f32], f32) {
        (
            &self.data[i * self.dim..(i + 1) * self.dim],
            self.inv_norm[i],
        )
    }
}

/// Coherence of every level of `ids`, against random IDs of the same shape drawn with `seed`.
/// `rows`, when given, has one row per item in catalogue order.
pub fn coherence(
    ids: &SemanticIds,
    features: &Features,
    rows: Option<&UnitRows>,
    seed: u64,
) -> Vec<LevelCoherence> {
    let n = ids.len().min(features.items());
    let rows = rows.filter(|r| r.len() >= n);
    // Random IDs of the same shape (`SemanticIds::shuffled`): item i takes the codes of perm[i].
    let perm = super::semantic_ids::permutation(n, seed);
    (1..=ids.levels)
        .map(|level| {
            let real = groups(n, |i| &ids.codes_of(i)[..level]);
            let random = groups(n, |i| &ids.codes_of(perm[i])[..level]);
            LevelCoherence {
                level,
                shared_features: shared_features(&real, features),
                random_shared_features: shared_features(&random, features),
                cosine: rows.map(|r| cosine(&real, r)),
                random_cosine: rows.map(|r| cosine(&random, r)),
            }
        })
        .collect()
}

/// Items grouped by the prefix `key` gives them (groups in first-seen order).
fn groups<'a>(n: usize, key: impl Fn(usize) -> &'a [u32]) -> Vec<Vec<usize>> {
    let mut index: HashMap<&[u32], usize> = HashMap::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for i in 0..n {
        let g = *index.entry(key(i)).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[g].push(i);
    }
    out
}

/// Average shared features over every pair of distinct items within a group.
fn shared_features(groups: &[Vec<usize>], features: &Features) -> f64 {
    let (mut shared, mut pairs) = (0f64, 0f64);
    let mut counts: HashMap<u32, u64> = HashMap::new();
    for g in groups.iter().filter(|g| g.len() > 1) {
        counts.clear();
        for &i in g {
            for &f in &features.of_item[i] {
                *counts.entry(f).or_insert(0) += 1;
            }
        }
        shared += counts.values().map(|&c| (c * (c - 1)) as f64).sum::<f64>();
        let len = g.len() as f64;
        pairs += len * (len - 1.0);
    }
    if pairs > 0.0 { shared / pairs } else { 0.0 }
}

/// Average cosine over every pair of distinct items within a group.
fn cosine(groups: &[Vec<usize>], rows: &UnitRows) -> f64 {
    let (mut total, mut pairs) = (0f64, 0f64);
    let mut sum = vec![0f64; rows.dim];
    for g in groups.iter().filter(|g| g.len() > 1) {
        sum.iter_mut().for_each(|s| *s = 0.0);
        let mut self_dots = 0f64;
        for &i in g {
            let (r, scale) = rows.row(i);
            let scale = scale as f64;
            self_dots += r.iter().map(|&v| (v as f64 * scale).powi(2)).sum::<f64>();
            sum.iter_mut()
                .zip(r)
                .for_each(|(s, &v)| *s += v as f64 * scale);
        }
        total += sum.iter().map(|s| s * s).sum::<f64>() - self_dots;
        let len = g.len() as f64;
        pairs += len * (len - 1.0);
    }
    if pairs > 0.0 { total / pairs } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_features_and_cosine_match_a_count_by_hand() {
        // Codes: items 0, 1 share level 1 (code 0) and level 2; item 2 shares level 1 only;
        // item 3 is alone (code 1).
        let ids = SemanticIds::assign(vec![0, 0, 0, 0, 0, 1, 1, 0], 2);
        let features = Features::from_texts([
            "A. Genres: Horror, Slasher.",
            "B. Genres: Horror, Slasher.",
            "C. Genres: Horror.",
            "D. Genres: Comedy.",
        ]);
        // Rows 0 and 1 equal, row 2 orthogonal to them, row 3 anything.
        let data = [1., 0., 2., 0., 0., 3., 1., 1.];
        let rows = UnitRows::new(&data, 2);
        let c = coherence(&ids, &features, Some(&rows), 7);
        // Level 1: group {0, 1, 2}: pairs (0,1) share 2, (0,2) and (1,2) share 1: 4 / 3.
        assert!((c[0].shared_features - 4.0 / 3.0).abs() < 1e-12);
        // Cosines: (0,1) 1, (0,2) 0, (1,2) 0: 1 / 3.
        assert!((c[0].cosine.unwrap() - 1.0 / 3.0).abs() < 1e-6);
        // Level 2: group {0, 1} only: 2 shared, cosine 1.
        assert!((c[1].shared_features - 2.0).abs() < 1e-12);
        assert!((c[1].cosine.unwrap() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_hierarchy_that_follows_the_metadata_beats_random_ids_of_its_shape() {
        // 40 items in 4 genres; the codes follow the genre exactly.
        let genres = ["Horror", "Comedy", "Drama", "Western"];
        let texts: Vec<String> = (0..40)
            .map(|i| format!("T{i}. Genres: {}.", genres[i % 4]))
            .collect();
        let features = Features::from_texts(texts.iter().map(String::as_str));
        let codes: Vec<u32> = (0..40)
            .flat_map(|i| [(i % 4) as u32, (i / 4) as u32])
            .collect();
        let ids = SemanticIds::assign(codes, 2);
        let c = coherence(&ids, &features, None, 1);
        assert_eq!(
            c[0].shared_features, 1.0,
            "same genre within every level-1 code"
        );
        assert!(c[0].random_shared_features < 0.5, "{c:?}");
        assert!(c[0].feature_lift().unwrap() > 2.0);
        assert_eq!(c[0].cosine, None);
        // The same shape, scrambled: no better than chance.
        let scrambled: Vec<u32> = (0..40).flat_map(|i| [(i / 10) as u32, i as u32]).collect();
        let s = coherence(&SemanticIds::assign(scrambled, 2), &features, None, 1);
        assert!(s[0].shared_features < 0.5, "{s:?}");
        // The same seed draws the same random IDs.
        assert_eq!(coherence(&ids, &features, None, 1), c);
    }
}
