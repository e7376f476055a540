//! T5's bucketed relative position bias: a learned scalar per head for each bucket of the distance
//! between key and query positions (exact for short distances, logarithmic beyond).

use std::sync::{Arc, Mutex};

use burn::nn::{Embedding, EmbeddingConfig};
use burn::prelude::*;

/// The bucket of relative position `rel = key − query`, following the T5 scheme. Bidirectional
/// buckets give past and future halves of the range; unidirectional ones only see the past.
pub fn bucket(rel: i64, bidirectional: bool, num_buckets: usize, max_distance: usize) -> usize {
    let mut buckets = num_buckets as i64;
    let mut ret = 0i64;
    let mut n = -rel;
    if bidirectional {
        buckets /= 2;
        if n < 0 {
            ret += buckets;
        }
        n = n.abs();
    } else {
        n = n.max(0);
    }
    let max_exact = (buckets / 2).max(1);
    if n < max_exact {
        ret += n;
    } else {
        let scale = (buckets - max_exact) as f64;
        let ratio = ((n as f64) / (max_exact as f64)).ln()
            / ((max_distance as f64) / (max_exact as f64)).ln();
        ret += (max_exact + (ratio * scale) as i64).min(buckets - 1);
    }
    ret as usize
}

/// Learned relative position bias for one attention stack.
#[derive(Module, Debug)]
pub struct RelativeBias {
    table: Embedding,
    bidirectional: bool,
    num_buckets: usize,
    max_distance: usize,
    heads: usize,
    /// Bucket indices already uploaded, per query count, key count and device: built once, so
    /// that a training step uploads nothing (a step recorded as a device graph cannot upload).
    #[module(skip)]
    buckets: BucketCache,
}

/// Shared between clones of the module (the graph trainer rebuilds the model every step).
type BucketCache = Arc<Mutex<Vec<(usize, usize, Device, Tensor<1, Int>)>>>;

impl RelativeBias {
    /// A bias with `num_buckets` buckets up to `max_distance`, one value per head.
    pub fn new(
        heads: usize,
        num_buckets: usize,
        max_distance: usize,
        bidirectional: bool,
        device: &Device,
    ) -> Self {
        Self {
            table: EmbeddingConfig::new(num_buckets, heads).init(device),
            bidirectional,
            num_buckets,
            max_distance,
            heads,
            buckets: BucketCache::default(),
        }
    }

    /// Buckets and heads.
    pub fn shape(&self) -> (usize, usize) {
        (self.num_buckets, self.heads)
    }

    /// The learned table `[buckets, heads]`.
    pub fn table(&self) -> Tensor<2> {
        self.table.weight.val()
    }

    /// The bucket of every relative position `−(len − 1) ..= len − 1`, in that order (entry
    /// `k − q + len − 1` for query `q` and key `k`), as floats for the fused kernels.
    pub fn bucket_line(&self, len: usize) -> Vec<f32> {
        let len = len as i64;
        (1 - len..len)
            .map(|rel| bucket(rel, self.bidirectional, self.num_buckets, self.max_distance) as f32)
            .collect()
    }

    /// Bias for `tq` queries over `tk` keys → `[1, heads, tq, tk]`.
    pub fn forward(&self, tq: usize, tk: usize, device: &Device) -> Tensor<4> {
        let idx = self.bucket_index(tq, tk, device);
        let table = self.table.weight.val();
        tiger_kernels::gemm::one_hot_product(&table, &idx)
            .unwrap_or_else(|| tiger_kernels::row_lookup::one_hot_rows(table, idx))
            .reshape([tq, tk, self.heads])
            .permute([2, 0, 1])
            .unsqueeze_dim::<4>(0)
    }

    /// The bucket of every (query, key) pair, `[tq * tk]`, from the cache or uploaded once.
    fn bucket_index(&self, tq: usize, tk: usize, device: &Device) -> Tensor<1, Int> {
        let mut cache = self.buckets.lock().ok();
        if let Some(hit) = cache.as_ref().and_then(|c| {
            c.iter()
                .find(|(q, k, d, _)| *q == tq && *k == tk && d == device)
                .map(|(_, _, _, t)| t.clone())
        }) {
            return hit;
        }
        let mut idx = Vec::with_capacity(tq * tk);
        for q in 0..tq {
            for k in 0..tk {
                idx.push(bucket(
                    k as i64 - q as i64,
                    self.bidirectional,
                    self.num_buckets,
                    self.max_distance,
                ) as i64);
            }
        }
        let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [tq * tk]), device);
        if let Some(cache) = cache.as_mut() {
            cache.push((tq, tk, device.clone(), idx.clone()));
        }
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bias of a shape is built once and reused, also by clones of the module; each new
    /// shape adds one entry.
    #[test]
    fn bucket_indices_are_uploaded_once_per_shape() {
        let device = Device::flex();
        let rel = RelativeBias::new(2, 8, 16, true, &device);
        let first: Vec<f32> = rel.forward(3, 5, &device).try_into_vec_as().unwrap();
        let again: Vec<f32> = rel
            .clone()
            .forward(3, 5, &device)
            .try_into_vec_as()
            .unwrap();
        assert_eq!(first, again);
        let count = || rel.buckets.lock().map(|c| c.len()).unwrap_or(0);
        assert_eq!(count(), 1);
        rel.forward(4, 4, &device);
        assert_eq!(count(), 2);
        let want: Vec<i64> = (0..3i64)
            .flat_map(|q| (0..5i64).map(move |k| bucket(k - q, true, 8, 16) as i64))
            .collect();
        let got: Vec<i64> = rel.bucket_index(3, 5, &device).try_into_vec_as().unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn buckets_match_the_t5_scheme() {
        // Bidirectional, 32 buckets, max distance 128: 16 per direction, 8 exact.
        assert_eq!(bucket(0, true, 32, 128), 0);
        assert_eq!(bucket(-3, true, 32, 128), 3); // key 3 before the query
        assert_eq!(bucket(3, true, 32, 128), 19); // key 3 after: upper half
        assert_eq!(bucket(-8, true, 32, 128), 8); // first logarithmic bucket
        assert_eq!(bucket(-1000, true, 32, 128), 15); // clipped to the last bucket
        // Unidirectional: future positions all map to bucket 0.
        assert_eq!(bucket(5, false, 32, 128), 0);
        assert_eq!(bucket(-5, false, 32, 128), 5);
        assert_eq!(bucket(-16, false, 32, 128), 16);
    }
}
