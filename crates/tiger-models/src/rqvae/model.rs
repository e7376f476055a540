//! The RQ-VAE: an MLP encoder, residual quantization over L codebooks, and a mirrored MLP decoder.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::{Distribution, activation};

use super::quantizer;

/// Shape of an RQ-VAE. Defaults are TIGER's: D→512→256→128→32, 3 codebooks × 256 × 32, β = 0.25.
#[derive(Config, Debug)]
pub struct RqVaeConfig {
    /// Width of the input embeddings (384 for all-MiniLM-L6-v2).
    pub input_dim: usize,
    /// Hidden widths of the encoder (the decoder mirrors them).
    #[config(default = "vec![512, 256, 128]")]
    pub hidden_dims: Vec<usize>,
    /// Width of the latent vector and of every codeword.
    #[config(default = 32)]
    pub latent_dim: usize,
    /// Number of codebooks (levels of the semantic ID).
    #[config(default = 3)]
    pub levels: usize,
    /// Codewords per codebook.
    #[config(default = 256)]
    pub codebook_size: usize,
    /// Weight β of the commitment term.
    #[config(default = 0.25)]
    pub beta: f64,
}

/// An MLP with ReLU between layers and none after the last.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

/// Encoder, codebooks and decoder.
#[derive(Module, Debug)]
pub struct RqVae {
    encoder: Mlp,
    decoder: Mlp,
    /// One `[codebook_size, latent_dim]` codebook per level.
    pub codebooks: Vec<Param<Tensor<2>>>,
    beta: f64,
}

/// Everything one training forward pass produces.
#[derive(Debug)]
pub struct RqVaeOutput {
    /// Reconstruction, `[batch, input_dim]`.
    pub reconstruction: Tensor<2>,
    /// Chosen codes, `[batch, levels]`.
    pub codes: Tensor<2, Int>,
    /// Mean squared reconstruction error, `[1]`.
    pub recon_loss: Tensor<1>,
    /// Codebook + β·commitment loss per level, each `[1]`.
    pub quant_losses: Vec<Tensor<1>>,
    /// Input residual of each level (detached), each `[batch, latent_dim]`.
    pub residuals: Vec<Tensor<2>>,
}

impl RqVaeConfig {
    /// The shape the options describe, for inputs `input_dim` wide.
    pub fn from_options(opts: &tiger_core::config::QuantizeOptions, input_dim: usize) -> Self {
        Self::new(input_dim)
            .with_hidden_dims(opts.hidden_dims.clone())
            .with_latent_dim(opts.latent_dim)
            .with_levels(opts.levels)
            .with_codebook_size(opts.codebook_size)
            .with_beta(opts.beta)
    }

    /// Builds a model with random weights and N(0, 1) codebooks on `device`.
    pub fn init(&self, device: &Device) -> RqVae {
        let mut dims = vec![self.input_dim];
        dims.extend(&self.hidden_dims);
        dims.push(self.latent_dim);
        let mlp = |dims: &[usize]| Mlp {
            layers: dims
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect(),
        };
        let encoder = mlp(&dims);
        dims.reverse();
        let decoder = mlp(&dims);
        let codebooks = (0..self.levels)
            .map(|_| {
                let t = Tensor::<2>::random(
                    [self.codebook_size, self.latent_dim],
                    Distribution::Normal(0.0, 1.0),
                    device,
                );
                Param::from_tensor(t)
            })
            .collect();
        RqVae {
            encoder,
            decoder,
            codebooks,
            beta: self.beta,
        }
    }
}

impl Mlp {
    /// `[batch, in]` → `[batch, out]`. On the GPU the layers' products go through
    /// `tiger_kernels::gemm` (no autotuned matmul to compile on a cold start).
    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len().saturating_sub(1);
        for (i, layer) in self.layers.iter().enumerate() {
            x = tiger_kernels::linear::forward(layer, x);
            if i < last {
                x = activation::relu(x);
            }
        }
        x
    }
}

impl RqVae {
    /// Latent vectors. `x`: `[batch, input_dim]` → `[batch, latent_dim]`.
    pub fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        self.encoder.forward(x)
    }

    /// Codes only (inference). `x`: `[batch, input_dim]` → `[batch, levels]`.
    pub fn codes(&self, x: Tensor<2>) -> Tensor<2, Int> {
        quantizer::codes(self.encode(x), &self.codebook_values())
    }

    /// The codebooks' current values, each `[codebook_size, latent_dim]`.
    fn codebook_values(&self) -> Vec<Tensor<2>> {
        self.codebooks.iter().map(|c| c.val()).collect()
    }

    /// Training pass with the TIGER loss: reconstruction + Σ_l (‖sg[r_l] − e_l‖² + β‖r_l −
    /// sg[e_l]‖²), straight-through gradient from decoder to encoder. `x`: `[batch, input_dim]`.
    pub fn forward(&self, x: Tensor<2>) -> RqVaeOutput {
        let z = self.encode(x.clone());
        let mut residual = z.clone();
        let mut quantized = z.zeros_like();
        let [batch, _] = z.dims();
        // Codes of all levels first (one fused kernel on the GPU), then the chosen codewords are
        // gathered from the codebook parameters so that the codebook loss reaches them.
        let chosen = quantizer::codes(z.clone().detach(), &self.codebook_values());
        let mut quant_losses = Vec::with_capacity(self.codebooks.len());
        let mut residuals = Vec::with_capacity(self.codebooks.len());
        for (level, cb) in self.codebooks.iter().enumerate() {
            let idx = chosen
                .clone()
                .slice(s![.., level..level + 1])
                .reshape([batch]);
            let e = tiger_kernels::row_lookup::one_hot_rows(cb.val(), idx);
            let codebook_term = (residual.clone().detach() - e.clone()).square().mean();
            let commit_term = (residual.clone() - e.clone().detach()).square().mean();
            quant_losses.push(codebook_term + commit_term.mul_scalar(self.beta));
            residuals.push(residual.clone().detach());
            quantized = quantized + e.clone();
            residual = residual - e.detach();
        }
        // Straight-through: the decoder sees the quantized vector, the gradient flows to z.
        let z_q = z.clone() + (quantized - z).detach();
        let reconstruction = self.decoder.forward(z_q);
        let recon_loss = (reconstruction.clone() - x).square().mean();
        RqVaeOutput {
            reconstruction,
            codes: chosen,
            recon_loss,
            quant_losses,
            residuals,
        }
    }

    /// Number of levels.
    pub fn levels(&self) -> usize {
        self.codebooks.len()
    }
}
