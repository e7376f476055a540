//! Residual k-means IDs (RQ-KMeans): k-means on the item vectors gives the first code, k-means on
//! what is left after subtracting each item's centroid gives the second, and so on. No encoder is
//! trained; the codebooks live in the input space.

use crate::rqvae::kmeans::{kmeans, nearest};

/// The codebooks of residual k-means, one `[codebook_size, dim]` row-major block per level.
#[derive(Debug, Clone, PartialEq)]
pub struct ResidualKmeans {
    /// Width of the vectors.
    pub dim: usize,
    /// Centroids per codebook.
    pub codebook_size: usize,
    /// One codebook per level.
    pub codebooks: Vec<Vec<f32>>,
}

impl ResidualKmeans {
    /// Fits `levels` codebooks of `codebook_size` centroids to `x` (`[n, dim]` row-major) with
    /// `iters` Lloyd iterations each (k-means++ seeding from `seed` + level). `go_on` is asked
    /// before each level (numbered from 0); `None` when it says stop.
    pub fn fit(
        x: &[f32],
        dim: usize,
        levels: usize,
        codebook_size: usize,
        iters: usize,
        seed: u64,
        mut go_on: impl FnMut(usize) -> bool,
    ) -> Option<Self> {
        let mut residual = x.to_vec();
        let mut codebooks = Vec::with_capacity(levels);
        for level in 0..levels {
            if !go_on(level) {
                return None;
            }
            let book = kmeans(
                &residual,
                dim,
                codebook_size,
                iters,
                seed.wrapping_add(level as u64),
            );
            subtract_nearest(&mut residual, &book, dim);
            codebooks.push(book);
        }
        Some(Self {
            dim,
            codebook_size,
            codebooks,
        })
    }

    /// The codes of every row of `x` (`[n, dim]`): the nearest centroid of each level to what the
    /// levels before left. Returns `[n, levels]` row-major.
    pub fn codes(&self, x: &[f32]) -> Vec<u32> {
        self.codes_and_residuals(x).0
    }

    /// [`Self::codes`] and each row's residual before the last level (`[n, dim]`), which a
    /// balanced last level re-assigns.
    pub fn codes_and_residuals(&self, x: &[f32]) -> (Vec<u32>, Vec<f32>) {
        use rayon::prelude::*;
        let levels = self.codebooks.len();
        let n = x.len().checked_div(self.dim).unwrap_or(0);
        let mut codes = vec![0u32; n * levels];
        let mut last_input = vec![0f32; n * self.dim];
        codes
            .par_chunks_exact_mut(levels.max(1))
            .zip(x.par_chunks_exact(self.dim))
            .zip(last_input.par_chunks_exact_mut(self.dim))
            .for_each(|((row_codes, row), last)| {
                let mut r = row.to_vec();
                for (l, book) in self.codebooks.iter().enumerate() {
                    if l + 1 == levels {
                        last.copy_from_slice(&r);
                    }
                    let (c, _) = nearest(&r, book, self.dim);
                    row_codes[l] = c as u32;
                    for (v, m) in r.iter_mut().zip(&book[c * self.dim..(c + 1) * self.dim]) {
                        *v -= m;
                    }
                }
            });
        (codes, last_input)
    }
}

/// Replaces every row of `x` by its difference to the nearest centroid of `book`.
fn subtract_nearest(x: &mut [f32], book: &[f32], dim: usize) {
    use rayon::prelude::*;
    x.par_chunks_exact_mut(dim).for_each(|row| {
        let (c, _) = nearest(row, book, dim);
        for (v, m) in row.iter_mut().zip(&book[c * dim..(c + 1) * dim]) {
            *v -= m;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_level_codes_what_the_first_left() {
        // Two clusters at x = 0 and x = 10, each with items 1 above and 1 below the centre: the
        // first level separates the clusters, the second the sign of y, the same way in both.
        let mut x = Vec::new();
        for i in 0..40 {
            let cx = if i % 2 == 0 { 0.0 } else { 10.0 };
            let y = if (i / 2) % 2 == 0 { 1.0 } else { -1.0 };
            x.extend([cx, y]);
        }
        let rk = ResidualKmeans::fit(&x, 2, 2, 2, 10, 3, |_| true).unwrap();
        let codes = rk.codes(&x);
        for i in 0..40 {
            let (c1, c2) = (codes[2 * i], codes[2 * i + 1]);
            assert_eq!(c1, codes[(i % 2) * 2], "item {i}: first level by cluster");
            let above = (i / 2) % 2 == 0;
            assert_eq!(
                c2 == codes[1],
                above,
                "item {i}: second level by the sign of y"
            );
        }
        assert_ne!(codes[0], codes[2]);
        // The first codebook holds the cluster centres, the second the offsets ±1.
        let mut first: Vec<(i32, i32)> = rk.codebooks[0]
            .chunks_exact(2)
            .map(|c| (c[0].round() as i32, c[1].round() as i32))
            .collect();
        first.sort();
        assert_eq!(first, vec![(0, 0), (10, 0)]);
        let mut second: Vec<(i32, i32)> = rk.codebooks[1]
            .chunks_exact(2)
            .map(|c| (c[0].round() as i32, c[1].round() as i32))
            .collect();
        second.sort();
        assert_eq!(second, vec![(0, -1), (0, 1)]);
        // The residual before the last level is the offset from the cluster centre.
        let (_, last) = rk.codes_and_residuals(&x);
        assert!((last[0] - 0.0).abs() < 1e-5 && (last[1] - 1.0).abs() < 1e-5);
        assert!((last[2] - 0.0).abs() < 1e-5 && (last[3] - 1.0).abs() < 1e-5);
    }
}
