//! What a TIGER run folder records besides weights: `config.json` (options, vocabulary, dataset)
//! and the resumable loop state in `last/state.json`. Burn-free, so the fuzz targets compile it.

use serde::{Deserialize, Serialize};

use crate::eval::Metrics;
use crate::ids::Vocab;
use crate::options::tiger::TigerOptions;

/// What a run folder's `config.json` holds for a TIGER model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TigerRunConfig {
    /// Kind (always TIGER), layout version, date and dataset.
    #[serde(flatten)]
    pub header: crate::run::RunHeader,
    /// The semantic IDs file the run was trained on, as given (a copy is in the run folder).
    #[serde(default)]
    pub ids_source: Option<std::path::PathBuf>,
    /// Training options.
    pub options: TigerOptions,
    /// Vocabulary layout.
    pub vocab: Vocab,
    /// Vocabulary size the model was built for.
    pub vocab_size: usize,
}

/// Training state saved with each checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TrainState {
    /// Steps completed.
    pub step: usize,
    /// Best validation NDCG@10 so far and its step.
    pub best: Option<(usize, f64)>,
    /// `(step, loss)` reports.
    pub losses: Vec<(usize, f64)>,
    /// `(step, metrics)` validations.
    pub valid: Vec<(usize, Metrics)>,
    /// Seconds spent training (excluding validation).
    pub train_seconds: f64,
    /// Training seconds (validation excluded) at each validation of `valid`; empty in runs
    /// recorded before it was kept.
    #[serde(default)]
    pub valid_seconds: Vec<f64>,
    /// Why the run ended before its last step (`--patience`, `--max-minutes`), if it did.
    #[serde(default)]
    pub stopped_early: Option<String>,
}

/// Largest code level count a run may declare.
const MAX_LEVELS: usize = 16;
/// Largest codebook a run may declare (the quantizer allows 16,384).
const MAX_CODEBOOK: u32 = 65_536;
/// Largest collision-token count a run may declare.
const MAX_COLLISIONS: u32 = 1 << 20;

/// Parses and checks the text of a TIGER `config.json` (the caller adds the file's name to errors):
/// JSON shape, kind, option ranges, and a vocabulary that is small enough and agrees with
/// `vocab_size`, so a model built from it matches the weights saved beside it.
pub fn parse_tiger_config(text: &str) -> Result<TigerRunConfig, String> {
    let header = crate::run::layout::parse_header(text)?;
    if header.kind != crate::run::RunKind::Tiger {
        return Err(format!("a {} run, not a TIGER run", header.kind.label()));
    }
    let cfg: TigerRunConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
    cfg.options.validate()?;
    let v = &cfg.vocab;
    if !(1..=MAX_LEVELS).contains(&v.levels) {
        return Err(format!(
            "vocab.levels must be 1..{MAX_LEVELS}, found {}",
            v.levels
        ));
    }
    if !(1..=MAX_CODEBOOK).contains(&v.codebook_size) {
        return Err(format!(
            "vocab.codebook_size must be 1..{MAX_CODEBOOK}, found {}",
            v.codebook_size
        ));
    }
    if !(1..=MAX_COLLISIONS).contains(&v.collision_tokens) {
        return Err(format!(
            "vocab.collision_tokens must be 1..{MAX_COLLISIONS}, found {}",
            v.collision_tokens
        ));
    }
    if v.user_buckets > 1_000_000 {
        return Err(format!(
            "vocab.user_buckets must be at most 1000000, found {}",
            v.user_buckets
        ));
    }
    check_token_table(
        cfg.vocab_size,
        cfg.options.d_model,
        "the run folder's config.json is damaged or from another program",
    )?;
    if v.size() != cfg.vocab_size {
        return Err(format!(
            "vocab_size is {} but the vocabulary layout gives {}",
            cfg.vocab_size,
            v.size()
        ));
    }
    Ok(cfg)
}

/// Refuses a model whose token table (`vocab_size × d_model`, embedding and output layer alike)
/// would exceed [`crate::config::MAX_TENSOR_BYTES`], with `advice`.
pub fn check_token_table(vocab_size: usize, d_model: usize, advice: &str) -> Result<(), String> {
    crate::config::check_tensor(
        &format!("vocabulary {vocab_size} × --d-model {d_model} (the token table)"),
        (vocab_size as u64).saturating_mul(d_model as u64),
        advice,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> TigerRunConfig {
        let vocab = Vocab {
            levels: 3,
            codebook_size: 256,
            collision_tokens: 4,
            user_buckets: 0,
        };
        TigerRunConfig {
            header: crate::run::RunHeader {
                kind: crate::run::RunKind::Tiger,
                format: crate::run::layout::FORMAT,
                created: 0,
                data: "sample".into(),
                dataset: None,
            },
            ids_source: None,
            options: TigerOptions::default(),
            vocab_size: vocab.size(),
            vocab,
        }
    }

    #[test]
    fn a_written_config_parses_back() {
        let text = serde_json::to_string(&good()).unwrap();
        let cfg = parse_tiger_config(&text).unwrap();
        assert_eq!(cfg.vocab, good().vocab);
    }

    #[test]
    fn hostile_vocabularies_are_refused_before_any_model_is_built() {
        let mut c = good();
        c.vocab.levels = 1_000_000_000;
        c.vocab.codebook_size = 1_000_000_000;
        let e = parse_tiger_config(&serde_json::to_string(&c).unwrap()).unwrap_err();
        assert!(e.contains("vocab.levels"), "{e}");
        let mut c = good();
        c.vocab_size += 1;
        let e = parse_tiger_config(&serde_json::to_string(&c).unwrap()).unwrap_err();
        assert!(e.contains("vocab_size is"), "{e}");
        let mut v = serde_json::to_value(good()).unwrap();
        v["kind"] = serde_json::Value::String("x".repeat(10_000));
        let e = parse_tiger_config(&v.to_string()).unwrap_err();
        assert!(e.len() < 300, "{e}");
        assert!(parse_tiger_config("{").is_err());
    }
}
