//! Checkpoint folders written crash-safely: a checkpoint is filled in `NAME.tmp`, then swapped in
//! for `NAME` with renames, so `NAME` (or, during the swap, `NAME.old`) is always a whole checkpoint.

use std::path::{Path, PathBuf};

/// Errors saving or loading checkpoints.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// File system error.
    #[error("{path}: {message}")]
    Io {
        /// Path concerned.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn io(path: &Path, e: impl std::fmt::Display) -> CheckpointError {
    CheckpointError::Io {
        path: path.into(),
        message: e.to_string(),
    }
}

/// Writes checkpoint `run/name` by calling `fill` on a fresh temporary folder, then swapping it in.
pub fn save_dir(
    run: &Path,
    name: &str,
    fill: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<PathBuf, CheckpointError> {
    let target = run.join(name);
    let tmp = run.join(format!("{name}.tmp"));
    let old = run.join(format!("{name}.old"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    if let Err(e) = fill(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(io(&target, e));
    }
    if let Ok(dir) = std::fs::File::open(&tmp) {
        let _ = dir.sync_all();
    }
    let _ = std::fs::remove_dir_all(&old);
    if target.exists() {
        std::fs::rename(&target, &old).map_err(|e| io(&target, e))?;
    }
    std::fs::rename(&tmp, &target).map_err(|e| io(&target, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(target)
}

/// The folder of checkpoint `run/name`, or its previous version if a swap was interrupted.
pub fn find_dir(run: &Path, name: &str) -> Option<PathBuf> {
    [run.join(name), run.join(format!("{name}.old"))]
        .into_iter()
        .find(|p| p.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_replaces_whole_and_failure_keeps_previous() {
        let run = std::env::temp_dir().join(format!("ckpt-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&run);
        std::fs::create_dir_all(&run).unwrap();
        save_dir(&run, "last", |d| {
            std::fs::write(d.join("a"), "1").map_err(|e| e.to_string())
        })
        .unwrap();
        save_dir(&run, "last", |d| {
            std::fs::write(d.join("a"), "2").map_err(|e| e.to_string())
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(run.join("last/a")).unwrap(), "2");
        let err = save_dir(&run, "last", |d| {
            std::fs::write(d.join("a"), "half").unwrap();
            Err("disk full".into())
        });
        assert!(err.is_err());
        assert_eq!(
            std::fs::read_to_string(find_dir(&run, "last").unwrap().join("a")).unwrap(),
            "2"
        );
        assert!(!run.join("last.tmp").exists());
        std::fs::remove_dir_all(&run).unwrap();
    }
}
