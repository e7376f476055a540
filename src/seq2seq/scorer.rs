//! The trained model as a beam-search scorer: the history is encoded once and its cross-attention
//! keys and values projected once, then each step runs the decoder over the hypotheses' prefixes on
//! the device.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use super::batch::EncoderBatch;
use super::fused_layer::{self, LayerWeights};
use super::model::Seq2Seq;
use super::vocab::{BOS, Vocab};
use crate::decode::StepScorer;

/// Scores next-ID positions with a [`Seq2Seq`] for a batch of queries.
pub struct ModelScorer<'m> {
    model: &'m Seq2Seq,
    vocab: &'m Vocab,
    /// Per decoder layer, cross-attention keys and values `[queries, heads, src, d_head]`: each
    /// query's encoding projected once and shared by its beams.
    kv: Vec<(Tensor<4>, Tensor<4>)>,
    /// Decoder attention biases for the longest target (the ID's length plus BOS), built once:
    /// self-attention `[1, heads, T, T]` (a step of length `t` reads its top-left `t × t`
    /// block, as relative positions and the causal mask depend only on `k - q`), cross-attention
    /// `[queries, 1, 1, src]`.
    biases: (Tensor<4>, Tensor<4>),
    /// The decoder layers' weights when each layer runs as one fused GPU kernel
    /// ([`super::fused_layer`]); `None` on the tensor path.
    fused: Option<Vec<LayerWeights>>,
    device: Device,
}

impl<'m> ModelScorer<'m> {
    /// Encodes the queries' histories once; every beam of a query shares its encoding.
    pub fn new(model: &'m Seq2Seq, vocab: &'m Vocab, batch: EncoderBatch) -> Self {
        let device = batch.tokens.device();
        let memory = model.encode(batch.tokens, batch.mask.clone());
        let kv = model.cross_kv(memory);
        let mask = batch.mask;
        let src = mask.dims()[1];
        let biases = model.decoder_biases(vocab.id_len() + 1, mask);
        let (d, heads) = model.attention_shape();
        let fused = (fused_layer::use_for(&device)
            && fused_layer::fits(vocab.id_len() + 1, d, heads, src))
        .then(|| model.fused_weights())
        .flatten();
        Self {
            model,
            vocab,
            kv,
            biases,
            fused,
            device,
        }
    }
}

impl StepScorer for ModelScorer<'_> {
    fn log_probs(&mut self, pos: usize, prefixes: &[Vec<u32>]) -> Tensor<2> {
        let n = prefixes.len();
        let mut tokens = Vec::with_capacity(n * (pos + 1));
        for p in prefixes {
            tokens.push(BOS as i64);
            for (i, &v) in p.iter().enumerate() {
                tokens.push(self.vocab.token(i, v) as i64);
            }
            // Dead hypotheses carry no prefix: pad them (their scores are masked anyway).
            for _ in p.len()..pos {
                tokens.push(BOS as i64);
            }
        }
        let tokens =
            Tensor::<2, Int>::from_data(TensorData::new(tokens, [n, pos + 1]), &self.device);
        let t = pos + 1;
        let biases = if t <= self.biases.0.dims()[2] {
            (
                self.biases.0.clone().slice(s![.., .., 0..t, 0..t]),
                self.biases.1.clone(),
            )
        } else {
            let (self_bias, _) = self
                .model
                .decoder_biases(t, Tensor::zeros([1, 1], &self.device));
            (self_bias, self.biases.1.clone())
        };
        let last = match &self.fused {
            Some(weights) => self
                .model
                .decode_last_fused(weights, &self.kv, &biases, tokens),
            None => self.model.decode_last(&self.kv, &biases, tokens),
        };
        let start = self.vocab.offset(pos) as usize;
        let width = self.vocab.width(pos) as usize;
        log_softmax(last, 1).slice(s![.., start..start + width])
    }

    fn width_of(&self, pos: usize) -> usize {
        self.vocab.width(pos) as usize
    }

    fn device(&self) -> Device {
        self.device.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rqvae::SemanticIds;
    use crate::seq2seq::Seq2SeqConfig;
    use crate::seq2seq::batch::encoder_batch;

    /// The scorer's step (shared K/V, biases built once and sliced per step, last position only)
    /// gives the log-probabilities a full decode of the same prefixes gives.
    #[test]
    fn scorer_steps_equal_full_decoding() {
        let device = Device::flex();
        let ids = SemanticIds::assign(vec![1, 2, 1, 2, 3, 0, 0, 1, 3, 3], 2);
        let vocab = Vocab::for_ids(&ids, 4, 0);
        let model = Seq2SeqConfig::new(vocab.size())
            .with_d_model(16)
            .with_heads(2)
            .with_d_head(8)
            .with_d_ff(32)
            .with_encoder_layers(1)
            .with_decoder_layers(2)
            .with_dropout(0.0)
            .init(&device);
        let history: &[u32] = &[0, 3, 1];
        let hist = vec![(history, None)];
        let mut scorer =
            ModelScorer::new(&model, &vocab, encoder_batch(&hist, &vocab, &ids, &device));
        let prefixes = vec![vec![1u32, 2], vec![3, 0]];
        let pos = prefixes[0].len();
        let got = scorer.log_probs(pos, &prefixes);
        // The full model: encoder once per prefix row, every position decoded, last one kept.
        let tokens: Vec<i64> = prefixes
            .iter()
            .flat_map(|p| {
                std::iter::once(BOS as i64)
                    .chain(p.iter().enumerate().map(|(i, &v)| vocab.token(i, v) as i64))
            })
            .collect();
        let tgt = Tensor::<2, Int>::from_data(TensorData::new(tokens, [2, pos + 1]), &device);
        let batch = encoder_batch(&[hist[0], hist[0]], &vocab, &ids, &device);
        let full = model.forward(batch.tokens, batch.mask, tgt);
        let [b, t, v] = full.dims();
        let last = full.slice(s![.., t - 1..t, ..]).reshape([b, v]);
        let start = vocab.offset(pos) as usize;
        let want = log_softmax(last, 1).slice(s![.., start..start + vocab.width(pos) as usize]);
        got.to_data().assert_approx_eq::<f32>(
            &want.to_data(),
            burn::tensor::Tolerance::rel_abs(1e-4, 1e-5),
        );
    }
}
