//! Synthetic embeddings for benchmarks and tests: seeded, the same on every machine (which keeps
//! recorded figures reproducible), clustered so that quantization has structure to find.

use super::store::Embeddings;

/// A xorshift64 generator for synthetic benchmark data: fast, seedable, the same sequence on every
/// machine (which keeps recorded figures reproducible).
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `state` (0 is replaced by 1: xorshift never leaves 0).
    pub fn new(state: u64) -> Self {
        Self(state.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A uniform value in [0, 1) with 24 bits of resolution.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A uniform index in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() >> 33) as usize % n
    }
}

/// Deterministic synthetic item embeddings: `n` rows of `dim` values around 64 cluster centres
/// (so quantization has structure to find), from a seeded xorshift generator.
pub fn synthetic_embeddings(n: usize, dim: usize, seed: u64) -> Embeddings {
    let mut rng = XorShift::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut next = move || rng.unit() * 2.0 - 1.0;
    let centres: Vec<f32> = (0..64 * dim).map(|_| next()).collect();
    let mut data = Vec::with_capacity(n * dim);
    for i in 0..n {
        let c = &centres[(i % 64) * dim..(i % 64 + 1) * dim];
        data.extend(c.iter().map(|&v| v + 0.3 * next()));
    }
    Embeddings { rows: n, dim, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_embeddings_have_the_asked_shape_and_are_deterministic() {
        let a = synthetic_embeddings(100, 8, 1);
        let b = synthetic_embeddings(100, 8, 1);
        assert_eq!((a.rows, a.dim), (100, 8));
        assert_eq!(a.data, b.data);
        assert_ne!(a.data, synthetic_embeddings(100, 8, 2).data);
        assert!(a.data.iter().all(|v| v.is_finite() && v.abs() < 1.5));
    }
}
