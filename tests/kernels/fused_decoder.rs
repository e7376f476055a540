//! The fused kernels (beam search's encoder and decoding steps on the GPU) against the tensor path
//! on the same device.

use crate::support;

use burn::prelude::*;
use tiger_core::ids::SemanticIds;
use tiger_core::ids::Vocab;
use tiger_kernels::{Kernel, Kernels};
use tiger_models::decode::StepScorer;
use tiger_models::tiger::TigerConfig;
use tiger_models::tiger::scorer::ModelScorer;

/// Deterministic pseudo-random numbers in `[0, 1)`.
fn noise(seed: u64) -> impl FnMut() -> f32 {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    move || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 40) as f32 / (1u64 << 24) as f32
    }
}

fn values(t: Tensor<2>) -> Vec<f32> {
    match t.try_into_data() {
        Ok(d) => d.try_to_vec::<f32>().unwrap(),
        Err(e) => panic!("{e:#?}"),
    }
}

/// Both paths give the same step scores (log-probability + mask + hypothesis score) and the same
/// log-probabilities at every ID position: three queries with padded histories of different
/// lengths, four hypotheses each, two model shapes (one with five decoder layers: four layers'
/// cross-attention projections in one launch, one alone; one with single-layer stacks).
#[test]
fn fused_kernels_equal_the_tensor_path() {
    let _rng = support::device_rng();
    let Some(device) = support::gpu_or_skip() else {
        return;
    };
    // Eight items of three codes over codebooks of 4 (plus the collision token).
    let codes = vec![
        1, 2, 3, 1, 2, 0, 0, 3, 3, 2, 1, 0, 1, 2, 3, 3, 3, 3, 0, 0, 1, 2, 2, 2,
    ];
    let ids = SemanticIds::assign(codes, 3);
    let vocab = Vocab::for_ids(&ids, 4, 0);
    let histories: [&[u32]; 3] = [&[0, 3, 1, 4, 7], &[2], &[5, 6]];
    let hist: Vec<(&[u32], Option<u32>)> = histories.iter().map(|h| (*h, None)).collect();
    for (d_model, heads, d_head, d_ff, enc, dec) in [(16, 2, 8, 48, 2, 5), (32, 3, 8, 40, 1, 1)] {
        let model = TigerConfig::new(vocab.size())
            .with_d_model(d_model)
            .with_heads(heads)
            .with_d_head(d_head)
            .with_d_ff(d_ff)
            .with_encoder_layers(enc)
            .with_decoder_layers(dec)
            .with_dropout(0.0)
            .init(&device);
        let scorer = |fused: bool| {
            let kernels = Kernels::ALL.with(Kernel::FusedDecoder, fused);
            let s = kernels.run(|| ModelScorer::new(&model, &vocab, &ids, &hist, &device));
            assert_eq!(s.is_fused(), fused, "the scorer takes the forced path");
            s
        };
        let (mut fused, mut plain) = (scorer(true), scorer(false));
        let beams = 4;
        let n = histories.len() * beams;
        let mut rand = noise(d_model as u64);
        for pos in 0..vocab.id_len() {
            let width = vocab.width(pos) as usize;
            let prefixes: Vec<Vec<u32>> = (0..n)
                .map(|_| (0..pos).map(|_| (rand() * 4.0) as u32 % 4).collect())
                .collect();
            // Scores so far, and a mask of 0 or −3 (kept small so that the comparison is tight).
            let add: Vec<f32> = (0..n * (1 + width))
                .map(|i| {
                    if i % (1 + width) == 0 {
                        -10.0 * rand()
                    } else if rand() < 0.3 {
                        -3.0
                    } else {
                        0.0
                    }
                })
                .collect();
            let got = fused.totals(pos, &prefixes, add.clone());
            let want = plain.totals(pos, &prefixes, add);
            assert_eq!(got.dims(), [n, width]);
            let worst = |a: Vec<f32>, b: Vec<f32>| {
                a.iter()
                    .zip(&b)
                    .map(|(x, y)| (x - y).abs())
                    .fold(0.0f32, f32::max)
            };
            let d = worst(values(got), values(want));
            assert!(
                d < 1e-4,
                "d_model {d_model}, position {pos}: totals differ by {d}"
            );
            let d = worst(
                values(fused.log_probs(pos, &prefixes)),
                values(plain.log_probs(pos, &prefixes)),
            );
            assert!(
                d < 1e-4,
                "d_model {d_model}, position {pos}: log-probs differ by {d}"
            );
        }
        // A target longer than an ID (which beam search never asks for): the fused scorer hands
        // over to the tensor path rather than read past its bucket line.
        let pos = vocab.id_len() + 1;
        let prefixes = vec![vec![0u32; pos]; n];
        let got = values(fused.log_probs(pos, &prefixes));
        let want = values(plain.log_probs(pos, &prefixes));
        assert!(!fused.is_fused(), "the scorer switched to the tensor path");
        assert_eq!(got, want);
    }
}
