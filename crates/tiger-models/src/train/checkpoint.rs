//! Checkpoint folders written crash-safely: a checkpoint is filled in `NAME.tmp`, then swapped in
//! for `NAME` with renames, so `NAME` (or, during the swap, `NAME.old`) is always a whole
//! checkpoint.

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
    let folders = Folders::of(run, name);
    let _ = std::fs::remove_dir_all(&folders.tmp);
    std::fs::create_dir_all(&folders.tmp).map_err(|e| io(&folders.tmp, e))?;
    if let Err(e) = fill(&folders.tmp) {
        let _ = std::fs::remove_dir_all(&folders.tmp);
        return Err(io(&folders.target, e));
    }
    if let Ok(dir) = std::fs::File::open(&folders.tmp) {
        let _ = dir.sync_all();
    }
    for &step in swap_plan(folders.target.is_dir()) {
        folders.apply(step)?;
    }
    Ok(folders.target)
}

/// The three folders of one checkpoint.
struct Folders {
    target: PathBuf,
    tmp: PathBuf,
    old: PathBuf,
}

/// One step of swapping a filled `NAME.tmp` in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Swap {
    /// Delete `NAME.old`.
    RemoveOld,
    /// Rename `NAME` to `NAME.old`.
    TargetToOld,
    /// Rename `NAME.tmp` to `NAME`.
    TmpToTarget,
}

/// The steps that swap a filled `NAME.tmp` in, such that a process killed between any two of them
/// leaves a whole checkpoint for [`find_dir`]: `NAME.old` is deleted only while `NAME` exists (an
/// earlier kill may have left `NAME.old` alone, the only copy).
fn swap_plan(target_exists: bool) -> &'static [Swap] {
    if target_exists {
        &[
            Swap::RemoveOld,
            Swap::TargetToOld,
            Swap::TmpToTarget,
            Swap::RemoveOld,
        ]
    } else {
        &[Swap::TmpToTarget, Swap::RemoveOld]
    }
}

impl Folders {
    fn of(run: &Path, name: &str) -> Self {
        Self {
            target: run.join(name),
            tmp: run.join(format!("{name}.tmp")),
            old: run.join(format!("{name}.old")),
        }
    }

    fn apply(&self, step: Swap) -> Result<(), CheckpointError> {
        match step {
            Swap::RemoveOld => match std::fs::remove_dir_all(&self.old) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&self.old, e)),
                _ => Ok(()),
            },
            Swap::TargetToOld => {
                std::fs::rename(&self.target, &self.old).map_err(|e| io(&self.target, e))
            }
            Swap::TmpToTarget => {
                std::fs::rename(&self.tmp, &self.target).map_err(|e| io(&self.target, e))
            }
        }
    }
}

/// The folder of checkpoint `run/name`, or its previous version if a swap was interrupted.
pub fn find_dir(run: &Path, name: &str) -> Option<PathBuf> {
    [run.join(name), run.join(format!("{name}.old"))]
        .into_iter()
        .find(|p| p.is_dir())
}

/// Saves the resumable `last` checkpoint: weights, optimiser state and the loop's state as JSON.
pub fn save_last<M: burn::module::Module>(
    run: &Path,
    model: &M,
    optim: &burn::optim::ModuleOptimizer,
    state: &impl serde::Serialize,
) -> Result<(), CheckpointError> {
    save_dir(run, "last", |d| {
        model
            .clone()
            .save_file(d.join("model.bpk"))
            .map_err(|e| e.to_string())?;
        optim.save(d.join("optim.bpk")).map_err(|e| e.to_string())?;
        let text = serde_json::to_string(state).map_err(|e| e.to_string())?;
        std::fs::write(d.join("state.json"), text).map_err(|e| e.to_string())
    })?;
    Ok(())
}

/// Saves the `best` checkpoint (weights and the step they come from).
pub fn save_best<M: burn::module::Module>(
    run: &Path,
    model: &M,
    step: usize,
) -> Result<(), CheckpointError> {
    save_dir(run, "best", |d| {
        model
            .clone()
            .save_file(d.join("model.bpk"))
            .map_err(|e| e.to_string())?;
        std::fs::write(d.join("state.json"), step.to_string()).map_err(|e| e.to_string())
    })?;
    Ok(())
}

/// Loads `last` into `model` and `optim` and parses its state; `None` when there is no checkpoint.
pub fn load_last<M: burn::module::Module, S: serde::de::DeserializeOwned>(
    run: &Path,
    model: M,
    optim: burn::optim::ModuleOptimizer,
) -> Result<Option<(M, burn::optim::ModuleOptimizer, S)>, CheckpointError> {
    let Some(dir) = find_dir(run, "last") else {
        return Ok(None);
    };
    let mp = dir.join("model.bpk");
    let model = model.try_load_file(&mp).map_err(|e| io(&mp, e))?;
    let op = dir.join("optim.bpk");
    check_optim_file(&op, &model).map_err(|e| io(&op, e))?;
    let optim = optim.load(&op).map_err(|e| io(&op, e))?;
    let sp = dir.join("state.json");
    let text = std::fs::read_to_string(&sp).map_err(|e| io(&sp, e))?;
    let state = serde_json::from_str(&text).map_err(|e| io(&sp, e))?;
    Ok(Some((model, optim, state)))
}

/// The shape of every float parameter of a module, by parameter id.
struct ParamShapes(std::collections::HashMap<u64, Vec<usize>>);

impl burn::module::ModuleVisitor for ParamShapes {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<burn::Tensor<D>>) {
        self.0.insert(param.id.val(), param.shape().to_vec());
    }
}

/// Checks an optimiser state file against `model` before burn reads it: every state tensor must
/// be an f32 tensor named for (`"{id}.…"`) and carrying the id of one of the model's parameters,
/// with that parameter's shape, and every recorded rank must be that parameter's rank. burn's
/// loader panics on a tensor without a parameter id, and a state that disagrees with its parameter
/// panics inside the first step; both were found by fuzzing (`fuzz/`, target `optim_bpk`).
fn check_optim_file<M: burn::module::Module>(path: &Path, model: &M) -> Result<(), String> {
    let mut shapes = ParamShapes(Default::default());
    model.visit(&mut shapes);
    let reader = burn_pack::Reader::from_file(path).map_err(|e| e.to_string())?;
    let name = |n: &str| tiger_core::data::error::clip(n);
    let param_of = |key: &str| -> Result<&Vec<usize>, String> {
        key.split('.')
            .next()
            .and_then(|id| id.parse::<u64>().ok())
            .and_then(|id| shapes.0.get(&id))
            .ok_or_else(|| {
                format!(
                    "state '{}' belongs to no parameter of this model (the weights and the \
                     optimiser state come from different runs?)",
                    name(key)
                )
            })
    };
    let scalars = reader.scalars().clone();
    let tensors = reader.into_tensors().map_err(|e| e.to_string())?;
    if let Some(t) = tensors.iter().find(|t| t.param_id.is_none()) {
        return Err(format!(
            "state tensor '{}' names no parameter (not an optimiser state of this program?)",
            name(&t.name)
        ));
    }
    for (key, value) in &scalars {
        if key.ends_with(".__rank") {
            let dims = param_of(key)?;
            if usize::try_from(*value).ok() != Some(dims.len()) {
                return Err(format!(
                    "state '{}' records rank {value:?}, its parameter has rank {}",
                    name(key),
                    dims.len()
                ));
            }
        }
    }
    for t in &tensors {
        let dims = param_of(&t.name)?;
        let named = t
            .name
            .split('.')
            .next()
            .and_then(|id| id.parse::<u64>().ok());
        if named != t.param_id {
            return Err(format!(
                "state tensor '{}' carries the id of another parameter",
                name(&t.name)
            ));
        }
        if t.dtype != burn_pack::DType::F32 {
            return Err(format!(
                "state tensor '{}' is {:?}, not f32",
                name(&t.name),
                t.dtype
            ));
        }
        if !state_shape_fits(dims, t.shape.as_slice()) {
            return Err(format!(
                "state tensor '{}' has shape {:?}, its parameter {:?}",
                name(&t.name),
                t.shape.as_slice(),
                dims
            ));
        }
    }
    Ok(())
}

/// Whether an optimiser state of shape `state` fits a parameter of shape `param`: the same shape
/// (AdamW's moments, Adafactor's for a vector), or, for a matrix or higher, the shape with its last
/// or second-to-last dimension reduced to 1 (Adafactor's factored row and column moments).
fn state_shape_fits(param: &[usize], state: &[usize]) -> bool {
    if param == state {
        return true;
    }
    let n = param.len();
    if n < 2 || state.len() != n {
        return false;
    }
    let reduced = |axis: usize| (0..n).all(|i| state[i] == if i == axis { 1 } else { param[i] });
    reduced(n - 1) || reduced(n - 2)
}

/// Loads the `best` (else `last`) weights of a run into `model`, cast to the model's precision (a
/// packed run keeps its best weights in half precision).
pub fn load_weights<M: burn::module::Module>(run: &Path, model: M) -> Result<M, CheckpointError> {
    let dir = find_dir(run, "best")
        .or_else(|| find_dir(run, "last"))
        .ok_or_else(|| io(run, "no checkpoint (best/ or last/) in the run folder"))?;
    let mp = dir.join("model.bpk");
    let record = burn::store::ModuleRecord::load(&mp).map_err(|e| io(&mp, e))?;
    model
        .try_load_record(record.cast_to_module_dtype())
        .map_err(|e| io(&mp, e))
}

/// Writes `model`'s weights to `path` in half precision (f16), for runs packed to share.
pub fn save_half<M: burn::module::Module>(model: &M, path: &Path) -> Result<(), String> {
    use burn::store::{BurnpackStore, FloatCastAdapter, ModuleSnapshot};
    let mut store = BurnpackStore::from_file(path)
        .overwrite(true)
        .with_to_adapter(FloatCastAdapter::to(burn::tensor::DType::F16));
    model.save_into(&mut store).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimiser_states_fit_their_parameter_whole_or_factored() {
        assert!(state_shape_fits(&[32, 13], &[32, 13]));
        assert!(state_shape_fits(&[32, 13], &[32, 1]));
        assert!(state_shape_fits(&[32, 13], &[1, 13]));
        assert!(state_shape_fits(&[7], &[7]));
        assert!(state_shape_fits(&[2, 32, 13], &[2, 1, 13]));
        assert!(!state_shape_fits(&[32, 13], &[1, 1]));
        assert!(!state_shape_fits(&[32, 13], &[13, 1]));
        assert!(!state_shape_fits(&[32, 13], &[32]));
        assert!(!state_shape_fits(&[7], &[1]));
        assert!(!state_shape_fits(&[2, 32, 13], &[1, 32, 13]));
    }

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

    /// Whether `dir` holds a whole checkpoint version, and which.
    fn version(dir: &Path) -> Option<String> {
        std::fs::read_to_string(dir.join("v")).ok()
    }

    #[test]
    fn a_kill_at_any_step_of_the_swap_leaves_a_whole_checkpoint() {
        let root = std::env::temp_dir().join(format!("ckpt-kill-{}", std::process::id()));
        // What earlier saves and kills may have left: nothing, NAME, NAME.old alone (killed
        // between the two renames), or both (killed before the last delete).
        let starts: [(&str, bool, bool); 4] = [
            ("none", false, false),
            ("target", true, false),
            ("old only", false, true),
            ("both", true, true),
        ];
        for (what, target, old) in starts {
            let plan = swap_plan(target);
            for killed_after in 0..=plan.len() {
                let run = root.join(format!("{}-{killed_after}", what.replace(' ', "-")));
                let _ = std::fs::remove_dir_all(&run);
                let f = Folders::of(&run, "last");
                for (exists, dir, v) in [(target, &f.target, "prev"), (old, &f.old, "older")] {
                    if exists {
                        std::fs::create_dir_all(dir).unwrap();
                        std::fs::write(dir.join("v"), v).unwrap();
                    }
                }
                std::fs::create_dir_all(&f.tmp).unwrap();
                std::fs::write(f.tmp.join("v"), "new").unwrap();
                for &step in &plan[..killed_after] {
                    f.apply(step).unwrap();
                }
                let found = find_dir(&run, "last").and_then(|d| version(&d));
                let context = format!("start {what}, killed after {killed_after} steps");
                if killed_after == plan.len() {
                    assert_eq!(found.as_deref(), Some("new"), "{context}");
                    assert!(!f.old.exists() && !f.tmp.exists(), "{context}");
                } else if target || old {
                    assert!(found.is_some(), "no checkpoint left: {context}");
                    // Never older than what `find_dir` found before the save began.
                    let before = if target { "prev" } else { "older" };
                    let v = found.unwrap_or_default();
                    assert!(v == before || v == "new", "{v}: {context}");
                }
            }
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
