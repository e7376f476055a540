//! The state an interrupted RQ-VAE training leaves in its run folder (`resume/`) so that `quantize
//! --resume` goes on where it stopped, to the same IDs an uninterrupted run gives: the step reached,
//! the curves so far, what the run was started with, and the trainer's tensors (weights, optimiser
//! state, step count and code usage since the last dead-code restart) as flat f32 arrays.

use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};

use crate::config::QuantizeOptions;
use crate::embeddings::Embeddings;
use crate::embeddings::map_file::embeddings_hash;
use crate::ids::QuantizeStats;

/// The loop's state file (the folder's marker, written last).
const STATE: &str = "state.json";
/// The trainer's tensors.
const TENSORS: &str = "trainer.safetensors";

/// Where the loop stood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResumePoint {
    /// Steps done.
    pub step: usize,
    /// The options the run was started with.
    pub options: QuantizeOptions,
    /// The catalogue's shape and a fingerprint of its values.
    pub rows: usize,
    /// Embedding width.
    pub dim: usize,
    /// [`embeddings_hash`] of the embeddings (the hash that also names their t-SNE map).
    pub fingerprint: String,
    /// Statistics at every log interval so far.
    pub history: Vec<QuantizeStats>,
}

/// The trainer's state, flat.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainerState {
    /// Every float parameter, flat, in the module's visiting order.
    pub params: Vec<Vec<f32>>,
    /// The optimiser's first state, like `params`.
    pub m: Vec<Vec<f32>>,
    /// Adam's second moments, like `params`.
    pub v: Vec<Vec<f32>>,
    /// Steps taken.
    pub t: f32,
    /// Code usage since the last dead-code restart, `levels * codebook_size`.
    pub usage: Vec<f32>,
}

impl ResumePoint {
    /// Why this state cannot continue a run of `options` on `emb`, if it cannot: the embeddings
    /// must be the same and every option but the device and the log interval must match.
    pub fn mismatch(&self, options: &QuantizeOptions, emb: &Embeddings) -> Option<String> {
        if self.rows != emb.rows || self.dim != emb.dim || self.fingerprint != embeddings_hash(emb)
        {
            return Some(format!(
                "it was saved for other embeddings ({} × {}, fingerprint {}; these are {} × {})",
                self.rows, self.dim, self.fingerprint, emb.rows, emb.dim
            ));
        }
        let comparable = |o: &QuantizeOptions| {
            let mut o = o.clone();
            o.device = Default::default();
            o.log_every = 0;
            serde_json::to_value(o).unwrap_or_default()
        };
        let (saved, now) = (comparable(&self.options), comparable(options));
        if saved == now {
            return None;
        }
        let differ: Vec<String> = match (saved.as_object(), now.as_object()) {
            (Some(a), Some(b)) => a
                .iter()
                .filter(|(k, v)| b.get(*k) != Some(*v))
                .map(|(k, v)| {
                    let now = b.get(k).map(|x| x.to_string()).unwrap_or_default();
                    format!("{} {v} (now {now})", k.replace('_', "-"))
                })
                .collect(),
            _ => Vec::new(),
        };
        Some(format!(
            "it was saved with other options: {}",
            differ.join(", ")
        ))
    }
}

/// Writes `point` and `state` into `dir` (created if needed): the tensors first, the state file
/// last ([`crate::atomic::Staged`]), so that a folder with a state file always holds both whole.
pub fn write(dir: &Path, point: &ResumePoint, state: &TrainerState) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut named: Vec<(String, &[f32])> = Vec::new();
    for (prefix, list) in [("param", &state.params), ("m", &state.m), ("v", &state.v)] {
        for (i, v) in list.iter().enumerate() {
            named.push((format!("{prefix}.{i}"), v));
        }
    }
    let t = [state.t];
    named.push(("t".into(), &t));
    named.push(("usage".into(), &state.usage));
    let bytes: Vec<Vec<u8>> = named
        .iter()
        .map(|(_, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
        .collect();
    let views = named
        .iter()
        .zip(&bytes)
        .map(|((name, v), b)| {
            TensorView::new(Dtype::F32, vec![v.len()], b)
                .map(|view| (name.clone(), view))
                .map_err(std::io::Error::other)
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let tensors = safetensors::serialize(views, None).map_err(std::io::Error::other)?;
    let text = serde_json::to_string(point).map_err(std::io::Error::other)?;
    let mut staged = crate::atomic::Staged::new(dir);
    staged.write(TENSORS, &tensors)?;
    staged.commit(STATE, text.as_bytes())
}

/// Whether `dir` holds a saved state.
pub fn exists(dir: &Path) -> bool {
    dir.join(STATE).is_file()
}

/// Reads what [`write`] wrote; the message names the file and the problem.
pub fn read(dir: &Path) -> Result<(ResumePoint, TrainerState), String> {
    let sp = dir.join(STATE);
    let text = std::fs::read_to_string(&sp).map_err(|e| format!("{}: {e}", sp.display()))?;
    let point: ResumePoint =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", sp.display()))?;
    let tp = dir.join(TENSORS);
    let bytes = std::fs::read(&tp).map_err(|e| format!("{}: {e}", tp.display()))?;
    let bad = |m: String| format!("{}: {m}", tp.display());
    let st = SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let get = |name: &str| -> Result<Vec<f32>, String> {
        let t = st
            .tensor(name)
            .map_err(|_| bad(format!("no tensor '{name}'")))?;
        if t.dtype() != Dtype::F32 || t.shape().len() != 1 {
            return Err(bad(format!("tensor '{name}' is not a flat f32 array")));
        }
        Ok(t.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    };
    let list = |prefix: &str| -> Result<Vec<Vec<f32>>, String> {
        let count = st
            .names()
            .iter()
            .filter(|n| n.strip_prefix(prefix).is_some_and(|r| r.starts_with('.')))
            .count();
        (0..count).map(|i| get(&format!("{prefix}.{i}"))).collect()
    };
    let t = get("t")?;
    let state = TrainerState {
        params: list("param")?,
        m: list("m")?,
        v: list("v")?,
        t: t.first()
            .copied()
            .ok_or_else(|| bad("tensor 't' is empty".into()))?,
        usage: get("usage")?,
    };
    Ok((point, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(emb: &Embeddings) -> ResumePoint {
        ResumePoint {
            step: 7,
            options: QuantizeOptions::default(),
            rows: emb.rows,
            dim: emb.dim,
            fingerprint: embeddings_hash(emb),
            history: vec![QuantizeStats::default()],
        }
    }

    #[test]
    fn a_saved_state_reads_back_whole_and_refuses_other_options_or_embeddings() {
        let dir = std::env::temp_dir().join(format!("quantize-resume-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let emb = Embeddings::new(2, 3, vec![0.5, 1.0, -2.0, 3.0, 0.0, 1e-3]).unwrap();
        let state = TrainerState {
            params: vec![vec![1.0, 2.0], vec![3.5]],
            m: vec![vec![0.1, 0.2], vec![0.3]],
            v: vec![vec![0.01, 0.02], vec![0.03]],
            t: 7.0,
            usage: vec![4.0, 0.0, 2.0],
        };
        assert!(!exists(&dir));
        write(&dir, &point(&emb), &state).unwrap();
        assert!(exists(&dir));
        let (p, s) = read(&dir).unwrap();
        assert_eq!(p, point(&emb));
        assert_eq!(s, state);

        let mut opts = QuantizeOptions::default();
        assert_eq!(p.mismatch(&opts, &emb), None);
        opts.log_every += 1;
        opts.device = crate::device_choice::DeviceChoice::Cpu;
        assert_eq!(
            p.mismatch(&opts, &emb),
            None,
            "device and log interval may change"
        );
        opts.codebook_size += 1;
        let why = p.mismatch(&opts, &emb).unwrap();
        assert!(why.contains("codebook-size"), "{why}");
        let mut other = emb.clone();
        other.data[4] = 0.25;
        let why = p.mismatch(&QuantizeOptions::default(), &other).unwrap();
        assert!(why.contains("other embeddings"), "{why}");

        // A damaged tensor file is named.
        std::fs::write(dir.join(TENSORS), b"garbage").unwrap();
        let err = read(&dir).unwrap_err();
        assert!(err.contains(TENSORS), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
