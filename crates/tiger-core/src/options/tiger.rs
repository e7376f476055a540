//! Options of the generative recommender's training (serde + CLI flags). Defaults follow TIGER
//! where the paper gives one; departures are documented on the field.

use serde::{Deserialize, Serialize};

use crate::device_choice::DeviceChoice;

/// The recommender's optimiser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TigerOptimizer {
    /// AdamW with decoupled weight decay (fused on the GPU).
    #[default]
    Adamw,
    /// Adafactor (Shazeer and Stern, 2018), as the paper trained TIGER.
    Adafactor,
}

/// Every TIGER option, each a config field and a CLI flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct TigerOptions {
    /// Encoder layers.
    #[arg(long, default_value_t = 4)]
    pub encoder_layers: usize,
    /// Decoder layers.
    #[arg(long, default_value_t = 4)]
    pub decoder_layers: usize,
    /// Model width.
    #[arg(long, default_value_t = 128)]
    pub d_model: usize,
    /// Attention heads.
    #[arg(long, default_value_t = 6)]
    pub heads: usize,
    /// Width of each head.
    #[arg(long, default_value_t = 64)]
    pub d_head: usize,
    /// Feed-forward width.
    #[arg(long, default_value_t = 1024)]
    pub d_ff: usize,
    /// Dropout.
    #[arg(long, default_value_t = 0.1)]
    pub dropout: f64,
    /// Label smoothing of the training loss (0 = none): this share of each target's probability
    /// is spread over the whole vocabulary.
    #[arg(long, default_value_t = 0.0)]
    #[serde(default)]
    pub label_smoothing: f64,
    /// Items of history the model reads (the most recent).
    #[arg(long, default_value_t = 20)]
    pub max_history: usize,
    /// Hashed user-token buckets (0 = no user token).
    #[arg(long, default_value_t = 2000)]
    pub user_buckets: u32,
    /// Training steps.
    #[arg(long, default_value_t = 4000)]
    pub steps: usize,
    /// Batch size.
    #[arg(long, default_value_t = 256)]
    pub batch_size: usize,
    /// Peak learning rate. The default suits AdamW; the paper's 0.01 was with Adafactor.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Optimiser: AdamW, or the paper's Adafactor (factored second moments, updates scaled by
    /// each weight's RMS; the learning rate still follows --lr, --warmup-steps, --decay-start).
    #[arg(long, value_enum, default_value_t = TigerOptimizer::Adamw)]
    #[serde(default)]
    pub optimizer: TigerOptimizer,
    /// Linear warm-up steps.
    #[arg(long, default_value_t = 500)]
    pub warmup_steps: usize,
    /// Step after which the rate decays as 1/sqrt(step) (the paper: 10k).
    #[arg(long, default_value_t = 10_000)]
    pub decay_start: usize,
    /// AdamW weight decay.
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Validate (Recall/NDCG with beam search) every N steps; the best checkpoint is kept.
    #[arg(long, default_value_t = 500)]
    pub eval_every: usize,
    /// Beam width for validation.
    #[arg(long, default_value_t = 20)]
    pub beam: usize,
    /// k of the k-core filter.
    #[arg(long, default_value_t = 5)]
    pub k_core: usize,
    /// Random seed (init, data order, dropout).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Report the training loss every N steps.
    #[arg(long, default_value_t = 50)]
    pub log_every: usize,
    /// Ablation: train on random IDs of the same shape, the semantic IDs shuffled among the items
    /// with --seed (same IDs and trie, no meaning). The run keeps the shuffled IDs.
    #[arg(long)]
    #[serde(default)]
    pub random_ids: bool,
    /// When the run ends before its last step.
    #[command(flatten)]
    #[serde(flatten)]
    pub stop: super::stop::StopOptions,
}

impl Default for TigerOptions {
    fn default() -> Self {
        crate::config::cli_defaults()
    }
}

impl TigerOptions {
    /// Refuses settings that cannot work or would exhaust memory, naming the option.
    pub fn validate(&self) -> Result<(), String> {
        let check = |ok: bool, msg: &str| if ok { Ok(()) } else { Err(msg.to_string()) };
        check(
            (1..=24).contains(&self.encoder_layers),
            "--encoder-layers must be 1..24",
        )?;
        check(
            (1..=24).contains(&self.decoder_layers),
            "--decoder-layers must be 1..24",
        )?;
        check(
            (1..=4096).contains(&self.d_model),
            "--d-model must be 1..4096",
        )?;
        check((1..=64).contains(&self.heads), "--heads must be 1..64")?;
        check(
            (1..=1024).contains(&self.d_head),
            "--d-head must be 1..1024",
        )?;
        check((1..=65_536).contains(&self.d_ff), "--d-ff must be 1..65536")?;
        check(
            (0.0..1.0).contains(&self.dropout),
            "--dropout must be in [0, 1)",
        )?;
        check(
            (0.0..1.0).contains(&self.label_smoothing),
            "--label-smoothing must be in [0, 1)",
        )?;
        check(
            (1..=200).contains(&self.max_history),
            "--max-history must be 1..200",
        )?;
        check(
            self.user_buckets <= 1_000_000,
            "--user-buckets must be at most 1000000",
        )?;
        check(self.steps >= 1, "--steps must be at least 1")?;
        check(
            (1..=16_384).contains(&self.batch_size),
            "--batch-size must be 1..16384",
        )?;
        check(
            self.lr.is_finite() && self.lr > 0.0,
            "--lr must be positive",
        )?;
        check((1..=1000).contains(&self.beam), "--beam must be 1..1000")?;
        check(
            self.eval_every >= 1 && self.log_every >= 1,
            "--eval-every and --log-every must be at least 1",
        )?;
        check(self.k_core >= 1, "--k-core must be at least 1")?;
        self.stop.validate()
    }

    /// Learning rate at 1-based `step`: linear warm-up, constant, then 1/sqrt decay.
    pub fn lr_at(&self, step: usize) -> f64 {
        let warm = if self.warmup_steps > 0 {
            (step as f64 / self.warmup_steps as f64).min(1.0)
        } else {
            1.0
        };
        let decay = if step > self.decay_start && self.decay_start > 0 {
            (self.decay_start as f64 / step as f64).sqrt()
        } else {
            1.0
        };
        self.lr * warm * decay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_papers_shapes_and_schedule_is_monotone_pieces() {
        let o = TigerOptions::default();
        assert_eq!(
            (
                o.encoder_layers,
                o.decoder_layers,
                o.d_model,
                o.heads,
                o.d_head,
                o.d_ff
            ),
            (4, 4, 128, 6, 64, 1024)
        );
        assert_eq!(
            (o.max_history, o.user_buckets, o.batch_size),
            (20, 2000, 256)
        );
        assert!((o.lr_at(250) - 0.5e-3).abs() < 1e-12);
        assert!((o.lr_at(5000) - 1e-3).abs() < 1e-12);
        assert!((o.lr_at(40_000) - 0.5e-3).abs() < 1e-12);
    }
}
