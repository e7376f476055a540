//! The fused decoder layer (one GPU kernel per layer, beam search's path on the GPU) against the
//! tensor path on the same device.

mod common;

use burn::prelude::*;
use tiger_explorer::seq2seq::{Seq2SeqConfig, fused_layer};

/// Both paths give the same next-token logits for every prefix length, with several queries,
/// several hypotheses per query, padded histories and the self-attention bias sliced from a longer
/// one (as the beam-search scorer slices it).
#[test]
fn fused_layers_equal_the_tensor_path() {
    let Some(device) = common::gpu_or_skip() else {
        return;
    };
    for (d_model, heads, d_head, d_ff, layers) in [(16, 2, 8, 48, 2), (32, 3, 8, 40, 1)] {
        let vocab = 40;
        let model = Seq2SeqConfig::new(vocab)
            .with_d_model(d_model)
            .with_heads(heads)
            .with_d_head(d_head)
            .with_d_ff(d_ff)
            .with_encoder_layers(1)
            .with_decoder_layers(layers)
            .with_dropout(0.0)
            .init(&device);
        let weights = model
            .fused_weights()
            .expect("the model's norms use the kernel's epsilon");
        // Three queries; the last two histories padded.
        let src = Tensor::<2, Int>::from_data(
            [
                [3, 4, 5, 6, 7, 8, 9],
                [7, 8, 9, 10, 0, 0, 0],
                [11, 12, 0, 0, 0, 0, 0],
            ],
            &device,
        );
        let mask = Tensor::<2, Int>::from_data(
            [
                [1, 1, 1, 1, 1, 1, 1],
                [1, 1, 1, 1, 0, 0, 0],
                [1, 1, 0, 0, 0, 0, 0],
            ],
            &device,
        );
        let memory = model.encode(src, mask.clone());
        let kv = model.cross_kv(memory);
        let longest = 5;
        let (self_bias, cross_bias) = model.decoder_biases(longest, mask);
        let beams = 4;
        for t in 1..=4 {
            let tokens: Vec<i64> = (0..3 * beams * t)
                .map(|i| ((i * 7 + t) % (vocab - 1) + 1) as i64)
                .collect();
            let tokens =
                Tensor::<2, Int>::from_data(TensorData::new(tokens, [3 * beams, t]), &device);
            let biases = (
                self_bias.clone().slice(s![.., .., 0..t, 0..t]),
                cross_bias.clone(),
            );
            let want = model.decode_last(&kv, &biases, tokens.clone());
            let want: Vec<f32> = want.into_data().try_to_vec::<f32>().unwrap();
            // Both variants: scratch in shared memory (what fits here) and in device memory.
            for device_scratch in [false, true] {
                fused_layer::force_device_scratch(device_scratch);
                let got = model.decode_last_fused(&weights, &kv, &biases, tokens.clone());
                assert_eq!(got.dims(), [3 * beams, vocab]);
                let got: Vec<f32> = match got.try_into_data() {
                    Ok(d) => d.try_to_vec::<f32>().unwrap(),
                    Err(e) => panic!("{e:#?}"),
                };
                let worst = got
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    worst < 1e-4,
                    "d_model {d_model}, t {t}, device scratch {device_scratch}: largest difference {worst}"
                );
            }
            fused_layer::force_device_scratch(false);
        }
    }
}
