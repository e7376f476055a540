//! The model's inference path through the fused kernels: its weights gathered once per query
//! batch, the encoder with every decoder layer's cross-attention keys and values, and one decoding
//! step's beam scores.

use burn::backend::Dispatch;
use burn::backend::tensor::FloatTensor;
use burn::nn::{Linear, RmsNorm};
use burn::prelude::*;

use super::{EPSILON, FusedRowOps, fits};
use crate::seq2seq::attention::Attention;
use crate::seq2seq::model::Seq2Seq;

/// A tensor as the dispatch backend's primitive (what the fused operations take).
fn prim<const D: usize>(t: &Tensor<D>) -> FloatTensor<Dispatch> {
    t.clone().inner().into_dispatch()
}

/// An RMSNorm's scale `[d]`, or `None` when its epsilon is not the one the kernels apply.
fn scale(n: &RmsNorm) -> Option<Tensor<1>> {
    ((n.epsilon - EPSILON).abs() < 1e-12).then(|| n.gamma.val())
}

/// A projection's weight as stored (`[in, out]`).
fn weight(l: &Linear) -> Tensor<2> {
    l.weight.val()
}

/// Self-attention weights and norm of one layer: `g1`, `[wq, wk, wv]`, `wo`.
struct SelfAttn {
    g1: Tensor<1>,
    qkv: [Tensor<2>; 3],
    wo: Tensor<2>,
}

impl SelfAttn {
    fn of(norm: &RmsNorm, attn: &Attention) -> Option<Self> {
        let [wq, wk, wv, wo] = attn.weights();
        Some(Self {
            g1: scale(norm)?,
            qkv: [wq, wk, wv],
            wo,
        })
    }

    /// The layer's queries, keys and values of `x` (`[rows, d]`) → `[3, rows, inner]`.
    fn project(&self, x: &FloatTensor<Dispatch>) -> FloatTensor<Dispatch> {
        let [wq, wk, wv] = &self.qkv;
        <Dispatch as FusedRowOps>::norm_project3(
            x.clone(),
            prim(&self.g1),
            prim(wq),
            prim(wk),
            prim(wv),
        )
    }
}

/// Feed-forward weights and norm of one layer: `gf`, `wi`, `wf`.
struct FeedFwd {
    gf: Tensor<1>,
    wi: Tensor<2>,
    wf: Tensor<2>,
}

/// One decoder layer's cross-attention: `g2`, `cq`, `co`, and `ck`, `cv` for the history.
struct CrossAttn {
    g2: Tensor<1>,
    cq: Tensor<2>,
    co: Tensor<2>,
    ck: Tensor<2>,
    cv: Tensor<2>,
}

/// The weights of a model that the fused kernels read, and the relative-position buckets of a
/// history and a target length (the only device work: two small uploads).
pub struct FusedModel {
    embed: Tensor<2>,
    encoder: Vec<(SelfAttn, FeedFwd)>,
    encoder_table: Tensor<2>,
    /// The encoder's bucket line for the history's length (`RelativeBias::bucket_line`).
    encoder_line: Tensor<1>,
    encoder_norm: Tensor<1>,
    decoder: Vec<(SelfAttn, CrossAttn, FeedFwd)>,
    decoder_table: Tensor<2>,
    /// The decoder's bucket line for the longest target.
    decoder_line: Tensor<1>,
    decoder_norm: Tensor<1>,
    head: Tensor<2>,
}

impl FusedModel {
    /// The fused path for `model` with histories of `src` tokens and targets of `t`, or `None`
    /// when its shape does not fit the kernels ([`fits`]) or a norm's epsilon differs from theirs.
    pub fn of(model: &Seq2Seq, src: usize, t: usize) -> Option<Self> {
        let d = model.embed.weight.dims()[1];
        let layer = model.decoder.first()?;
        let [wq, _, _, _] = layer.self_attn.weights();
        let inner = wq.dims()[1];
        let (_, heads) = model.decoder_bias.shape();
        let dff = layer.ff.wi.weight.dims()[1];
        if heads == 0 || !inner.is_multiple_of(heads) || !fits(d, heads, inner / heads, dff, src, t)
        {
            return None;
        }
        let ff = |norm: &RmsNorm, f: &crate::seq2seq::model::FeedForward| {
            Some(FeedFwd {
                gf: scale(norm)?,
                wi: weight(&f.wi),
                wf: weight(&f.wo),
            })
        };
        let encoder = model
            .encoder
            .iter()
            .map(|l| Some((SelfAttn::of(&l.norm1, &l.attn)?, ff(&l.norm2, &l.ff)?)))
            .collect::<Option<Vec<_>>>()?;
        let decoder = model
            .decoder
            .iter()
            .map(|l| {
                let [cq, ck, cv, co] = l.cross_attn.weights();
                Some((
                    SelfAttn::of(&l.norm1, &l.self_attn)?,
                    CrossAttn {
                        g2: scale(&l.norm2)?,
                        cq,
                        co,
                        ck,
                        cv,
                    },
                    ff(&l.norm3, &l.ff)?,
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        let device = model.embed.weight.device();
        let line = |bias: &crate::seq2seq::relpos::RelativeBias, len: usize| {
            Tensor::<1>::from_data(
                TensorData::new(bias.bucket_line(len), [2 * len - 1]),
                &device,
            )
        };
        Some(Self {
            embed: model.embed.weight.val(),
            encoder,
            encoder_table: model.encoder_bias.table(),
            encoder_line: line(&model.encoder_bias, src.max(1)),
            encoder_norm: scale(&model.encoder_norm)?,
            decoder,
            decoder_table: model.decoder_bias.table(),
            decoder_line: line(&model.decoder_bias, t.max(1)),
            decoder_norm: scale(&model.decoder_norm)?,
            head: weight(&model.head),
        })
    }

    /// Encodes histories and projects every decoder layer's cross-attention keys and values:
    /// `tokens` `[queries, src]`, `keybias` `[queries, src]` (0 for a token, −1e9 for padding)
    /// → one `[2, queries · src, inner]` (keys, values) per decoder layer.
    pub fn encode(
        &self,
        tokens: Tensor<2, Int>,
        keybias: &Tensor<2>,
    ) -> Vec<FloatTensor<Dispatch>> {
        let [queries, src] = tokens.dims();
        let d = self.embed.dims()[1];
        let x: Tensor<3> = self
            .embed
            .clone()
            .select(0, tokens.reshape([queries * src]))
            .reshape([queries, src, d]);
        let (table, line, keybias) = (
            prim(&self.encoder_table),
            prim(&self.encoder_line),
            prim(keybias),
        );
        let mut x = x.inner().into_dispatch();
        for (attn, ff) in &self.encoder {
            let qkv = attn.project(&x);
            x = <Dispatch as FusedRowOps>::encoder_rest(
                x,
                qkv,
                prim(&attn.wo),
                table.clone(),
                line.clone(),
                keybias.clone(),
                prim(&ff.gf),
                prim(&ff.wi),
                prim(&ff.wf),
            );
        }
        self.decoder
            .iter()
            .map(|(_, cross, _)| {
                <Dispatch as FusedRowOps>::norm_project2(
                    x.clone(),
                    prim(&self.encoder_norm),
                    prim(&cross.ck),
                    prim(&cross.cv),
                )
            })
            .collect()
    }

    /// One decoding step's beam scores: `tokens` `[n · t]` (each hypothesis' BOS and prefix),
    /// `kv` from [`FusedModel::encode`], `keybias` `[queries, src]` as for
    /// [`FusedModel::encode`], `add` `[n, 1 + width]` (each hypothesis' score, then the mask of
    /// the position's `width` values, which start at vocabulary entry `start`) → `[n, width]`:
    /// log-probability plus mask plus score.
    #[allow(clippy::too_many_arguments)]
    pub fn step_scores(
        &self,
        tokens: Tensor<1, Int>,
        t: usize,
        kv: &[FloatTensor<Dispatch>],
        keybias: &Tensor<2>,
        add: Tensor<2>,
        start: usize,
    ) -> Tensor<2> {
        let n = tokens.dims()[0] / t.max(1);
        let d = self.embed.dims()[1];
        let x: Tensor<3> = self.embed.clone().select(0, tokens).reshape([n, t, d]);
        let mut x = x.inner().into_dispatch();
        let (table, line, keybias) = (
            prim(&self.decoder_table),
            prim(&self.decoder_line),
            prim(keybias),
        );
        for ((attn, cross, ff), ckv) in self.decoder.iter().zip(kv) {
            let qkv = attn.project(&x);
            x = <Dispatch as FusedRowOps>::decoder_rest(
                x,
                qkv,
                prim(&attn.wo),
                table.clone(),
                line.clone(),
                keybias.clone(),
                prim(&cross.g2),
                prim(&cross.cq),
                prim(&cross.co),
                ckv.clone(),
                prim(&ff.gf),
                prim(&ff.wi),
                prim(&ff.wf),
            );
        }
        Tensor::from_dispatch(<Dispatch as FusedRowOps>::head_scores(
            x,
            prim(&self.decoder_norm),
            prim(&self.head),
            prim(&add),
            start,
        ))
    }
}
