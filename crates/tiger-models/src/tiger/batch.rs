//! Token batches of training and evaluation samples (the samples themselves are
//! `tiger_core::data::samples`).

use burn::prelude::*;

use tiger_core::data::samples::Sample;
use tiger_core::ids::SemanticIds;
use tiger_core::ids::vocab::{BOS, PAD, Vocab};

/// Encoder-side token batch.
#[derive(Debug, Clone)]
pub struct EncoderBatch {
    /// `[batch, src]` tokens, PAD-padded on the right.
    pub tokens: Tensor<2, Int>,
    /// `[batch, src]` mask, 1 = token, 0 = PAD.
    pub mask: Tensor<2, Int>,
}

/// An encoder batch on the host: tokens and mask `[batch, src]`, row-major.
#[derive(Debug, Clone)]
pub struct HostBatch {
    /// Tokens, PAD-padded on the right.
    pub tokens: Vec<i64>,
    /// 1 = token, 0 = PAD.
    pub mask: Vec<i64>,
    /// `[batch, src]`.
    pub shape: [usize; 2],
}

impl HostBatch {
    /// The batch on `device`.
    pub fn upload(&self, device: &Device) -> EncoderBatch {
        EncoderBatch {
            tokens: Tensor::from_data(TensorData::new(self.tokens.clone(), self.shape), device),
            mask: Tensor::from_data(TensorData::new(self.mask.clone(), self.shape), device),
        }
    }
}

/// Tokenizes histories (optionally preceded by the user's hashed token) into an encoder batch.
pub fn encoder_batch(
    histories: &[(&[u32], Option<u32>)],
    vocab: &Vocab,
    ids: &SemanticIds,
    device: &Device,
) -> EncoderBatch {
    host_batch(histories, vocab, ids).upload(device)
}

/// [`encoder_batch`] on the host.
pub fn host_batch(
    histories: &[(&[u32], Option<u32>)],
    vocab: &Vocab,
    ids: &SemanticIds,
) -> HostBatch {
    let rows: Vec<Vec<u32>> = histories
        .iter()
        .map(|(h, user)| {
            let mut t: Vec<u32> = user.iter().copied().collect();
            for &item in *h {
                t.extend(vocab.item_tokens(ids, item as usize));
            }
            t
        })
        .collect();
    let src = rows.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let mut tokens = Vec::with_capacity(rows.len() * src);
    let mut mask = Vec::with_capacity(rows.len() * src);
    for r in &rows {
        tokens.extend(r.iter().map(|&t| t as i64));
        mask.extend(std::iter::repeat_n(1i64, r.len()));
        tokens.extend(std::iter::repeat_n(PAD as i64, src - r.len()));
        mask.extend(std::iter::repeat_n(0i64, src - r.len()));
    }
    HostBatch {
        tokens,
        mask,
        shape: [rows.len(), src],
    }
}

/// A full training batch: encoder input, decoder input (BOS + target tokens but the last) and
/// labels.
#[derive(Debug, Clone)]
pub struct TrainBatch {
    /// Encoder side.
    pub encoder: EncoderBatch,
    /// `[batch, id_len]` decoder input.
    pub decoder_in: Tensor<2, Int>,
    /// `[batch, id_len]` target tokens.
    pub labels: Tensor<2, Int>,
}

/// Builds a training batch from samples. `user_ids` maps user index → id string (for the hashed
/// user token).
pub fn train_batch(
    samples: &[&Sample],
    vocab: &Vocab,
    ids: &SemanticIds,
    user_ids: &[String],
    device: &Device,
) -> TrainBatch {
    let hist: Vec<(&[u32], Option<u32>)> = samples
        .iter()
        .map(|s| {
            (
                s.history.as_slice(),
                vocab.user_token(&user_ids[s.user as usize]),
            )
        })
        .collect();
    let encoder = encoder_batch(&hist, vocab, ids, device);
    let n = vocab.id_len();
    let mut dec = Vec::with_capacity(samples.len() * n);
    let mut lab = Vec::with_capacity(samples.len() * n);
    for s in samples {
        let t = vocab.item_tokens(ids, s.target as usize);
        dec.push(BOS as i64);
        dec.extend(t[..n - 1].iter().map(|&v| v as i64));
        lab.extend(t.iter().map(|&v| v as i64));
    }
    let shape = [samples.len(), n];
    TrainBatch {
        encoder,
        decoder_in: Tensor::from_data(TensorData::new(dec, shape), device),
        labels: Tensor::from_data(TensorData::new(lab, shape), device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_pad_right_and_shift_targets() {
        let ids = SemanticIds::assign(vec![1, 2, 1, 2, 3, 0], 2);
        let vocab = Vocab::for_ids(&ids, 4, 0);
        let d = Device::flex();
        let s1 = Sample {
            user: 0,
            history: vec![0],
            target: 2,
        };
        let s2 = Sample {
            user: 0,
            history: vec![0, 1],
            target: 1,
        };
        let b = train_batch(&[&s1, &s2], &vocab, &ids, &["u".into()], &d);
        let tokens: Vec<i64> = b.encoder.tokens.try_into_vec_as().unwrap();
        // item 0 = (1,2,coll 0) → 3+1, 3+4+2, 3+8+0 ; item 1 = (1,2,coll 1) → 4, 9, 12.
        assert_eq!(tokens, vec![4, 9, 11, 0, 0, 0, 4, 9, 11, 4, 9, 12]);
        let mask: Vec<i64> = b.encoder.mask.try_into_vec_as().unwrap();
        assert_eq!(mask, vec![1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
        let dec: Vec<i64> = b.decoder_in.try_into_vec_as().unwrap();
        let lab: Vec<i64> = b.labels.try_into_vec_as().unwrap();
        // target item 2 = (3, 0, coll 0) → 6, 7, 11.
        assert_eq!(&dec[..3], &[1, 6, 7]);
        assert_eq!(&lab[..3], &[6, 7, 11]);
    }
}
