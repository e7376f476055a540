//! Recall@K and NDCG@K with leave-one-out targets: one relevant item per query.

use serde::{Deserialize, Serialize};

/// Recall and NDCG at several cut-offs, averaged over queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Metrics {
    /// Number of queries evaluated.
    pub queries: usize,
    /// `(K, Recall@K)` pairs.
    pub recall: Vec<(usize, f64)>,
    /// `(K, NDCG@K)` pairs.
    pub ndcg: Vec<(usize, f64)>,
}

/// Accumulates hits query by query.
#[derive(Debug, Clone)]
pub struct MetricsAccumulator {
    ks: Vec<usize>,
    recall: Vec<f64>,
    ndcg: Vec<f64>,
    queries: usize,
}

impl MetricsAccumulator {
    /// Tracks the cut-offs `ks`.
    pub fn new(ks: &[usize]) -> Self {
        Self {
            ks: ks.to_vec(),
            recall: vec![0.0; ks.len()],
            ndcg: vec![0.0; ks.len()],
            queries: 0,
        }
    }

    /// Adds one query whose target sits at 0-based `rank` in the ranking (`None` = not ranked).
    pub fn add(&mut self, rank: Option<usize>) {
        self.queries += 1;
        if let Some(r) = rank {
            for (i, &k) in self.ks.iter().enumerate() {
                if r < k {
                    self.recall[i] += 1.0;
                    self.ndcg[i] += 1.0 / ((r + 2) as f64).log2();
                }
            }
        }
    }

    /// Adds one query given its ranked items and its target (a hit needs the same item, which for
    /// semantic IDs means every token matched).
    pub fn add_ranking(&mut self, ranked: &[u32], target: u32) {
        self.add(ranked.iter().position(|&i| i == target));
    }

    /// The averages.
    pub fn finish(&self) -> Metrics {
        let n = self.queries.max(1) as f64;
        Metrics {
            queries: self.queries,
            recall: self
                .ks
                .iter()
                .zip(&self.recall)
                .map(|(&k, &v)| (k, v / n))
                .collect(),
            ndcg: self
                .ks
                .iter()
                .zip(&self.ndcg)
                .map(|(&k, &v)| (k, v / n))
                .collect(),
        }
    }
}

impl Metrics {
    /// Recall at `k`, if tracked.
    pub fn recall_at(&self, k: usize) -> Option<f64> {
        self.recall.iter().find(|p| p.0 == k).map(|p| p.1)
    }

    /// NDCG at `k`, if tracked.
    pub fn ndcg_at(&self, k: usize) -> Option<f64> {
        self.ndcg.iter().find(|p| p.0 == k).map(|p| p.1)
    }

    /// As a flat JSON object: `{"queries": n, "recall@5": …, "ndcg@5": …}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("queries".into(), self.queries.into());
        for &(k, v) in &self.recall {
            m.insert(format!("recall@{k}"), v.into());
        }
        for &(k, v) in &self.ndcg {
            m.insert(format!("ndcg@{k}"), v.into());
        }
        serde_json::Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_checked_values() {
        let mut acc = MetricsAccumulator::new(&[1, 5]);
        acc.add_ranking(&[7, 3, 9], 7); // rank 0
        acc.add_ranking(&[1, 2, 3, 4, 5, 6], 3); // rank 2
        acc.add_ranking(&[1, 2, 3, 4, 5, 6], 6); // rank 5: outside 5
        acc.add_ranking(&[1, 2], 8); // miss
        let m = acc.finish();
        assert_eq!(m.queries, 4);
        assert_eq!(m.recall_at(1), Some(0.25));
        assert_eq!(m.recall_at(5), Some(0.5));
        assert!((m.ndcg_at(1).unwrap() - 0.25).abs() < 1e-12);
        // NDCG@5 = (1 + 1/log2(4)) / 4 = (1 + 0.5) / 4.
        assert!((m.ndcg_at(5).unwrap() - 0.375).abs() < 1e-12);
        assert_eq!(m.to_json()["recall@5"], 0.5);
    }
}
