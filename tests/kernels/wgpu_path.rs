//! Runs the RQ-VAE on burn-wgpu (Mesa's software Vulkan in CI), so the GPU code path is exercised
//! on every submission. Set TIGER_REQUIRE_WGPU=1 to fail rather than skip when no adapter exists.

use crate::support;

use burn::prelude::*;
use tiger_core::config::QuantizeOptions;
use tiger_core::embeddings::Embeddings;
use tiger_models::rqvae::quantizer;
use tiger_models::train::rqvae_loop::{Flow, train};

#[test]
fn rqvae_trains_on_wgpu_and_matches_cpu_quantizer() {
    let _rng = support::device_rng();
    let Some(gpu) = support::gpu_or_skip() else {
        return;
    };

    // The nearest-code search gives the same answer on the GPU as on the CPU.
    let data: Vec<f32> = (0..64 * 4)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    let book: Vec<f32> = (0..8 * 4)
        .map(|i| ((i * 53 % 97) as f32 / 48.0) - 1.0)
        .collect();
    let codes_on = |d: &Device| {
        let r = Tensor::<2>::from_data(TensorData::new(data.clone(), [64, 4]), d);
        let c = Tensor::<2>::from_data(TensorData::new(book.clone(), [8, 4]), d);
        quantizer::nearest(r, c).0.try_into_vec_as::<i64>().unwrap()
    };
    assert_eq!(codes_on(&gpu), codes_on(&Device::flex()));

    // A tiny training run completes and yields finite losses and codes for every item.
    let emb = Embeddings::new(
        128,
        8,
        (0..128 * 8)
            .map(|i| ((i * 29 % 89) as f32 / 44.0) - 1.0)
            .collect(),
    )
    .unwrap();
    let opts = QuantizeOptions {
        levels: 2,
        codebook_size: 8,
        latent_dim: 4,
        hidden_dims: vec![16],
        steps: 20,
        batch_size: 64,
        log_every: 10,
        kmeans_iters: 3,
        dead_code_restart: 10,
        ..Default::default()
    };
    let trained = train(&emb, &opts, &gpu, &mut |_| Flow::Continue).unwrap();
    assert_eq!(trained.codes.len(), 128 * 2);
    assert!(trained.codes.iter().all(|&c| c < 8));
    assert!(trained.stats.recon_loss.is_finite());
    assert_eq!(trained.stats.step, 20);
}
