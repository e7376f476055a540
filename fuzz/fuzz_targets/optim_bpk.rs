//! Fuzz target: random bytes as a run's `last/optim.bpk` next to a valid `model.bpk` and
//! `state.json`, resumed the way `train --resume` does; whatever loads must then take a step.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::prelude::*;
use libfuzzer_sys::fuzz_target;
use tiger_core::run::tiger_config::TrainState;
use tiger_explorer_fuzz::ckpt;
use tiger_models::train::checkpoint;

/// The valid model.bpk every input is paired with.
static MODEL: OnceLock<Vec<u8>> = OnceLock::new();

fuzz_target!(
    init: {
        // Seed mode: write a valid model.bpk + optim.bpk pair for the corpus and stop.
        if let Some(dir) = std::env::var_os("TIGER_FUZZ_SEED") {
            let dir = PathBuf::from(dir);
            let _ = std::fs::create_dir_all(&dir);
            if let Err(e) = ckpt::write_checkpoint_seed(&dir) {
                eprintln!("seed: {e}");
                std::process::exit(1);
            }
            std::process::exit(0);
        }
        // Fuzz mode: pair every input with the model.bpk the seed optim.bpk was saved with (the
        // optimiser's states are keyed by the model's parameter ids).
        let model = std::env::var_os("TIGER_FUZZ_MODEL")
            .and_then(|p| std::fs::read(p).ok())
            .unwrap_or_default();
        let _ = MODEL.set(model);
    },
    |data: &[u8]| {
        let run = ckpt::scratch_run();
        let _ = std::fs::write(run.join("last/model.bpk"), MODEL.get().map(|m| m.as_slice()).unwrap_or(&[]));
        let _ = std::fs::write(run.join("last/optim.bpk"), data);
        let _ = std::fs::write(run.join("last/state.json"), br#"{"step":3,"best":null,"losses":[],"valid":[],"train_seconds":0.0}"#);
        let device = Device::flex().autodiff();
        if let Ok(Some((model, mut optim, _))) =
            checkpoint::load_last::<_, TrainState>(&run, ckpt::tiny(&device), ckpt::new_optim())
        {
            let model = ckpt::train_step(model, &mut optim, &device);
            let _ = ckpt::forward_once(&model, &device).into_data();
        }
    }
);
