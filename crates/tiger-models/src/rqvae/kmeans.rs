//! k-means with k-means++ seeding on the host (rayon-parallel assignment), used to initialise each
//! RQ-VAE codebook from the first batch's residuals.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

/// Squared Euclidean distance.
fn dist2(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Index and squared distance of the centroid nearest to `point`.
pub fn nearest(point: &[f32], centroids: &[f32], dim: usize) -> (usize, f32) {
    centroids
        .chunks_exact(dim)
        .enumerate()
        .map(|(i, c)| (i, dist2(point, c)))
        .fold(
            (0, f32::INFINITY),
            |best, cur| if cur.1 < best.1 { cur } else { best },
        )
}

/// k-means++ seeding: the first centre uniformly, each next one with probability proportional to
/// the squared distance to the nearest centre chosen so far. `points` is `[n, dim]` row-major.
pub fn plus_plus(points: &[f32], dim: usize, k: usize, rng: &mut StdRng) -> Vec<f32> {
    let n = points.len() / dim;
    let mut centroids = Vec::with_capacity(k * dim);
    let first = rng.random_range(0..n);
    centroids.extend_from_slice(&points[first * dim..(first + 1) * dim]);
    let mut d2: Vec<f32> = points
        .par_chunks_exact(dim)
        .map(|p| dist2(p, &centroids[..dim]))
        .collect();
    for _ in 1..k {
        let total: f64 = d2.iter().map(|&v| v as f64).sum();
        let pick = if total <= 0.0 {
            rng.random_range(0..n)
        } else {
            let mut target = rng.random::<f64>() * total;
            let mut chosen = n - 1;
            for (i, &v) in d2.iter().enumerate() {
                target -= v as f64;
                if target <= 0.0 {
                    chosen = i;
                    break;
                }
            }
            chosen
        };
        let c = points[pick * dim..(pick + 1) * dim].to_vec();
        d2.par_iter_mut()
            .zip(points.par_chunks_exact(dim))
            .for_each(|(d, p)| *d = d.min(dist2(p, &c)));
        centroids.extend_from_slice(&c);
    }
    centroids
}

/// Runs k-means++ seeding and then `iters` Lloyd iterations; returns `[k, dim]` centroids. An empty
/// cluster is re-seeded with the point farthest from its centroid. With fewer points than `k`, the
/// points are reused with a tiny seeded jitter so every centroid is distinct.
pub fn kmeans(points: &[f32], dim: usize, k: usize, iters: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = points.len() / dim;
    if n == 0 || k == 0 {
        return vec![0.0; k * dim];
    }
    let owned;
    let points = if n < k {
        owned = (0..k)
            .flat_map(|i| {
                let row = &points[(i % n) * dim..(i % n + 1) * dim];
                row.iter()
                    .map(|v| v + 1e-3 * (rng.random::<f32>() - 0.5))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<f32>>();
        &owned[..]
    } else {
        points
    };
    let n = points.len() / dim;
    let mut centroids = plus_plus(points, dim, k, &mut rng);
    for _ in 0..iters {
        let assign: Vec<(usize, f32)> = points
            .par_chunks_exact(dim)
            .map(|p| nearest(p, &centroids, dim))
            .collect();
        let mut sums = vec![0f64; k * dim];
        let mut counts = vec![0usize; k];
        for (i, &(c, _)) in assign.iter().enumerate() {
            counts[c] += 1;
            for (s, v) in sums[c * dim..(c + 1) * dim]
                .iter_mut()
                .zip(&points[i * dim..(i + 1) * dim])
            {
                *s += *v as f64;
            }
        }
        let mut far: Vec<usize> = (0..n).collect();
        far.sort_by(|&a, &b| assign[b].1.total_cmp(&assign[a].1));
        let mut far = far.into_iter();
        for c in 0..k {
            let dst = &mut centroids[c * dim..(c + 1) * dim];
            if counts[c] == 0 {
                if let Some(p) = far.next() {
                    dst.copy_from_slice(&points[p * dim..(p + 1) * dim]);
                }
            } else {
                for (d, s) in dst.iter_mut().zip(&sums[c * dim..(c + 1) * dim]) {
                    *d = (*s / counts[c] as f64) as f32;
                }
            }
        }
    }
    centroids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_well_separated_clusters() {
        // Three tight clusters around (0,0), (10,0), (0,10).
        let centres = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)];
        let mut rng = StdRng::seed_from_u64(1);
        let mut pts = Vec::new();
        for i in 0..300 {
            let (x, y) = centres[i % 3];
            pts.push(x + rng.random::<f32>() * 0.1);
            pts.push(y + rng.random::<f32>() * 0.1);
        }
        let c = kmeans(&pts, 2, 3, 10, 7);
        for (x, y) in centres {
            let (_, d) = nearest(&[x, y], &c, 2);
            assert!(d < 0.05, "centre ({x},{y}) not found: {c:?}");
        }
    }

    #[test]
    fn fewer_points_than_k_gives_distinct_centroids() {
        let c = kmeans(&[1.0, 1.0, 2.0, 2.0], 2, 4, 3, 0);
        assert_eq!(c.len(), 8);
        for i in 0..4 {
            for j in i + 1..4 {
                assert!(dist2(&c[i * 2..i * 2 + 2], &c[j * 2..j * 2 + 2]) > 0.0);
            }
        }
    }
}
