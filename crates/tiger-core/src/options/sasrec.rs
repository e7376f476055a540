//! SASRec's options and what its run folder's `config.json` holds (burn-free, so the fuzz targets
//! compile it).

use serde::{Deserialize, Serialize};

use crate::device_choice::DeviceChoice;

/// SASRec options, each a config field and a CLI flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct SasRecOptions {
    /// Hidden width.
    #[arg(long, default_value_t = 64)]
    pub d_model: usize,
    /// Self-attention blocks.
    #[arg(long, default_value_t = 2)]
    pub blocks: usize,
    /// Attention heads.
    #[arg(long, default_value_t = 1)]
    pub heads: usize,
    /// Longest history read (most recent items).
    #[arg(long, default_value_t = 50)]
    pub max_len: usize,
    /// Dropout.
    #[arg(long, default_value_t = 0.2)]
    pub dropout: f64,
    /// Training steps.
    #[arg(long, default_value_t = 3000)]
    pub steps: usize,
    /// Users per batch.
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    /// Learning rate (AdamW).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Validate every N steps; the best checkpoint is kept.
    #[arg(long, default_value_t = 250)]
    pub eval_every: usize,
    /// k of the k-core filter.
    #[arg(long, default_value_t = 5)]
    pub k_core: usize,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Report the loss every N steps.
    #[arg(long, default_value_t = 50)]
    pub log_every: usize,
    /// When the run ends before its last step.
    #[command(flatten)]
    #[serde(flatten)]
    pub stop: super::stop::StopOptions,
}

impl Default for SasRecOptions {
    fn default() -> Self {
        crate::config::cli_defaults()
    }
}

impl SasRecOptions {
    /// Refuses unusable settings, naming the option.
    pub fn validate(&self) -> Result<(), String> {
        let check = |ok: bool, msg: &str| if ok { Ok(()) } else { Err(msg.to_string()) };
        check(
            (1..=4096).contains(&self.d_model),
            "--d-model must be 1..4096",
        )?;
        check(
            self.heads >= 1 && self.d_model.is_multiple_of(self.heads),
            "--heads must divide --d-model",
        )?;
        check((1..=24).contains(&self.blocks), "--blocks must be 1..24")?;
        check(
            (2..=1000).contains(&self.max_len),
            "--max-len must be 2..1000",
        )?;
        check(
            (0.0..1.0).contains(&self.dropout),
            "--dropout must be in [0, 1)",
        )?;
        check(
            self.steps >= 1 && (1..=16_384).contains(&self.batch_size),
            "--steps ≥ 1 and --batch-size 1..16384",
        )?;
        check(
            self.lr.is_finite() && self.lr > 0.0,
            "--lr must be positive",
        )?;
        check(
            self.eval_every >= 1 && self.log_every >= 1,
            "--eval-every and --log-every must be at least 1",
        )?;
        self.stop.validate()
    }
}
