//! The `.npy` format (versions 1–3), for 2-D little-endian float32/float64 C-order arrays.

use std::path::Path;

use super::store::{Embeddings, StoreError};

const MAGIC: &[u8] = b"\x93NUMPY";
/// Largest header accepted; real headers are well under 1 KiB.
const MAX_HEADER: usize = 1 << 16;

/// Parses an `.npy` file's bytes into a matrix. The shape is checked against the file size before
/// anything is allocated, so a lying header cannot make it allocate more than the file holds.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Embeddings, StoreError> {
    let bad = |message: String| StoreError::Format {
        path: path.into(),
        message,
    };
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not an .npy file (bad magic bytes)".into()));
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad(format!("unsupported .npy version {major}"))),
    };
    if header_len > MAX_HEADER || start + header_len > bytes.len() {
        return Err(bad("truncated .npy header".into()));
    }
    let header = std::str::from_utf8(&bytes[start..start + header_len])
        .map_err(|_| bad("header is not text".into()))?;
    let descr = dict_value(header, "descr").ok_or_else(|| bad("header has no 'descr'".into()))?;
    let fortran = dict_value(header, "fortran_order").unwrap_or("False");
    if fortran.trim() != "False" {
        return Err(bad("Fortran-ordered arrays are not supported".into()));
    }
    let shape = parse_shape(header).ok_or_else(|| bad("header has no valid 'shape'".into()))?;
    if shape.len() != 2 {
        return Err(bad(format!(
            "expected a 2-D array [items, dim], found shape {shape:?}"
        )));
    }
    let (rows, dim) = (shape[0], shape[1]);
    let width = match descr.trim_matches(|c| c == '\'' || c == '"') {
        "<f4" => 4,
        "<f8" => 8,
        other => return Err(bad(format!("unsupported dtype {other} (need <f4 or <f8)"))),
    };
    let body = &bytes[start + header_len..];
    let count = rows
        .checked_mul(dim)
        .filter(|n| n.checked_mul(width) == Some(body.len()))
        .ok_or_else(|| {
            bad(format!(
                "shape ({rows}, {dim}) needs {} bytes of data but the file has {}",
                rows.saturating_mul(dim).saturating_mul(width),
                body.len()
            ))
        })?;
    let data: Vec<f32> = if width == 4 {
        body.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        body.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f32)
            .collect()
    };
    debug_assert_eq!(data.len(), count);
    Ok(Embeddings { rows, dim, data })
}

/// Serialises a matrix as a version-1.0 `.npy` file of `<f4`.
pub fn encode(emb: &Embeddings) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}",
        emb.rows, emb.dim
    );
    // Pad so that the data starts on a 64-byte boundary, ending with a newline.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + emb.data.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in &emb.data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// The raw text of `key`'s value in a Python dict literal (up to the next `,` at depth 0).
fn dict_value<'h>(header: &'h str, key: &str) -> Option<&'h str> {
    let at = header.find(&format!("'{key}'"))?;
    let rest = header[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?;
    let end = rest.find(',').unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// Parses the `'shape': (a, b)` tuple of an `.npy` header.
fn parse_shape(header: &str) -> Option<Vec<usize>> {
    let at = header.find("'shape'")?;
    let rest = &header[at..];
    let open = rest.find('(')?;
    let close = rest.find(')')?;
    rest.get(open + 1..close)?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_aligned_header() {
        let emb = Embeddings::new(2, 3, vec![1.0, 2.0, 3.0, 4.0, 5.0, -6.5]).unwrap();
        let bytes = encode(&emb);
        assert_eq!((bytes.len() - 24) % 4, 0);
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        assert_eq!(decode(Path::new("x.npy"), &bytes).unwrap(), emb);
    }

    fn with_header(header: &str, body: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn lying_shape_is_refused_without_allocating() {
        let bytes = with_header(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (9999999999, 99), }",
            &[0; 8],
        );
        let err = decode(Path::new("x.npy"), &bytes).unwrap_err();
        assert!(err.to_string().contains("x.npy"), "{err}");
        assert!(err.to_string().contains("bytes of data"), "{err}");
    }

    #[test]
    fn rejects_3d_and_garbage() {
        assert!(decode(Path::new("g.npy"), b"garbage!!!!!").is_err());
        let bytes = with_header(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 1), }",
            &[0; 8],
        );
        let err = decode(Path::new("x.npy"), &bytes).unwrap_err();
        assert!(err.to_string().contains("2-D"), "{err}");
    }
}
