//! A 2-D projection of item embeddings by PCA (power iteration with deflation, on the host), for
//! the embedding map. Linear in the number of items per iteration.

use tiger_core::embeddings::Embeddings;

/// Projects every row onto the first two principal components → `[rows]` points.
pub fn project_2d(emb: &Embeddings, iterations: usize) -> Vec<[f32; 2]> {
    let (n, d) = (emb.rows, emb.dim);
    if n == 0 || d == 0 {
        return Vec::new();
    }
    let mut mean = vec![0f64; d];
    for row in emb.data.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += *v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let centred = |i: usize, j: usize| emb.data[i * d + j] as f64 - mean[j];
    let mut comps: Vec<Vec<f64>> = Vec::new();
    for c in 0..2 {
        // Deterministic start vector, orthogonal to the components found so far.
        let mut v: Vec<f64> = (0..d)
            .map(|j| 1.0 + ((j * 7 + c * 3) % 11) as f64 / 11.0)
            .collect();
        for _ in 0..iterations {
            // w = Xᵀ (X v), with X centred.
            let xv: Vec<f64> = (0..n)
                .map(|i| (0..d).map(|j| centred(i, j) * v[j]).sum())
                .collect();
            let mut w = vec![0f64; d];
            for (i, s) in xv.iter().enumerate() {
                for (j, wj) in w.iter_mut().enumerate() {
                    *wj += centred(i, j) * s;
                }
            }
            for p in &comps {
                let dot: f64 = w.iter().zip(p).map(|(a, b)| a * b).sum();
                w.iter_mut().zip(p).for_each(|(a, b)| *a -= dot * b);
            }
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm == 0.0 {
                break;
            }
            v = w.into_iter().map(|x| x / norm).collect();
        }
        comps.push(v);
    }
    (0..n)
        .map(|i| {
            let p = |c: &Vec<f64>| (0..d).map(|j| centred(i, j) * c[j]).sum::<f64>() as f32;
            [p(&comps[0]), p(&comps[1])]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_dominant_direction() {
        // Points spread along (1, 1, 0) with small noise along z: the first axis separates them.
        let mut data = Vec::new();
        for i in 0..50 {
            let t = i as f32 - 25.0;
            data.extend([t, t, 0.01 * (i % 3) as f32]);
        }
        let emb = Embeddings::new(50, 3, data).unwrap();
        let p = project_2d(&emb, 30);
        let spread0 = p.iter().map(|q| q[0].abs()).fold(0f32, f32::max);
        let spread1 = p.iter().map(|q| q[1].abs()).fold(0f32, f32::max);
        assert!(spread0 > 30.0 && spread1 < 0.1, "{spread0} {spread1}");
        // Order along the first axis follows t (up to sign).
        assert!((p[0][0] - p[49][0]).abs() > 60.0);
    }
}
