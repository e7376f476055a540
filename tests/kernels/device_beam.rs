//! Beam search with every step queued on the device (selection kernel, trie on the GPU, one
//! read-back) against the same fused scorer ranking each step on the host: the same hypotheses,
//! scores and items, and the same steps for the observer.

use crate::support;

use tiger_core::ids::SemanticIds;
use tiger_core::ids::Trie;
use tiger_core::ids::Vocab;
use tiger_kernels::{Kernel, Kernels};
use tiger_models::decode::{BeamConfig, BeamStep, Hypothesis, search};
use tiger_models::tiger::TigerConfig;
use tiger_models::tiger::scorer::ModelScorer;

/// Deterministic codes in `0..4`.
fn codes(seed: u64, n: usize) -> Vec<u32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 33) as u32 % 4
        })
        .collect()
}

/// Forty items of three codes over codebooks of 4 (collisions share a prefix and get a fourth
/// token), three queries of different history lengths, beams of 3, 8 and 20 (wider than the
/// first position's candidates, so some hypotheses start dead).
#[test]
fn device_steps_give_the_host_steps_results() {
    let _rng = support::device_rng();
    let Some(device) = support::gpu_or_skip() else {
        return;
    };
    let ids = SemanticIds::assign(codes(5, 40 * 3), 3);
    let trie = Trie::build(&ids);
    let vocab = Vocab::for_ids(&ids, 4, 0);
    let model = TigerConfig::new(vocab.size())
        .with_d_model(16)
        .with_heads(2)
        .with_d_head(8)
        .with_d_ff(48)
        .with_encoder_layers(2)
        .with_decoder_layers(2)
        .with_dropout(0.0)
        .init(&device);
    let histories: [&[u32]; 3] = [&[0, 3, 1, 4, 7], &[2], &[5, 6, 39]];
    let hist: Vec<(&[u32], Option<u32>)> = histories.iter().map(|h| (*h, None)).collect();
    for width in [3usize, 8, 20] {
        let config = BeamConfig {
            width,
            constrained: true,
        };
        let run = |on_device: bool| -> (Vec<Vec<Hypothesis>>, Vec<BeamStep>) {
            let kernels = Kernels::ALL.with(Kernel::DeviceBeam, on_device);
            kernels.run(|| {
                let mut scorer = ModelScorer::new(&model, &vocab, &ids, &hist, &device);
                assert!(scorer.is_fused(), "the GPU scorer runs the fused kernels");
                let mut steps = Vec::new();
                let before = Kernel::DeviceBeam.calls();
                let found = search(&mut scorer, &trie, hist.len(), config, &mut |s| {
                    steps.push(s.clone())
                });
                // The device path really ran (it would fall back to the host selection silently,
                // and this test would then compare the host path with itself).
                let ran = Kernel::DeviceBeam.calls() > before;
                assert_eq!(
                    ran, on_device,
                    "width {width}: on-device selection ran: {ran}"
                );
                (found, steps)
            })
        };
        let (host, host_steps) = run(false);
        let (dev, dev_steps) = run(true);
        assert_eq!(host.len(), 3);
        for (q, (h, d)) in host.iter().zip(&dev).enumerate() {
            assert!(
                !h.is_empty(),
                "width {width}, query {q}: the host found nothing"
            );
            let key = |x: &Hypothesis| (x.values.clone(), x.item);
            assert_eq!(
                h.iter().map(key).collect::<Vec<_>>(),
                d.iter().map(key).collect::<Vec<_>>(),
                "width {width}, query {q}: hypotheses differ"
            );
            for (a, b) in h.iter().zip(d) {
                assert_eq!(a.score, b.score, "width {width}, query {q}: {:?}", a.values);
                assert!(a.item.is_some(), "constrained results name real items");
            }
        }
        assert_eq!(
            host_steps, dev_steps,
            "width {width}: the observer's steps differ"
        );
        assert_eq!(host_steps.len(), trie.depth());
    }
}
