//! The codebook bar on the bundled sample with the default RQ-VAE settings (shortened to 800 steps
//! so the test runs in about a minute on a CPU): every level uses ≥ 80 % of its codes, ≥ 95 % of
//! items have a unique 3-code prefix, and the statistics' largest collision group matches the IDs. The full 3000-step figures on
//! the CPU and on the H200 are in docs/performance.md.

use crate::support;

use burn::prelude::*;
use tiger_core::config::QuantizeOptions;
use tiger_core::device_choice::DeviceChoice;
use tiger_core::embeddings::store;
use tiger_core::ids::SemanticIds;
use tiger_models::train::rqvae_loop::{Flow, train};

#[test]
fn sample_default_settings_meet_the_bar() {
    let _rng = support::device_rng();
    let dir = support::sample_dir();
    let dataset = tiger_core::data::load(&dir).unwrap();
    let path = dir.join("embeddings.npy");
    let emb = store::read(&path).unwrap();
    emb.check_rows(&path, dataset.items.len()).unwrap();
    assert_eq!(emb.dim, 384);
    let opts = QuantizeOptions {
        steps: 800,
        log_every: 800,
        device: DeviceChoice::Cpu,
        ..Default::default()
    };
    let trained = train(&emb, &opts, &Device::flex(), &mut |_| Flow::Continue).unwrap();
    let s = &trained.stats;
    for (l, level) in s.levels.iter().enumerate() {
        assert!(
            level.usage_pct >= 80.0,
            "level {} uses {:.1}%",
            l + 1,
            level.usage_pct
        );
    }
    assert!(
        s.unique_prefix_pct >= 95.0,
        "unique prefix {:.2}%",
        s.unique_prefix_pct
    );
    // The statistics' largest collision group is the deepest 4th token plus one.
    let ids = SemanticIds::assign(trained.codes.clone(), 3);
    let deepest = ids.collision.iter().copied().max().unwrap_or(0);
    assert_eq!(deepest as usize + 1, s.largest_collision_group);
}
