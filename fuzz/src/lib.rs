//! The project's file loaders compiled on their own (the same source files as the app), for the
//! fuzz targets, plus a helper that turns one fuzz input into files in a scratch folder.
#![allow(dead_code)]

#[path = "../../src/atomic.rs"]
pub mod atomic;
#[path = "../../src/data/mod.rs"]
pub mod data;

/// The embedding file formats.
pub mod embed;
/// Semantic IDs.
pub mod rqvae;

#[cfg(feature = "checkpoint")]
#[path = "../../src/config.rs"]
pub mod config;
/// The device choice (the only part of the app's device module the options need).
#[cfg(feature = "checkpoint")]
pub mod device;
/// Metrics (recorded in the training state).
#[cfg(feature = "checkpoint")]
pub mod eval;
/// Row lookups the model's embeddings and position buckets use.
#[cfg(feature = "checkpoint")]
#[path = "../../src/row_lookup.rs"]
pub mod row_lookup;
/// The generative recommender's model and vocabulary.
#[cfg(feature = "checkpoint")]
pub mod seq2seq;
/// SASRec's options and run config.
#[cfg(feature = "checkpoint")]
pub mod baseline;
/// Checkpoints, options and run configs.
#[cfg(feature = "checkpoint")]
pub mod train;

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
/// Helpers of the checkpoint targets.
#[cfg(feature = "checkpoint")]
pub mod ckpt;
