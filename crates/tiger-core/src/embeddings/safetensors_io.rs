//! Embeddings as a safetensors file holding one 2-D float tensor named `embeddings`.

use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::store::{Embeddings, StoreError};

/// Name of the tensor written; on reading, a file with a single tensor is accepted whatever its
/// name.
pub const TENSOR_NAME: &str = "embeddings";

/// Parses a safetensors file's bytes (F32 or F64, 2-D) into a matrix.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Embeddings, StoreError> {
    let bad = |message: String| StoreError::Format {
        path: path.into(),
        message,
    };
    let st =
        SafeTensors::deserialize(bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let names = st.names();
    let name = if names.contains(&TENSOR_NAME) {
        TENSOR_NAME.to_string()
    } else if names.len() == 1 {
        names[0].to_string()
    } else {
        return Err(bad(format!(
            "expected a tensor named '{TENSOR_NAME}' (or exactly one tensor), found {}",
            names.len()
        )));
    };
    let view = st.tensor(&name).map_err(|e| bad(e.to_string()))?;
    let shape = view.shape();
    if shape.len() != 2 {
        return Err(bad(format!(
            "tensor '{name}' has shape {shape:?}, expected [items, dim]"
        )));
    }
    let data: Vec<f32> = match view.dtype() {
        Dtype::F32 => view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F64 => view
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32)
            .collect(),
        other => {
            return Err(bad(format!(
                "tensor '{name}' has dtype {other:?}, need F32 or F64"
            )));
        }
    };
    Embeddings::new(shape[0], shape[1], data).ok_or_else(|| {
        bad(format!(
            "tensor '{name}' data does not match its shape {shape:?}"
        ))
    })
}

/// Serialises a matrix as a safetensors file with one F32 tensor named [`TENSOR_NAME`].
pub fn encode(path: &Path, emb: &Embeddings) -> Result<Vec<u8>, StoreError> {
    let bytes: Vec<u8> = emb.data.iter().flat_map(|v| v.to_le_bytes()).collect();
    let view = TensorView::new(Dtype::F32, vec![emb.rows, emb.dim], &bytes).map_err(|e| {
        StoreError::Format {
            path: path.into(),
            message: e.to_string(),
        }
    })?;
    safetensors::serialize([(TENSOR_NAME, view)], None).map_err(|e| StoreError::Format {
        path: path.into(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors_name_the_file() {
        let emb = Embeddings::new(2, 2, vec![0.5, -1.0, 2.0, 3.0]).unwrap();
        let bytes = encode(Path::new("e.safetensors"), &emb).unwrap();
        assert_eq!(decode(Path::new("e.safetensors"), &bytes).unwrap(), emb);
        let err = decode(Path::new("e.safetensors"), &bytes[..bytes.len() - 3]).unwrap_err();
        assert!(err.to_string().starts_with("e.safetensors: "), "{err}");
        let err = decode(
            Path::new("g.safetensors"),
            b"\x01\x00\x00\x00\x00\x00\x00\x00{",
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a safetensors file"), "{err}");
    }
}
