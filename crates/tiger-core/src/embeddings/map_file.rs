//! Stored 2-D maps of item embeddings (`map_tsne-<hash>.npy`, `rows × 2` float32): the hash is of
//! the embeddings themselves, so a map is only ever read back for the vectors it was made from.
//! The window looks beside the dataset first (the bundled sample ships its map; `tiger-explorer
//! map` writes one there), then in the user's cache folder, where it keeps the maps it computes.

use std::path::{Path, PathBuf};

use super::store::{self, Embeddings, StoreError};

/// 64-bit FNV-1a of the embeddings' shape and values, in hex.
pub fn embeddings_hash(emb: &Embeddings) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(&(emb.rows as u64).to_le_bytes());
    eat(&(emb.dim as u64).to_le_bytes());
    for v in &emb.data {
        eat(&v.to_le_bytes());
    }
    format!("{h:016x}")
}

/// The file name of the t-SNE map of `emb`.
pub fn tsne_file_name(emb: &Embeddings) -> String {
    format!("map_tsne-{}.npy", embeddings_hash(emb))
}

/// The folder where computed maps are kept: `$XDG_CACHE_HOME/tiger-explorer/maps`, else
/// `~/.cache/tiger-explorer/maps`.
pub fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("tiger-explorer").join("maps"))
}

/// A stored map of `rows` points at `path`, if one of that shape is there.
pub fn read_map(path: &Path, rows: usize) -> Option<Vec<[f32; 2]>> {
    let m = store::read(path).ok()?;
    (m.rows == rows && m.dim == 2).then(|| m.data.chunks_exact(2).map(|p| [p[0], p[1]]).collect())
}

/// Writes a map to `path` (atomically; its folder is created).
pub fn write_map(path: &Path, points: &[[f32; 2]]) -> Result<(), StoreError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
    }
    let data = points.iter().flat_map(|p| *p).collect();
    match Embeddings::new(points.len(), 2, data) {
        Some(m) => store::write(path, &m),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_follows_every_value_and_the_shape() {
        let a = Embeddings::new(2, 2, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let b = Embeddings::new(2, 2, vec![1.0, 2.0, 3.0, 4.5]).unwrap();
        let c = Embeddings::new(1, 4, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let ha = embeddings_hash(&a);
        assert_eq!(ha, embeddings_hash(&a.clone()));
        assert_ne!(ha, embeddings_hash(&b));
        assert_ne!(ha, embeddings_hash(&c));
        assert_eq!(tsne_file_name(&a), format!("map_tsne-{ha}.npy"));
    }

    #[test]
    fn a_stored_map_is_read_back_only_with_the_right_shape() {
        let dir = std::env::temp_dir().join(format!("tiger-map-test-{}", std::process::id()));
        let path = dir.join("m.npy");
        write_map(&path, &[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).unwrap();
        assert_eq!(
            read_map(&path, 3),
            Some(vec![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        );
        assert_eq!(read_map(&path, 4), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
