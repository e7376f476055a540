//! Reading and writing item embeddings as `.npy` (what numpy / sentence-transformers users have)
//! and as safetensors. Rows follow the catalogue's file order.

use std::path::{Path, PathBuf};

/// A dense row-major matrix of item embeddings, `[rows, dim]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// Number of items.
    pub rows: usize,
    /// Embedding width.
    pub dim: usize,
    /// `rows * dim` values, row-major.
    pub data: Vec<f32>,
}

/// Problems reading or writing an embeddings file; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is not a valid embeddings file of its kind.
    #[error("{path}: {message}")]
    Format {
        /// File concerned.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is NaN or infinite.
    #[error("{path}: row {row}, column {col} is not a finite number ({value})")]
    NotFinite {
        /// File concerned.
        path: PathBuf,
        /// 0-based row (item index).
        row: usize,
        /// 0-based column.
        col: usize,
        /// The value found.
        value: f32,
    },
    /// The file does not match the catalogue it is used with.
    #[error("{path}: has {rows} rows × {dim} dims but {expected}")]
    Mismatch {
        /// File concerned.
        path: PathBuf,
        /// Rows in the file.
        rows: usize,
        /// Width in the file.
        dim: usize,
        /// What was expected, in words.
        expected: String,
    },
}

impl Embeddings {
    /// Builds a matrix, checking that `data.len() == rows * dim`.
    pub fn new(rows: usize, dim: usize, data: Vec<f32>) -> Option<Self> {
        (rows.checked_mul(dim)? == data.len()).then_some(Self { rows, dim, data })
    }

    /// Row `i` as a slice.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Fails unless the matrix has `rows` rows (the catalogue size).
    pub fn check_rows(&self, path: &Path, rows: usize) -> Result<(), StoreError> {
        if self.rows != rows {
            return Err(StoreError::Mismatch {
                path: path.into(),
                rows: self.rows,
                dim: self.dim,
                expected: format!("the catalogue has {rows} items"),
            });
        }
        Ok(())
    }
}

/// Reads `.npy` or `.safetensors` by extension, then checks every value is finite.
pub fn read(path: &Path) -> Result<Embeddings, StoreError> {
    let bytes = std::fs::read(path).map_err(|source| StoreError::Io {
        path: path.into(),
        source,
    })?;
    let emb = if is_safetensors(path) {
        super::safetensors_io::decode(path, &bytes)?
    } else {
        super::npy::decode(path, &bytes)?
    };
    if emb.rows == 0 || emb.dim == 0 {
        return Err(StoreError::Format {
            path: path.into(),
            message: format!("empty matrix ({} × {})", emb.rows, emb.dim),
        });
    }
    if let Some(i) = emb.data.iter().position(|v| !v.is_finite()) {
        return Err(StoreError::NotFinite {
            path: path.into(),
            row: i / emb.dim,
            col: i % emb.dim,
            value: emb.data[i],
        });
    }
    Ok(emb)
}

/// Writes `.npy` or `.safetensors` by extension, atomically.
pub fn write(path: &Path, emb: &Embeddings) -> Result<(), StoreError> {
    let bytes = if is_safetensors(path) {
        super::safetensors_io::encode(path, emb)?
    } else {
        super::npy::encode(emb)
    };
    crate::atomic::write(path, &bytes).map_err(|source| StoreError::Io {
        path: path.into(),
        source,
    })
}

/// Whether `path` names a safetensors file (by extension).
fn is_safetensors(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
}
