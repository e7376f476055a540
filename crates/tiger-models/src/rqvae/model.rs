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
    /// Train with the rotation trick instead of the straight-through gradient.
    #[config(default = false)]
    pub rotation: bool,
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
    rotation: bool,
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
            .with_rotation(opts.scheme == tiger_core::config::IdScheme::RqvaeRotation)
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
            rotation: self.rotation,
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

/// The rotation trick (Fifty et al., 2024): `e` (`[batch, dim]`, the chosen codewords) as the
/// value, with the gradient of `λ R r`, where `R` is the rotation that carries the direction of `r`
/// onto the direction of `e` and `λ = ‖e‖ / ‖r‖`, both held constant. Writing `u = r / ‖r‖`,
/// `q = e / ‖e‖` and `w = (u + q) / ‖u + q‖`: `R r = r − 2 w (wᵀ r) + 2 q (uᵀ r)`.
pub fn rotated_onto(r: Tensor<2>, e: Tensor<2>) -> Tensor<2> {
    const TINY: f64 = 1e-12;
    let norm = |t: Tensor<2>| t.square().sum_dim(1).sqrt().clamp_min(TINY);
    let (r_const, e) = (r.clone().detach(), e.detach());
    let (r_norm, e_norm) = (norm(r_const.clone()), norm(e.clone()));
    let u = r_const / r_norm.clone();
    let q = e / e_norm.clone();
    let sum = u.clone() + q.clone();
    let w = sum.clone() / norm(sum);
    let wr = (w.clone() * r.clone()).sum_dim(1);
    let ur = (u * r.clone()).sum_dim(1);
    let turned = r - w * wr.mul_scalar(2.0) + q * ur.mul_scalar(2.0);
    turned * (e_norm / r_norm)
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
    /// sg[e_l]‖²). The decoder's gradient reaches the encoder straight through the quantization
    /// or, with the rotation trick, through each level's rotation of `r_l` onto `e_l`
    /// ([`rotated_onto`]). `x`: `[batch, input_dim]`.
    pub fn forward(&self, x: Tensor<2>) -> RqVaeOutput {
        let z = self.encode(x.clone());
        let mut residual = z.clone();
        let mut quantized = z.zeros_like();
        let [batch, _] = z.dims();
        // Codes of all levels first (one fused kernel on the GPU), then the chosen codewords are
        // gathered from the codebook parameters so that the codebook loss reaches them.
        let chosen = quantizer::codes(z.clone().detach(), &self.codebook_values());
        let mut rotated = z.zeros_like();
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
            if self.rotation {
                rotated = rotated + rotated_onto(residual.clone(), e.clone());
            }
            quantized = quantized + e.clone();
            residual = residual - e.detach();
        }
        // The decoder sees the quantized vector; the gradient flows to z straight through, or
        // through the rotations.
        let z_q = if self.rotation {
            rotated
        } else {
            z.clone() + (quantized - z).detach()
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rotation_keeps_the_codeword_and_turns_the_gradient() {
        let device = Device::flex().autodiff();
        // r = (1, 0), e = (0, 2): R turns by 90°, λ = 2. For the loss c · out with c = (1, 0),
        // the gradient on r is λ Rᵀ c = 2 · (0, −1); straight through it would be c itself.
        let r =
            Tensor::<2>::from_data(TensorData::new(vec![1f32, 0.], [1, 2]), &device).require_grad();
        let e = Tensor::<2>::from_data(TensorData::new(vec![0f32, 2.], [1, 2]), &device);
        let c = Tensor::<2>::from_data(TensorData::new(vec![1f32, 0.], [1, 2]), &device);
        let out = rotated_onto(r.clone(), e);
        let value: Vec<f32> = out.clone().inner().try_into_vec_as().unwrap();
        assert!(
            (value[0] - 0.0).abs() < 1e-6 && (value[1] - 2.0).abs() < 1e-6,
            "{value:?}"
        );
        let grads = (out * c).sum().backward();
        let g: Vec<f32> = r.grad(&grads).unwrap().try_into_vec_as().unwrap();
        assert!(
            (g[0] - 0.0).abs() < 1e-6 && (g[1] + 2.0).abs() < 1e-6,
            "{g:?}"
        );
    }

    #[test]
    fn with_the_rotation_the_forward_pass_is_the_same_and_the_encoder_learns_otherwise() {
        let device = Device::flex().autodiff();
        let x = Tensor::<2>::random([16, 8], Distribution::Normal(0.0, 1.0), &device);
        let plain = RqVaeConfig::new(8)
            .with_hidden_dims(vec![16])
            .with_latent_dim(4)
            .with_codebook_size(8)
            .with_levels(2);
        let a = plain.init(&device);
        let mut b = a.clone();
        b.rotation = true;
        let (oa, ob) = (a.forward(x.clone()), b.forward(x));
        let codes = |o: &RqVaeOutput| -> Vec<i64> { o.codes.clone().try_into_vec_as().unwrap() };
        assert_eq!(codes(&oa), codes(&ob));
        let ra: Vec<f32> = oa.reconstruction.clone().inner().try_into_vec_as().unwrap();
        let rb: Vec<f32> = ob.reconstruction.clone().inner().try_into_vec_as().unwrap();
        for (p, q) in ra.iter().zip(&rb) {
            assert!((p - q).abs() < 1e-4, "{p} against {q}");
        }
        let first_layer_grad = |m: &RqVae, o: RqVaeOutput| -> Vec<f32> {
            let grads = o.recon_loss.backward();
            m.encoder.layers[0]
                .weight
                .grad(&grads)
                .unwrap()
                .try_into_vec_as()
                .unwrap()
        };
        let (ga, gb) = (first_layer_grad(&a, oa), first_layer_grad(&b, ob));
        let gap: f32 = ga.iter().zip(&gb).map(|(p, q)| (p - q).abs()).sum();
        assert!(
            gap > 1e-4,
            "the encoder's gradient is the same with the rotation trick"
        );
    }
}
