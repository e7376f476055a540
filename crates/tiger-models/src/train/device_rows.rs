//! A catalogue's rows kept on the device in chunks, so that no single buffer outgrows what the GPU
//! API allows (wgpu refuses buffers of a few GiB; 1M items x 768 floats is 3 GiB).

use burn::prelude::*;

/// Largest chunk in bytes.
pub const CHUNK_BYTES: usize = 512 << 20;

/// `[rows, dim]` floats on the device as row chunks of at most [`CHUNK_BYTES`].
#[derive(Debug, Clone)]
pub struct DeviceRows {
    chunks: Vec<Tensor<2>>,
    per_chunk: usize,
    rows: usize,
    dim: usize,
}

impl From<Tensor<2>> for DeviceRows {
    /// Rows already on the device, as one chunk.
    fn from(t: Tensor<2>) -> Self {
        let [rows, dim] = t.dims();
        Self {
            chunks: vec![t],
            per_chunk: rows.max(1),
            rows,
            dim,
        }
    }
}

impl DeviceRows {
    /// Uploads `host` (`rows * dim` values, row-major) to `device`.
    pub fn upload(host: &[f32], rows: usize, dim: usize, device: &Device) -> Self {
        Self::upload_chunked(host, rows, dim, device, CHUNK_BYTES)
    }

    /// Like [`DeviceRows::upload`] with a chosen chunk size (tests use small ones).
    pub fn upload_chunked(
        host: &[f32],
        rows: usize,
        dim: usize,
        device: &Device,
        chunk_bytes: usize,
    ) -> Self {
        let per_chunk = (chunk_bytes / (dim.max(1) * 4)).max(1);
        let chunks = host
            .chunks(per_chunk * dim.max(1))
            .map(|c| {
                let n = c.len() / dim.max(1);
                Tensor::<2>::from_data(TensorData::new(c.to_vec(), [n, dim]), device)
            })
            .collect();
        Self {
            chunks,
            per_chunk,
            rows,
            dim,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The chunks in row order, each `[<= per_chunk, dim]`.
    pub fn chunks(&self) -> &[Tensor<2>] {
        &self.chunks
    }

    /// Rows `idx` as one `[idx.len(), dim]` tensor. With one chunk the rows come in `idx` order;
    /// with several they come grouped by chunk (the same set of rows, which is all a training
    /// batch needs).
    pub fn gather(&self, idx: &[usize], device: &Device) -> Tensor<2> {
        let to_tensor = |v: Vec<i64>| {
            let n = v.len();
            Tensor::<1, Int>::from_data(TensorData::new(v, [n]), device)
        };
        if self.chunks.len() == 1 {
            let v = idx.iter().map(|&i| i as i64).collect();
            return self.chunks[0].clone().select(0, to_tensor(v));
        }
        let mut per: Vec<Vec<i64>> = vec![Vec::new(); self.chunks.len()];
        for &i in idx {
            per[i / self.per_chunk].push((i % self.per_chunk) as i64);
        }
        let parts: Vec<Tensor<2>> = per
            .into_iter()
            .zip(&self.chunks)
            .filter(|(v, _)| !v.is_empty())
            .map(|(v, c)| c.clone().select(0, to_tensor(v)))
            .collect();
        if parts.is_empty() {
            return Tensor::<2>::zeros([0, self.dim], device);
        }
        Tensor::cat(parts, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_gather_returns_the_same_rows() {
        let device = Device::flex();
        let (rows, dim) = (10, 3);
        let host: Vec<f32> = (0..rows * dim).map(|v| v as f32).collect();
        // 2 rows per chunk: 5 chunks.
        let chunked = DeviceRows::upload_chunked(&host, rows, dim, &device, 2 * dim * 4);
        assert_eq!(chunked.chunks().len(), 5);
        let whole = DeviceRows::upload(&host, rows, dim, &device);
        assert_eq!(whole.chunks().len(), 1);
        let idx = [7, 1, 8, 0, 9];
        let rows_of = |t: Tensor<2>| {
            let v = t.try_into_vec_as::<f32>().unwrap();
            let mut r: Vec<Vec<i64>> = v
                .chunks(dim)
                .map(|c| c.iter().map(|&x| x as i64).collect())
                .collect();
            r.sort();
            r
        };
        let a = whole.gather(&idx, &device);
        assert_eq!(a.dims(), [5, 3]);
        // One chunk keeps the order.
        let first: Vec<f32> = a.clone().try_into_vec_as::<f32>().unwrap()[..3].to_vec();
        assert_eq!(first, vec![21.0, 22.0, 23.0]);
        assert_eq!(rows_of(a), rows_of(chunked.gather(&idx, &device)));
    }
}
