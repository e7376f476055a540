//! Fuzz target: a run's `config.json` and `last/state.json` (split at the first 0xFF byte), parsed
//! and checked as the app does before building a model (as a TIGER and as a SASRec run), then the
//! values the app derives from them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiger_core::run::tiger_config::{TrainState, parse_tiger_config};

fuzz_target!(
    init: {
        // Seed mode: write a valid config.json + state.json pair for the corpus and stop.
        if let Some(dir) = std::env::var_os("TIGER_FUZZ_SEED") {
            let dir = std::path::PathBuf::from(dir);
            let tiger = std::fs::write(dir.join("config_seed"), tiger_explorer_fuzz::seeds::config_seed());
            let sasrec = std::fs::write(
                dir.join("config_seed_sasrec"),
                tiger_explorer_fuzz::seeds::sasrec_config_seed(),
            );
            std::process::exit(i32::from(tiger.is_err() || sasrec.is_err()));
        }
    },
    |data: &[u8]| {
    let (config, state) = match data.iter().position(|&b| b == 0xFF) {
        Some(p) => (&data[..p], &data[p + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(text) = std::str::from_utf8(config)
        && let Ok(cfg) = parse_tiger_config(text)
    {
        let v = &cfg.vocab;
        let _ = (v.size(), v.id_len(), v.user_token("user"));
        for pos in 0..=v.levels {
            let _ = (v.offset(pos), v.width(pos), v.token(pos, v.width(pos) - 1));
        }
        let o = &cfg.options;
        for step in [1, o.warmup_steps, o.decay_start.saturating_add(1), o.steps] {
            let _ = o.lr_at(step);
        }
    }
    if let Ok(text) = std::str::from_utf8(config) {
        let _ = tiger_core::run::sasrec_config::parse_sasrec_config(text);
    }
    if let Ok(text) = std::str::from_utf8(state) {
        let _ = serde_json::from_str::<TrainState>(text);
    }
    }
);
