//! Valid `config.json` / `state.json` pairs that `scripts/fuzz.sh` puts in the run-config corpus,
//! so mutations start from files that parse.

use tiger_core::ids::Vocab;
use tiger_core::options::tiger::TigerOptions;
use tiger_core::run::sasrec_config::SasRecRunConfig;
use tiger_core::run::tiger_config::{TigerRunConfig, TrainState};
use tiger_core::run::{RunHeader, RunKind};

/// Vocabulary of the tiny model: 3 specials + 2 levels × 8 codes + 2 collision tokens.
pub const TINY_VOCAB: usize = 21;

/// The header of a run of `kind` on the sample, in the current layout.
fn header(kind: RunKind) -> RunHeader {
    RunHeader {
        kind,
        format: tiger_core::run::layout::FORMAT,
        created: 0,
        data: "sample_data/ml-latest-small".into(),
        dataset: None,
    }
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
        header: header(RunKind::Tiger),
        ids_source: None,
        options: TigerOptions::default(),
        vocab_size: vocab.size(),
        vocab,
    };
    let state = TrainState {
        step: 3,
        best: Some((2, 0.25)),
        losses: vec![(1, 3.0), (2, 2.5)],
        valid: vec![],
        train_seconds: 0.5,
        ..Default::default()
    };
    let mut out = serde_json::to_vec(&cfg).unwrap_or_default();
    out.push(0xFF);
    out.extend(serde_json::to_vec(&state).unwrap_or_default());
    out
}

/// A valid SASRec `config.json`, then 0xFF, then an empty state.
pub fn sasrec_config_seed() -> Vec<u8> {
    let cfg = SasRecRunConfig {
        header: header(RunKind::Sasrec),
        options: Default::default(),
        items: 9125,
    };
    let mut out = serde_json::to_vec(&cfg).unwrap_or_default();
    out.push(0xFF);
    out
}
