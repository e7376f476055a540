//! The RQ-VAE training loop with recorded and replayed steps (segments, dead-code restarts,
//! statistics between replays) trains exactly as the same loop stepping through the tensor API
//! (`rqvae_graph` off), on burn-wgpu (Mesa's software Vulkan in CI). Set TIGER_REQUIRE_WGPU=1 to
//! fail rather than skip when no adapter exists.

use crate::support;

use tiger_core::config::QuantizeOptions;
use tiger_core::embeddings::synthetic::synthetic_embeddings;
use tiger_kernels::{Kernel, Kernels};
use tiger_models::train::rqvae_loop::{Flow, RqVaeEvent, train};

#[test]
fn replayed_training_matches_step_by_step_training() {
    let _rng = support::device_rng();
    let Some(gpu) = support::gpu_or_skip() else {
        return;
    };
    let emb = synthetic_embeddings(300, 24, 5);
    let opts = QuantizeOptions {
        hidden_dims: vec![32, 16],
        latent_dim: 8,
        codebook_size: 16,
        batch_size: 64,
        steps: 24,
        log_every: 6,
        dead_code_restart: 10,
        kmeans_iters: 5,
        ..Default::default()
    };
    let run = || {
        let mut phases = Vec::new();
        let mut stats = Vec::new();
        let trained = train(&emb, &opts, &gpu, &mut |e| {
            match e {
                RqVaeEvent::Phase(p) => phases.push(p),
                RqVaeEvent::Stats(s) => stats.push((s.step, s.recon_loss, s.quant_loss)),
                RqVaeEvent::Step { .. } => {}
            }
            Flow::Continue
        })
        .unwrap();
        (trained.codes, stats, phases)
    };
    let (codes, stats, phases) = run();
    let (eager_codes, eager_stats, eager_phases) = Kernels::without(Kernel::RqvaeGraph).run(run);
    println!("{phases:?}\n{eager_phases:?}\n{stats:?}");
    assert!(phases.iter().any(|p| p.contains("replayed")), "{phases:?}");
    assert!(
        eager_phases
            .iter()
            .any(|p| p.contains("turns rqvae_graph off")),
        "{eager_phases:?}"
    );
    // Steps 6, 12, 18, 24 reported; restarts at steps 10 and 20 (segments 1-10, 11-20, 21-24).
    assert_eq!(
        stats.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![6, 12, 18, 24]
    );
    assert!(stats.iter().all(|s| s.1.is_finite()));
    assert_eq!(stats, eager_stats);
    assert_eq!(codes, eager_codes);
}
