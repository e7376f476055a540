//! RQ-VAE training on a small clustered synthetic set (flex CPU backend).

use crate::support;

use burn::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tiger_core::config::QuantizeOptions;
use tiger_core::device_choice::DeviceChoice;
use tiger_core::embeddings::Embeddings;
use tiger_core::ids::SemanticIds;
use tiger_models::train::rqvae_loop::{Flow, RqVaeError, RqVaeEvent, train};

/// 1024 points in 16-d: 8 coarse clusters, each with 8 sub-clusters, plus small noise.
fn clustered() -> Embeddings {
    let mut rng = StdRng::seed_from_u64(3);
    let dim = 16;
    let coarse: Vec<Vec<f32>> = (0..8)
        .map(|_| (0..dim).map(|_| rng.random::<f32>() * 4.0 - 2.0).collect())
        .collect();
    let fine: Vec<Vec<f32>> = (0..8)
        .map(|_| (0..dim).map(|_| rng.random::<f32>() - 0.5).collect())
        .collect();
    let mut data = Vec::new();
    for i in 0..1024 {
        let (c, f) = (i % 8, (i / 8) % 8);
        for j in 0..dim {
            data.push(coarse[c][j] + fine[f][j] + 0.05 * (rng.random::<f32>() - 0.5));
        }
    }
    Embeddings::new(1024, dim, data).unwrap()
}

fn tiny_options() -> QuantizeOptions {
    QuantizeOptions {
        levels: 2,
        codebook_size: 8,
        latent_dim: 8,
        hidden_dims: vec![32],
        steps: 300,
        batch_size: 256,
        log_every: 50,
        lr: 3e-3,
        dead_code_restart: 50,
        device: DeviceChoice::Cpu,
        ..Default::default()
    }
}

#[test]
fn training_lowers_loss_and_uses_most_codes() {
    let _rng = support::device_rng();
    let emb = clustered();
    let opts = tiny_options();
    let mut history = Vec::new();
    let trained = train(&emb, &opts, &Device::flex(), &mut |e| {
        if let RqVaeEvent::Stats(s) = e {
            history.push(s);
        }
        Flow::Continue
    })
    .unwrap();
    assert_eq!(history.len(), 6);
    let (first, last) = (&history[0], history.last().unwrap());
    assert!(
        last.recon_loss < 0.5 * first.recon_loss,
        "recon {} → {}",
        first.recon_loss,
        last.recon_loss
    );
    for (l, level) in last.levels.iter().enumerate() {
        assert!(
            level.usage_pct >= 75.0,
            "level {l} uses {}%",
            level.usage_pct
        );
    }
    // 64 true clusters over 8 × 8 codes: most items should get a prefix shared only by their
    // cluster.
    assert!(
        last.largest_collision_group < 1024 / 8,
        "{}",
        last.largest_collision_group
    );
    let ids = SemanticIds::assign(trained.codes.clone(), 2);
    let deepest = ids.collision.iter().copied().max().unwrap_or(0);
    assert_eq!(
        deepest as usize + 1,
        trained.stats.largest_collision_group,
        "the statistics' largest collision group and the 4th tokens disagree"
    );
}

#[test]
fn same_seed_same_codes_and_cancel_stops() {
    let _rng = support::device_rng();
    let emb = clustered();
    let mut opts = tiny_options();
    opts.steps = 40;
    let run = || {
        train(&emb, &opts, &Device::flex(), &mut |_| Flow::Continue)
            .unwrap()
            .codes
    };
    assert_eq!(run(), run());
    let mut seen = 0;
    let err = train(&emb, &opts, &Device::flex(), &mut |e| {
        if let RqVaeEvent::Step { step, .. } = e {
            seen = step;
            if step == 5 {
                return Flow::Cancel;
            }
        }
        Flow::Continue
    });
    assert!(matches!(err, Err(RqVaeError::Cancelled)));
    assert_eq!(seen, 5);
}

#[test]
fn invalid_options_are_refused_before_allocating() {
    let _rng = support::device_rng();
    let emb = clustered();
    let mut opts = tiny_options();
    opts.codebook_size = 65_536;
    let err = train(&emb, &opts, &Device::flex(), &mut |_| Flow::Continue)
        .err()
        .unwrap();
    assert!(err.to_string().contains("--codebook-size"), "{err}");
}
