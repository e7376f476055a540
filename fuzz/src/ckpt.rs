//! Shared pieces of the checkpoint targets: the scratch run folder, a valid tiny checkpoint to start
//! from, and the seed files `scripts/fuzz.sh` puts in the corpora.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use crate::seq2seq::{TINY_VOCAB, Vocab, forward_once, tiny};
use crate::train::options::Seq2SeqOptions;
use crate::train::run_config::{TigerRunConfig, TrainState};

/// A run folder unique to this process, with an empty `last/` inside.
pub fn scratch_run() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tiger-fuzz-run-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(dir.join("last"));
    dir
}

/// The optimiser the app trains TIGER with (AdamW, gradient-norm clipping at 1).
pub fn new_optim() -> ModuleOptimizer {
    AdamWConfig::new()
        .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(1.0)))
        .init()
}

/// One optimiser step on the fixed batch of [`forward_once`] (what the first resumed step does).
pub fn train_step(model: crate::seq2seq::Seq2Seq, optim: &mut ModuleOptimizer, device: &Device) -> crate::seq2seq::Seq2Seq {
    let loss = forward_once(&model, device).mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    optim.step(1e-3, model, grads)
}

/// A valid `config.json` for the tiny model, then 0xFF, then a valid `state.json`.
pub fn config_seed() -> Vec<u8> {
    let vocab = Vocab {
        levels: 2,
        codebook_size: 8,
        collision_tokens: 2,
        user_buckets: 0,
    };
    debug_assert_eq!(vocab.size(), TINY_VOCAB);
    let cfg = TigerRunConfig {
        kind: "tiger".into(),
        options: Seq2SeqOptions::default(),
        vocab_size: vocab.size(),
        vocab,
        data: "sample_data/ml-latest-small".into(),
    };
    let state = TrainState {
        step: 3,
        best: Some((2, 0.25)),
        losses: vec![(1, 3.0), (2, 2.5)],
        valid: vec![],
        train_seconds: 0.5,
    };
    let mut out = serde_json::to_vec(&cfg).unwrap_or_default();
    out.push(0xFF);
    out.extend(serde_json::to_vec(&state).unwrap_or_default());
    out
}

/// A valid SASRec `config.json`, then 0xFF, then an empty state.
pub fn sasrec_config_seed() -> Vec<u8> {
    let cfg = crate::baseline::sasrec_options::SasRecRunConfig {
        kind: "sasrec".into(),
        options: Default::default(),
        items: 9125,
        data: "sample_data/ml-latest-small".into(),
    };
    let mut out = serde_json::to_vec(&cfg).unwrap_or_default();
    out.push(0xFF);
    out
}

/// Writes a valid `model.bpk` and, after one step, `optim.bpk` of the tiny model into `dir`.
pub fn write_checkpoint_seed(dir: &Path) -> Result<(), String> {
    let device = Device::flex().autodiff();
    let model = tiny(&device);
    let mut optim = new_optim();
    let model = train_step(model, &mut optim, &device);
    model
        .save_file(dir.join("model.bpk"))
        .map_err(|e| e.to_string())?;
    optim.save(dir.join("optim.bpk")).map_err(|e| e.to_string())
}
