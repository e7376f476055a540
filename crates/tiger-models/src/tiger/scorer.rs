//! The trained model as a beam-search scorer: the history is encoded once and its cross-attention
//! keys and values projected once, then each step runs the decoder over the hypotheses' prefixes on
//! the device.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use super::batch::{HostBatch, host_batch};
use super::device_beam;
use super::fused_path::{FusedMemory, FusedModel};
use super::model::Tiger;
use crate::decode::StepScorer;
use crate::decode::beam::{RankedSteps, add_on_device};
use tiger_core::ids::SemanticIds;
use tiger_core::ids::Trie;
use tiger_core::ids::vocab::{BOS, Vocab};
use tiger_kernels::fused_decoder;

/// How the history was encoded: the tensor path's keys and values per decoder layer, or the fused
/// kernels' with their weights (one per scorer, so the variants' sizes do not matter).
#[allow(clippy::large_enum_variant)]
enum Memory {
    /// Per decoder layer, cross-attention keys and values `[queries, heads, src, d_head]`: each
    /// query's encoding projected once and shared by its beams; and the decoder attention biases
    /// for the longest target (the ID's length plus BOS), built once: self-attention
    /// `[1, heads, T, T]` (a step of length `t` reads its top-left `t × t` block, as relative
    /// positions and the causal mask depend only on `k - q`), cross-attention
    /// `[queries, 1, 1, src]`.
    Tensors(Vec<(Tensor<4>, Tensor<4>)>, (Tensor<4>, Tensor<4>)),
    /// The fused kernels' weights and the encoded batch ([`fused_layer`]).
    Fused(FusedModel, FusedMemory),
}

/// Scores next-ID positions with a [`Tiger`] for a batch of queries.
pub struct ModelScorer<'m> {
    model: &'m Tiger,
    vocab: &'m Vocab,
    /// The histories, kept for the tensor path should the fused one not take a step.
    batch: HostBatch,
    memory: Memory,
    device: Device,
}

impl<'m> ModelScorer<'m> {
    /// Encodes the queries' histories (each optionally preceded by its user's token; see
    /// [`super::batch::encoder_batch`]) once; every beam of a query shares its encoding. On the GPU
    /// (see [`fused_decoder::use_for`]) the encoder and the decoding steps run as fused kernels.
    pub fn new(
        model: &'m Tiger,
        vocab: &'m Vocab,
        ids: &SemanticIds,
        histories: &[(&[u32], Option<u32>)],
        device: &Device,
    ) -> Self {
        let device = device.clone();
        let batch = host_batch(histories, vocab, ids);
        let fused = fused_decoder::use_for(&device)
            .then(|| {
                let widest = (0..vocab.id_len()).map(|p| vocab.width(p) as usize).max();
                FusedModel::of(
                    model,
                    batch.shape[1],
                    vocab.id_len() + 1,
                    widest.unwrap_or(1),
                )
            })
            .flatten();
        let memory = match fused.and_then(|f| Some((f.encode(&batch, &device)?, f))) {
            Some((memory, f)) => {
                tiger_kernels::Kernel::FusedDecoder.count();
                Memory::Fused(f, memory)
            }
            None => tensor_memory(model, vocab, &batch, &device),
        };
        Self {
            model,
            vocab,
            batch,
            memory,
            device,
        }
    }

    /// Whether this scorer runs the fused kernels (else the tensor path).
    pub fn is_fused(&self) -> bool {
        matches!(self.memory, Memory::Fused(..))
    }

    /// The decoder's input tokens for `prefixes` at position `pos` (BOS, then each value's token;
    /// dead hypotheses, which carry no prefix, padded with BOS), row-major `[n, pos + 1]`.
    fn tokens(&self, pos: usize, prefixes: &[Vec<u32>]) -> Vec<i64> {
        let mut tokens = Vec::with_capacity(prefixes.len() * (pos + 1));
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
        tokens
    }

    /// The decoder biases for a target of `t` tokens: the top-left block of `built` (built once),
    /// or new ones for a longer target.
    fn biases_for(&self, built: &(Tensor<4>, Tensor<4>), t: usize) -> (Tensor<4>, Tensor<4>) {
        if t <= built.0.dims()[2] {
            (
                built.0.clone().slice(s![.., .., 0..t, 0..t]),
                built.1.clone(),
            )
        } else {
            let (self_bias, _) = self
                .model
                .decoder_biases(t, Tensor::zeros([1, 1], &self.device));
            (self_bias, built.1.clone())
        }
    }
}

/// The tensor path's encoding of `batch`: cross-attention keys and values and decoder biases.
fn tensor_memory(model: &Tiger, vocab: &Vocab, batch: &HostBatch, device: &Device) -> Memory {
    let batch = batch.upload(device);
    Memory::Tensors(
        model.cross_kv(model.encode(batch.tokens, batch.mask.clone())),
        model.decoder_biases(vocab.id_len() + 1, batch.mask),
    )
}

impl StepScorer for ModelScorer<'_> {
    fn log_probs(&mut self, pos: usize, prefixes: &[Vec<u32>]) -> Tensor<2> {
        let n = prefixes.len();
        let width = self.vocab.width(pos) as usize;
        if let Memory::Fused(..) = self.memory {
            // The fused head computes log-probabilities plus `add`: add nothing.
            return self.totals(pos, prefixes, vec![0.0; n * (1 + width)]);
        }
        let Memory::Tensors(kv, biases) = &self.memory else {
            unreachable!("the fused memory returned above");
        };
        let tokens = Tensor::<2, Int>::from_data(
            TensorData::new(self.tokens(pos, prefixes), [n, pos + 1]),
            &self.device,
        );
        let last = self
            .model
            .decode_last(kv, &self.biases_for(biases, pos + 1), tokens);
        let start = self.vocab.offset(pos) as usize;
        log_softmax(last, 1).slice(s![.., start..start + width])
    }

    fn totals(&mut self, pos: usize, prefixes: &[Vec<u32>], add: Vec<f32>) -> Tensor<2> {
        if let Memory::Fused(fused, _) = &self.memory
            && pos + 1 > fused.limits().1
        {
            // Longer than an ID: the fused kernels were not built for it.
            self.memory = tensor_memory(self.model, self.vocab, &self.batch, &self.device);
        }
        let Memory::Fused(fused, memory) = &self.memory else {
            let logp = self.log_probs(pos, prefixes);
            return add_on_device(logp, add, &self.device);
        };
        fused.step_scores(
            memory,
            &self.tokens(pos, prefixes),
            pos + 1,
            &add,
            self.vocab.offset(pos) as usize,
        )
    }

    fn select_on_device(
        &mut self,
        trie: &Trie,
        queries: usize,
        width: usize,
    ) -> Option<RankedSteps> {
        let Memory::Fused(fused, memory) = &self.memory else {
            return None;
        };
        let depth = trie.depth();
        if !device_beam::enabled() || depth + 1 > fused.limits().1 || self.batch.shape[0] != queries
        {
            return None;
        }
        let positions = device_beam::Positions {
            starts: (0..depth).map(|p| self.vocab.offset(p) as usize).collect(),
            widths: (0..depth).map(|p| self.vocab.width(p) as usize).collect(),
            bos: BOS,
        };
        let steps = device_beam::select_all(
            fused,
            memory,
            trie,
            &positions,
            queries,
            width.max(1),
            &self.device,
        )?;
        tiger_kernels::Kernel::DeviceBeam.count();
        Some(steps)
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
    use crate::tiger::TigerConfig;
    use crate::tiger::batch::encoder_batch;
    use tiger_core::ids::SemanticIds;

    /// The scorer's step (shared K/V, biases built once and sliced per step, last position only)
    /// gives the log-probabilities a full decode of the same prefixes gives.
    #[test]
    fn scorer_steps_equal_full_decoding() {
        let device = Device::flex();
        let ids = SemanticIds::assign(vec![1, 2, 1, 2, 3, 0, 0, 1, 3, 3], 2);
        let vocab = Vocab::for_ids(&ids, 4, 0);
        let model = TigerConfig::new(vocab.size())
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
        let mut scorer = ModelScorer::new(&model, &vocab, &ids, &hist, &device);
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
