//! Experiment options (serde + CLI flags). Defaults follow the TIGER paper where it gives one.

use serde::{Deserialize, Serialize};

use crate::device_choice::DeviceChoice;

/// Optimiser for RQ-VAE training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerChoice {
    /// Adam (default): stable with standardised inputs.
    #[default]
    Adam,
    /// Adagrad, as in the paper (lr 0.4); known to collapse codebooks on unit-norm inputs.
    Adagrad,
}

/// How `quantize` makes the codes of the semantic IDs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default, Hash,
)]
#[serde(rename_all = "kebab-case")]
pub enum IdScheme {
    /// The paper's RQ-VAE: an encoder trained with the straight-through gradient; each level takes
    /// the nearest codeword of what the levels before left.
    #[default]
    Rqvae,
    /// The RQ-VAE trained with the rotation trick: the gradient reaches the encoder through the
    /// rotation and scaling that carry each residual onto its codeword, not copied past it.
    RqvaeRotation,
    /// Residual k-means on the (standardised) embeddings: k-means per level on what the levels
    /// before left. No encoder is trained.
    ResidualKmeans,
    /// Codes drawn at random in the same shape (the paper's ablation of semantic IDs).
    Random,
}

impl IdScheme {
    /// Every scheme, in the order menus list them.
    pub const ALL: [IdScheme; 4] = [
        IdScheme::Rqvae,
        IdScheme::RqvaeRotation,
        IdScheme::ResidualKmeans,
        IdScheme::Random,
    ];

    /// The flag's value (`rqvae-rotation`).
    pub fn name(self) -> &'static str {
        match self {
            IdScheme::Rqvae => "rqvae",
            IdScheme::RqvaeRotation => "rqvae-rotation",
            IdScheme::ResidualKmeans => "residual-kmeans",
            IdScheme::Random => "random",
        }
    }

    /// Whether an RQ-VAE is trained (with weights to save and curves to show).
    pub fn trains_rqvae(self) -> bool {
        matches!(self, IdScheme::Rqvae | IdScheme::RqvaeRotation)
    }
}

/// Every RQ-VAE option, each a config field and a CLI flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct QuantizeOptions {
    /// How the codes are made: the RQ-VAE, the RQ-VAE with the rotation trick, residual k-means, or
    /// random codes of the same shape.
    #[arg(long, value_enum, default_value_t = IdScheme::Rqvae)]
    #[serde(default)]
    pub scheme: IdScheme,
    /// Assign the last level by Sinkhorn balancing (every code of that level receives about as
    /// many items), which spreads items that would share all their codes.
    #[arg(long)]
    #[serde(default)]
    pub sinkhorn: bool,
    /// Number of codebooks (semantic-ID length before the collision token).
    #[arg(long, default_value_t = 3)]
    pub levels: usize,
    /// Codewords per codebook.
    #[arg(long, default_value_t = 256)]
    pub codebook_size: usize,
    /// Latent (codeword) width.
    #[arg(long, default_value_t = 32)]
    pub latent_dim: usize,
    /// Encoder hidden widths, comma separated (the decoder mirrors them).
    #[arg(long, value_delimiter = ',', default_value = "512,256,128")]
    pub hidden_dims: Vec<usize>,
    /// Commitment weight β.
    #[arg(long, default_value_t = 0.25)]
    pub beta: f64,
    /// Initialise each codebook by k-means (k-means++ seeded) on the first batch's residuals.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub kmeans_init: bool,
    /// Lloyd iterations of the k-means initialisation.
    #[arg(long, default_value_t = 20)]
    pub kmeans_iters: usize,
    /// Re-seed codes unused during the last N steps from current residuals (0 = off).
    #[arg(long, default_value_t = 100)]
    pub dead_code_restart: usize,
    /// Standardise inputs (zero mean, unit variance per dimension) before training.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub standardize: bool,
    /// Optimiser.
    #[arg(long, value_enum, default_value_t = OptimizerChoice::Adam)]
    pub optimizer: OptimizerChoice,
    /// Learning rate (Adam default 1e-3; the paper's Adagrad used 0.4).
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Training steps.
    #[arg(long, default_value_t = 3000)]
    pub steps: usize,
    /// Batch size.
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    /// Random seed (model init, batches, k-means, restarts).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Report statistics every N steps.
    #[arg(long, default_value_t = 100)]
    pub log_every: usize,
}

impl Default for QuantizeOptions {
    fn default() -> Self {
        cli_defaults()
    }
}

/// The defaults of a set of CLI flags, as clap computes them: the flags' `default_value`s are the
/// one source of truth for every options struct that derives `clap::Args`.
pub fn cli_defaults<T: clap::Args + clap::FromArgMatches>() -> T {
    let cmd = T::augment_args(clap::Command::new("defaults"));
    let matches = cmd.get_matches_from(["defaults"]);
    match T::from_arg_matches(&matches) {
        Ok(v) => v,
        // Impossible: every field has a default value, checked by the options' tests.
        Err(e) => panic!("options without a default value: {e}"),
    }
}

/// Largest codebook, batch and level count accepted before anything is allocated.
const MAX_CODEBOOK: usize = 16_384;
const MAX_BATCH: usize = 262_144;
const MAX_LEVELS: usize = 8;

impl QuantizeOptions {
    /// Refuses settings that cannot work or would exhaust memory, with a message naming the option.
    pub fn validate(&self) -> Result<(), String> {
        let check = |ok: bool, msg: &str| if ok { Ok(()) } else { Err(msg.to_string()) };
        check(
            (1..=MAX_LEVELS).contains(&self.levels),
            "--levels must be between 1 and 8",
        )?;
        check(
            (2..=MAX_CODEBOOK).contains(&self.codebook_size),
            "--codebook-size must be between 2 and 16384",
        )?;
        check(
            (1..=4096).contains(&self.latent_dim),
            "--latent-dim must be between 1 and 4096",
        )?;
        check(
            self.hidden_dims.iter().all(|&d| (1..=16_384).contains(&d)),
            "--hidden-dims must each be between 1 and 16384",
        )?;
        check(
            (1..=MAX_BATCH).contains(&self.batch_size),
            "--batch-size must be between 1 and 262144",
        )?;
        check(self.steps >= 1, "--steps must be at least 1")?;
        check(
            self.lr.is_finite() && self.lr > 0.0,
            "--lr must be a positive number",
        )?;
        check(
            self.beta.is_finite() && self.beta >= 0.0,
            "--beta must be a non-negative number",
        )?;
        check(self.log_every >= 1, "--log-every must be at least 1")?;
        check(
            !(self.sinkhorn && self.scheme == IdScheme::Random),
            "--sinkhorn balances codewords, and --scheme random has none",
        )?;
        let widest = self
            .hidden_dims
            .iter()
            .copied()
            .chain([self.latent_dim, self.codebook_size])
            .max()
            .unwrap_or(1);
        check_tensor(
            &format!(
                "--batch-size {} × the widest layer or codebook ({widest})",
                self.batch_size
            ),
            self.batch_size as u64 * widest as u64,
            "lower --batch-size",
        )
    }
}

/// The largest single tensor a training step may need (2 GiB of f32): every wgpu adapter can hold
/// a buffer this big, and on the CPU backend a larger request would abort the process instead of
/// failing with a message.
pub const MAX_TENSOR_BYTES: u64 = 2 << 30;

/// Refuses, before anything is allocated, a step whose tensor `what` has `elements` f32 values
/// above [`MAX_TENSOR_BYTES`], with `advice` on what to lower.
pub fn check_tensor(what: &str, elements: u64, advice: &str) -> Result<(), String> {
    let bytes = elements.saturating_mul(4);
    if bytes <= MAX_TENSOR_BYTES {
        return Ok(());
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    Err(format!(
        "{what} needs a {:.1} GiB tensor in every step, over the {:.0} GiB limit; {advice}",
        gib(bytes),
        gib(MAX_TENSOR_BYTES)
    ))
}
