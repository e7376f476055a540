//! Per-dimension input standardisation (zero mean, unit variance), fitted on the catalogue.

use serde::{Deserialize, Serialize};

use tiger_core::embeddings::Embeddings;

/// Per-dimension mean and standard deviation; `apply` maps x → (x − mean) / std.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean of each dimension.
    pub mean: Vec<f32>,
    /// Standard deviation of each dimension (floored at 1e-6).
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Fits mean and standard deviation over all rows.
    pub fn fit(emb: &Embeddings) -> Self {
        let (n, d) = (emb.rows.max(1) as f64, emb.dim);
        let mut mean = vec![0f64; d];
        let mut sq = vec![0f64; d];
        for row in emb.data.chunks_exact(d) {
            for j in 0..d {
                let v = row[j] as f64;
                mean[j] += v;
                sq[j] += v * v;
            }
        }
        let mean: Vec<f64> = mean.into_iter().map(|s| s / n).collect();
        let std = sq
            .into_iter()
            .zip(&mean)
            .map(|(s, m)| ((s / n - m * m).max(0.0).sqrt() as f32).max(1e-6))
            .collect();
        Self {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        }
    }

    /// The identity transform for width `dim`.
    pub fn identity(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            std: vec![1.0; dim],
        }
    }

    /// Standardised copy of the matrix, row-major `[rows, dim]`.
    pub fn apply(&self, emb: &Embeddings) -> Vec<f32> {
        let d = emb.dim;
        emb.data
            .iter()
            .enumerate()
            .map(|(i, v)| (v - self.mean[i % d]) / self.std[i % d])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardised_columns_have_zero_mean_unit_variance() {
        let emb = Embeddings::new(4, 2, vec![1.0, 10.0, 3.0, 10.0, 5.0, 10.0, 7.0, 10.0]).unwrap();
        let s = Standardizer::fit(&emb);
        assert_eq!(s.mean, vec![4.0, 10.0]);
        assert!((s.std[0] - 5f32.sqrt()).abs() < 1e-6);
        assert_eq!(s.std[1], 1e-6); // constant column: floored, not divided by zero
        let x = s.apply(&emb);
        let col0: Vec<f32> = x.iter().step_by(2).copied().collect();
        let mean: f32 = col0.iter().sum::<f32>() / 4.0;
        let var: f32 = col0.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5);
        assert!(x.iter().skip(1).step_by(2).all(|v| *v == 0.0));
    }
}
