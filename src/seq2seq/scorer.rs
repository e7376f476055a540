//! The trained model as a beam-search scorer: the history is encoded once and its cross-attention
//! keys and values projected once, then each step runs the decoder over the hypotheses' prefixes on
//! the device.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use super::batch::EncoderBatch;
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
    /// `[queries, src]`.
    mask: Tensor<2, Int>,
    device: Device,
}

impl<'m> ModelScorer<'m> {
    /// Encodes the queries' histories once; every beam of a query shares its encoding.
    pub fn new(model: &'m Seq2Seq, vocab: &'m Vocab, batch: EncoderBatch) -> Self {
        let device = batch.tokens.device();
        let memory = model.encode(batch.tokens, batch.mask.clone());
        let kv = model.cross_kv(memory);
        let mask = batch.mask;
        Self {
            model,
            vocab,
            kv,
            mask,
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
        let last = self.model.decode_last(&self.kv, self.mask.clone(), tokens);
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
