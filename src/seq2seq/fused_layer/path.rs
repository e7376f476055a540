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

/// The weights of a model that the fused kernels read, gathered once (no device work).
pub struct FusedModel {
    embed: Tensor<2>,
    encoder: Vec<(SelfAttn, FeedFwd)>,
    encoder_norm: Tensor<1>,
    decoder: Vec<(SelfAttn, CrossAttn, FeedFwd)>,
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
        Some(Self {
            embed: model.embed.weight.val(),
            encoder,
            encoder_norm: scale(&model.encoder_norm)?,
            decoder,
            decoder_norm: scale(&model.decoder_norm)?,
            head: weight(&model.head),
        })
    }

    /// Encodes histories and projects every decoder layer's cross-attention keys and values:
    /// `tokens` `[queries, src]`, `bias` from [`Seq2Seq::encoder_attention_bias`] → one
    /// `[2, queries, src, inner]` (keys, values) per decoder layer.
    pub fn encode(&self, tokens: Tensor<2, Int>, bias: Tensor<4>) -> Vec<Tensor<4>> {
        let [queries, src] = tokens.dims();
        let rows = queries * src;
        let x = self.embed.clone().select(0, tokens.reshape([rows]));
        let bias = prim(&bias);
        let mut x = x.inner().into_dispatch();
        for (attn, ff) in &self.encoder {
            let qkv = attn.project(&x);
            x = <Dispatch as FusedRowOps>::encoder_rest(
                x,
                qkv,
                bias.clone(),
                prim(&attn.wo),
                prim(&ff.gf),
                prim(&ff.wi),
                prim(&ff.wf),
            );
        }
        self.decoder
            .iter()
            .map(|(_, cross, _)| {
                let kv = <Dispatch as FusedRowOps>::norm_project2(
                    x.clone(),
                    prim(&self.encoder_norm),
                    prim(&cross.ck),
                    prim(&cross.cv),
                );
                let kv: Tensor<3> = Tensor::from_dispatch(kv);
                let inner = kv.dims()[2];
                kv.reshape([2, queries, src, inner])
            })
            .collect()
    }

    /// One decoding step's beam scores: `tokens` `[n · t]` (each hypothesis' BOS and prefix),
    /// `kv` from [`FusedModel::encode`], `self_bias` `[1, heads, t, t]`, `cross_bias`
    /// `[queries, 1, 1, src]`, `add` `[n, 1 + width]` (each hypothesis' score, then the mask of
    /// the position's `width` values, which start at vocabulary entry `start`) → `[n, width]`:
    /// log-probability plus mask plus score.
    #[allow(clippy::too_many_arguments)]
    pub fn step_scores(
        &self,
        tokens: Tensor<1, Int>,
        t: usize,
        kv: &[Tensor<4>],
        self_bias: Tensor<4>,
        cross_bias: Tensor<4>,
        add: Tensor<2>,
        start: usize,
    ) -> Tensor<2> {
        let mut x = self.embed.clone().select(0, tokens).inner().into_dispatch();
        let (sbias, cbias) = (prim(&self_bias), prim(&cross_bias));
        for ((attn, cross, ff), ckv) in self.decoder.iter().zip(kv) {
            let qkv = attn.project(&x);
            x = <Dispatch as FusedRowOps>::decoder_rest(
                x,
                qkv,
                sbias.clone(),
                prim(&attn.wo),
                prim(&cross.g2),
                prim(&cross.cq),
                prim(&cross.co),
                prim(ckv),
                cbias.clone(),
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
            t,
            start,
        ))
    }
}
