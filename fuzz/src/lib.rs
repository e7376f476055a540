//! Shared pieces of the fuzz targets: a helper that turns one fuzz input into files in a scratch
//! folder, valid run configs to seed the corpora with, and (feature `checkpoint`) the tiny model
//! every checkpoint target loads into. The loaders come from `tiger-core` like in the app; the
//! checkpoint targets add `tiger-models`.

/// Helpers of the checkpoint targets.
#[cfg(feature = "checkpoint")]
pub mod ckpt;
/// Valid run configs for the corpora.
pub mod seeds;

use std::path::PathBuf;

/// Splits `data` at the first 0xFF byte (the rest after it, or empty) and writes the parts as
/// `names` into a scratch folder unique to this process; returns the folder.
pub fn write_parts(data: &[u8], names: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tiger-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    let mut rest = data;
    for (i, name) in names.iter().enumerate() {
        let part = if i + 1 == names.len() {
            rest
        } else {
            match rest.iter().position(|&b| b == 0xFF) {
                Some(p) => {
                    let (a, b) = rest.split_at(p);
                    rest = &b[1..];
                    a
                }
                None => std::mem::take(&mut rest),
            }
        };
        let _ = std::fs::write(dir.join(name), part);
    }
    dir
}
