//! Fuzz target: random bytes as a run's `last/model.bpk`, loaded into the tiny TIGER model the way
//! `eval` and `recommend` load weights; whatever loads must then run a forward pass.
#![no_main]

use burn::prelude::*;
use libfuzzer_sys::fuzz_target;
use tiger_explorer_fuzz::ckpt;
use tiger_models::train::checkpoint;

fuzz_target!(
    init: {
        if let Some(dir) = std::env::var_os("TIGER_FUZZ_SEED") {
            let dir = std::path::PathBuf::from(dir);
            let _ = std::fs::create_dir_all(&dir);
            if let Err(e) = ckpt::write_checkpoint_seed(&dir) {
                eprintln!("seed: {e}");
                std::process::exit(1);
            }
            std::process::exit(0);
        }
    },
    |data: &[u8]| {
        let run = ckpt::scratch_run();
        let _ = std::fs::write(run.join("last/model.bpk"), data);
        let device = Device::flex();
        if let Ok(model) = checkpoint::load_weights(&run, ckpt::tiny(&device)) {
            let _ = ckpt::forward_once(&model, &device).into_data();
        }
    }
);
