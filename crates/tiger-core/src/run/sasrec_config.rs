//! What a SASRec run folder records besides weights: `config.json` (options, catalogue size,
//! dataset).

use serde::{Deserialize, Serialize};

use crate::options::sasrec::SasRecOptions;

/// `config.json` of a SASRec run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SasRecRunConfig {
    /// Kind (always SASRec), layout version, date and dataset.
    #[serde(flatten)]
    pub header: crate::run::RunHeader,
    /// Options.
    pub options: SasRecOptions,
    /// Catalogue size.
    pub items: usize,
}

/// Parses and checks the text of a SASRec `config.json`: JSON shape, kind, option ranges, and a
/// catalogue whose item table fits (the caller adds the file's name to errors).
pub fn parse_sasrec_config(text: &str) -> Result<SasRecRunConfig, String> {
    let header = crate::run::layout::parse_header(text)?;
    if header.kind != crate::run::RunKind::Sasrec {
        return Err(format!("a {} run, not a SASRec run", header.kind.label()));
    }
    let cfg: SasRecRunConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
    cfg.options.validate()?;
    if cfg.items == 0 {
        return Err("items must be at least 1".into());
    }
    crate::config::check_tensor(
        &format!(
            "{} items × --d-model {} (the item table)",
            cfg.items, cfg.options.d_model
        ),
        (cfg.items as u64)
            .saturating_add(1)
            .saturating_mul(cfg.options.d_model as u64),
        "the run folder's config.json is damaged or from another program",
    )?;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sasrec_configs_are_checked_before_any_model_is_built() {
        let good = SasRecRunConfig {
            header: crate::run::RunHeader {
                kind: crate::run::RunKind::Sasrec,
                format: crate::run::layout::FORMAT,
                created: 0,
                data: "sample".into(),
                dataset: None,
            },
            options: SasRecOptions::default(),
            items: 9125,
        };
        let text = serde_json::to_string(&good).unwrap();
        assert_eq!(parse_sasrec_config(&text).unwrap().items, 9125);
        let huge = SasRecRunConfig {
            items: usize::MAX,
            ..good.clone()
        };
        let e = parse_sasrec_config(&serde_json::to_string(&huge).unwrap()).unwrap_err();
        assert!(e.contains("the item table"), "{e}");
        let mut tiger = good;
        tiger.header.kind = crate::run::RunKind::Tiger;
        let e = parse_sasrec_config(&serde_json::to_string(&tiger).unwrap()).unwrap_err();
        assert!(e.contains("not a SASRec run"), "{e}");
    }
}
