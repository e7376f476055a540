//! Ways to make semantic IDs besides the RQ-VAE's nearest codewords: residual k-means (no encoder
//! to train), a Sinkhorn-balanced assignment of the last level, and random codes of the same
//! shape. Each gives `[items, levels]` codes that `SemanticIds::assign` completes with collision
//! tokens, like the RQ-VAE's.

pub mod make;
pub mod residual_kmeans;
pub mod sinkhorn;

pub use make::IdModel;
pub use residual_kmeans::ResidualKmeans;
pub use sinkhorn::balanced_assign;

/// Codes drawn uniformly at random, `[items, levels]` row-major, each in `0..codebook_size`: IDs
/// of the RQ-VAE's shape that mean nothing. The same on every machine for a given seed.
pub fn random_codes(items: usize, levels: usize, codebook_size: usize, seed: u64) -> Vec<u32> {
    let mut rng = tiger_core::embeddings::synthetic::XorShift::new(seed ^ 0x0123_4567_89AB_CDEF);
    (0..items * levels)
        .map(|_| rng.below(codebook_size.max(1)) as u32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_codes_fill_the_shape_and_follow_the_seed() {
        let a = random_codes(5000, 3, 16, 7);
        assert_eq!(a.len(), 15_000);
        assert!(a.iter().all(|&c| c < 16));
        // Every code of every level is drawn, none much more often than the others.
        for l in 0..3 {
            let mut counts = [0usize; 16];
            for row in a.chunks_exact(3) {
                counts[row[l] as usize] += 1;
            }
            assert!(
                counts.iter().all(|&c| (200..430).contains(&c)),
                "{counts:?}"
            );
        }
        assert_eq!(a, random_codes(5000, 3, 16, 7));
        assert_ne!(a, random_codes(5000, 3, 16, 8));
    }
}
