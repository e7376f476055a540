//! Crash-safe file writes: write to a temporary file beside the target, flush it to disk, then
//! rename it over the target, so a reader sees either the old file or the whole new one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (temp file in the same folder + fsync + rename).
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, |f| f.write_all(bytes))
}

/// Writes `path` atomically with a writer callback; on any error the temp file is removed and the
/// previous content of `path` is untouched.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The temporary name used while `path` is being written: `.NAME.tmp-PID` in the same folder.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Files of one folder written together (a run): each is first written whole to its temporary name,
/// then [`Staged::commit`] puts them in place. The folder's marker file (a run's `config.json`) is
/// removed before the first rename and written after the last, so a reader that requires the marker
/// sees the old files or the new ones, never a mix; a kill between leaves a folder without its
/// marker, which readers report as unfinished. Temporary files left by an uncommitted set are
/// removed when it is dropped.
pub struct Staged {
    dir: PathBuf,
    files: Vec<(PathBuf, PathBuf)>,
}

/// One step of [`Staged::commit`], in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitStep {
    /// Remove the folder's marker file.
    RemoveMarker,
    /// Rename the staged file with this index over its target.
    Rename(usize),
    /// Write the marker file (itself atomically).
    WriteMarker,
}

impl Staged {
    /// An empty set of files for `dir` (which must exist).
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            files: Vec::new(),
        }
    }

    /// The folder the files go into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `dir/name`'s new content to its temporary name (flushed to disk before the commit
    /// renames it).
    pub fn write_with(
        &mut self,
        name: &str,
        fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let tmp = self.temp_for(name);
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        w.flush()
    }

    /// Writes `bytes` as `dir/name`'s new content.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.write_with(name, |w| w.write_all(bytes))
    }

    /// The temporary path of `dir/name`, for a writer that takes a path; the caller writes the
    /// whole file there before [`Staged::commit`].
    pub fn temp_for(&mut self, name: &str) -> PathBuf {
        let target = self.dir.join(name);
        let tmp = temp_path(&target);
        if !self.files.iter().any(|(t, _)| *t == tmp) {
            self.remove_stale(name);
            self.files.push((tmp.clone(), target));
        }
        tmp
    }

    /// Removes temporary files of `name` that an earlier, killed writer left behind.
    fn remove_stale(&self, name: &str) {
        let prefix = format!(".{name}.tmp-");
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// The steps [`Staged::commit`] takes, in order.
    pub fn commit_steps(&self) -> Vec<CommitStep> {
        let mut steps = vec![CommitStep::RemoveMarker];
        steps.extend((0..self.files.len()).map(CommitStep::Rename));
        steps.push(CommitStep::WriteMarker);
        steps
    }

    /// Takes one step of the commit; `marker` names the marker file, `content` is its new content.
    pub fn run_step(&self, step: CommitStep, marker: &str, content: &[u8]) -> std::io::Result<()> {
        match step {
            CommitStep::RemoveMarker => match std::fs::remove_file(self.dir.join(marker)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            CommitStep::Rename(i) => match self.files.get(i) {
                Some((tmp, target)) => {
                    std::fs::File::open(tmp)?.sync_all()?;
                    std::fs::rename(tmp, target)
                }
                None => Ok(()),
            },
            CommitStep::WriteMarker => write(&self.dir.join(marker), content),
        }
    }

    /// Puts every staged file in place, the marker `dir/marker` (with `content`) last.
    pub fn commit(mut self, marker: &str, content: &[u8]) -> std::io::Result<()> {
        for step in self.commit_steps() {
            self.run_step(step, marker, content)?;
        }
        self.files.clear();
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (tmp, _) in &self.files {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_whole_file_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("atomic-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.txt");
        super::write(&p, b"old").unwrap();
        super::write(&p, b"new content").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new content");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1);
        // A failing writer leaves the old file intact.
        let err = super::write_with(&p, |_| Err(std::io::Error::other("boom")));
        assert!(err.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"new content");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every kill point of a commit over an older set of files leaves either the old set or the new
    /// one under a marker, never a mix; without the marker the folder is unfinished.
    #[test]
    fn a_commit_interrupted_at_any_step_never_leaves_a_mixed_set_under_the_marker() {
        let dir = std::env::temp_dir().join(format!("staged-test-{}", std::process::id()));
        let names = ["a.bin", "b.csv", "c.json"];
        let mut checked = 0;
        for kill_after in 0..=names.len() + 2 {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for n in names {
                super::write(&dir.join(n), b"old").unwrap();
            }
            super::write(&dir.join("config.json"), b"old").unwrap();
            let mut staged = super::Staged::new(&dir);
            for n in names {
                staged.write(n, b"new").unwrap();
            }
            for step in staged.commit_steps().into_iter().take(kill_after) {
                staged.run_step(step, "config.json", b"new").unwrap();
            }
            std::mem::forget(staged); // killed: nothing cleans up
            let read = |n: &str| std::fs::read(dir.join(n)).unwrap();
            if let Ok(marker) = std::fs::read(dir.join("config.json")) {
                for n in names {
                    assert_eq!(read(n), marker, "kill after {kill_after} steps: {n}");
                }
                checked += 1;
            } else {
                // Unfinished: every file is still whole (old or new).
                for n in names {
                    let content = read(n);
                    assert!(content == b"old" || content == b"new");
                }
            }
        }
        assert_eq!(
            checked, 2,
            "only before the first and after the last step is there a marker"
        );
        // An uncommitted set removes its temporary files.
        let mut staged = super::Staged::new(&dir);
        staged.write("d.txt", b"x").unwrap();
        drop(staged);
        let temps = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".d.txt"))
            .count();
        assert_eq!(temps, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
