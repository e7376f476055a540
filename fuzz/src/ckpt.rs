//! Shared pieces of the checkpoint targets: the scratch run folder, a valid tiny checkpoint to
//! start from, and the seed files `scripts/fuzz.sh` puts in the corpora.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;

use tiger_models::tiger::{Tiger, TigerConfig};

use crate::seeds::TINY_VOCAB;

/// A 1 + 1 layer model of width 16 (what the checkpoint targets load into).
pub fn tiny(device: &Device) -> Tiger {
    TigerConfig::new(TINY_VOCAB)
        .with_d_model(16)
        .with_heads(2)
        .with_d_head(8)
        .with_d_ff(32)
        .with_encoder_layers(1)
        .with_decoder_layers(1)
        .with_dropout(0.0)
        .init(device)
}

/// One teacher-forced forward pass on a fixed batch (`[2, 4]` source, `[2, 3]` target): whatever
/// weights were loaded must produce `[2, 3, TINY_VOCAB]` finite-or-not logits without panicking.
pub fn forward_once(model: &Tiger, device: &Device) -> Tensor<3> {
    let src = Tensor::<2, Int>::from_data([[3, 4, 11, 19], [5, 12, 0, 0]], device);
    let mask = Tensor::<2, Int>::from_data([[1, 1, 1, 1], [1, 1, 0, 0]], device);
    let tgt = Tensor::<2, Int>::from_data([[1, 6, 13], [1, 7, 14]], device);
    model.forward(src, mask, tgt)
}

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
pub fn train_step(model: Tiger, optim: &mut ModuleOptimizer, device: &Device) -> Tiger {
    let loss = forward_once(&model, device).mean();
    let grads = GradientsParams::from_grads(loss.backward(), &model);
    optim.step(1e-3, model, grads)
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
