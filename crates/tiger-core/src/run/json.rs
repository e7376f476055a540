//! Reading and writing a run's JSON files, atomically and with messages that name the file.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// Errors writing a run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A file could not be written.
    #[error("{path}: cannot write: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// The error of writing `path`.
pub fn write_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Write {
        path: path.into(),
        message: e.to_string(),
    }
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| write_err(path, e))?;
    crate::atomic::write(path, text.as_bytes()).map_err(|e| write_err(path, e))
}

/// Writes `value` as compact JSON to `path`, atomically (for machine data such as curves).
pub fn write_json_compact(path: &Path, value: &impl Serialize) -> Result<(), RunError> {
    let text = serde_json::to_string(value).map_err(|e| write_err(path, e))?;
    crate::atomic::write(path, text.as_bytes()).map_err(|e| write_err(path, e))
}

/// Reads `dir/name` as JSON of type `T`, with the file named in the message.
pub fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Result<T, String> {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("{}: missing (the run folder is incomplete)", path.display())
        } else {
            format!("{}: cannot read: {e}", path.display())
        }
    })?;
    serde_json::from_str(&text).map_err(|e| {
        let why: String = e.to_string().chars().take(160).collect();
        format!("{}: damaged ({why})", path.display())
    })
}
