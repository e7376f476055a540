//! The model's inference path through the fused kernels: its weights gathered once per query
//! batch, the encoder with every decoder layer's cross-attention keys and values, and one decoding
//! step's beam scores. Each uploads one tensor: cubecl-wgpu submits the queue before every write,
//! so an upload costs as much as several launches (`docs/performance.md`).

use burn::backend::Dispatch;
use burn::backend::tensor::FloatTensor;
use burn::nn::{Linear, RmsNorm};
use burn::prelude::*;

use crate::tiger::batch::HostBatch;
use crate::tiger::model::Tiger;
use tiger_kernels::attention::Attention;
use tiger_kernels::fused_decoder::{EPSILON, FusedRowOps, fits};

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

    /// The norm scale and projections the previous layer's kernel applies for this layer.
    fn inputs(&self) -> [FloatTensor<Dispatch>; 4] {
        let [wq, wk, wv] = &self.qkv;
        [prim(&self.g1), prim(wq), prim(wk), prim(wv)]
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

/// The weights of a model that the fused kernels read (no device work to gather them), and the
/// relative-position buckets of a history length and a target length.
pub struct FusedModel {
    embed: Tensor<2>,
    encoder: Vec<(SelfAttn, FeedFwd)>,
    encoder_table: Tensor<2>,
    /// The encoder's bucket line for the history's length (`RelativeBias::bucket_line`).
    encoder_line: Vec<f32>,
    encoder_norm: Tensor<1>,
    decoder: Vec<(SelfAttn, CrossAttn, FeedFwd)>,
    decoder_table: Tensor<2>,
    /// The decoder's bucket line for the longest target.
    decoder_line: Vec<f32>,
    decoder_norm: Tensor<1>,
    head: Tensor<2>,
}

/// A query batch encoded by [`FusedModel::encode`].
pub struct FusedMemory {
    /// Per decoder layer, its cross-attention keys and values: a `[parts, queries · src, inner]`
    /// projection (up to four layers' keys and values, computed in one launch) and the index of
    /// the layer's pair in it.
    kv: Vec<(FloatTensor<Dispatch>, usize)>,
    /// The batch's upload: tokens, key masks (0 or −1e9), the encoder's and the decoder's bucket
    /// lines, in that order.
    aux: Tensor<1>,
    /// `[queries, src]`.
    shape: [usize; 2],
    /// Where the decoder's bucket line starts in `aux`, and its length.
    decoder_line: (usize, usize),
}

impl FusedModel {
    /// The fused path for `model` with histories of `src` tokens, targets of `t` and ID positions
    /// of at most `width` values, or `None` when its shape does not fit the kernels ([`fits`]), a
    /// stack has no layer, or a norm's epsilon differs from the kernels'.
    pub fn of(model: &Tiger, src: usize, t: usize, width: usize) -> Option<Self> {
        let d = model.embed.weight.dims()[1];
        let layer = model.decoder.first()?;
        let [wq, _, _, _] = layer.self_attn.weights();
        let inner = wq.dims()[1];
        let (_, heads) = model.decoder_bias.shape();
        let dff = layer.ff.wi.weight.dims()[1];
        if heads == 0
            || model.encoder.is_empty()
            || !inner.is_multiple_of(heads)
            || !fits(d, heads, inner / heads, dff, src, t, width)
        {
            return None;
        }
        let ff = |norm: &RmsNorm, f: &crate::tiger::model::FeedForward| {
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
            encoder_table: model.encoder_bias.table(),
            encoder_line: model.encoder_bias.bucket_line(src.max(1)),
            encoder_norm: scale(&model.encoder_norm)?,
            decoder,
            decoder_table: model.decoder_bias.table(),
            decoder_line: model.decoder_bias.bucket_line(t.max(1)),
            decoder_norm: scale(&model.decoder_norm)?,
            head: weight(&model.head),
        })
    }

    /// The longest history (`src` of [`FusedModel::of`]) and target this model's kernels were
    /// checked and its bucket lines built for.
    pub fn limits(&self) -> (usize, usize) {
        (
            self.encoder_line.len().div_ceil(2),
            self.decoder_line.len().div_ceil(2),
        )
    }

    /// Encodes a batch of histories and projects every decoder layer's cross-attention keys and
    /// values; `None` when the histories are longer than [`FusedModel::limits`] allows.
    pub fn encode(&self, batch: &HostBatch, device: &Device) -> Option<FusedMemory> {
        let [queries, src] = batch.shape;
        if src != self.limits().0 {
            return None;
        }
        let rows = queries * src;
        let mut aux: Vec<f32> = batch.tokens.iter().map(|&t| t as f32).collect();
        aux.extend(batch.mask.iter().map(|&m| if m == 0 { -1e9 } else { 0.0 }));
        let line = (aux.len(), self.encoder_line.len());
        aux.extend(&self.encoder_line);
        let decoder_line = (aux.len(), self.decoder_line.len());
        aux.extend(&self.decoder_line);
        let len = aux.len();
        let aux = Tensor::<1>::from_data(TensorData::new(aux, [len]), device);
        let (table, aux_p) = (prim(&self.encoder_table), prim(&aux));
        let mut state = self.embed_project(&self.encoder[0].0, aux_p.clone(), queries, src);
        let mut x = None;
        for (l, (attn, ff)) in self.encoder.iter().enumerate() {
            let [wo, gf, wi, wf] = [prim(&attn.wo), prim(&ff.gf), prim(&ff.wi), prim(&ff.wf)];
            let (table, aux) = (table.clone(), aux_p.clone());
            match self.encoder.get(l + 1) {
                Some((next, _)) => {
                    let [gn, wq, wk, wv] = next.inputs();
                    state = <Dispatch as FusedRowOps>::encoder_next(
                        state, wo, table, aux, gf, wi, wf, gn, wq, wk, wv, rows, line.0, line.1,
                    );
                }
                None => {
                    x = Some(<Dispatch as FusedRowOps>::encoder_last(
                        state.clone(),
                        wo,
                        table,
                        aux,
                        gf,
                        wi,
                        wf,
                        rows,
                        line.0,
                        line.1,
                    ));
                }
            }
        }
        // `of` requires an encoder layer, so the loop's last turn set `x`.
        let x = x.unwrap_or(state);
        // Four layers' keys and values per launch, then one launch per remaining layer.
        let g = prim(&self.encoder_norm);
        let pairs: Vec<[FloatTensor<Dispatch>; 2]> = self
            .decoder
            .iter()
            .map(|(_, c, _)| [prim(&c.ck), prim(&c.cv)])
            .collect();
        let mut kv = Vec::with_capacity(pairs.len());
        let mut chunks = pairs.chunks_exact(4);
        for chunk in chunks.by_ref() {
            if let [[w0, w1], [w2, w3], [w4, w5], [w6, w7]] = chunk {
                let p = <Dispatch as FusedRowOps>::norm_project8(
                    x.clone(),
                    g.clone(),
                    w0.clone(),
                    w1.clone(),
                    w2.clone(),
                    w3.clone(),
                    w4.clone(),
                    w5.clone(),
                    w6.clone(),
                    w7.clone(),
                );
                kv.extend((0..4).map(|i| (p.clone(), i)));
            }
        }
        for [ck, cv] in chunks.remainder() {
            let p = <Dispatch as FusedRowOps>::norm_project2(
                x.clone(),
                g.clone(),
                ck.clone(),
                cv.clone(),
            );
            kv.push((p, 0));
        }
        Some(FusedMemory {
            kv,
            aux,
            shape: batch.shape,
            decoder_line,
        })
    }

    /// The first layer's state for token ids (floats) at the start of `ids`: `[seqs, len, d + 3 ·
    /// inner]`.
    fn embed_project(
        &self,
        first: &SelfAttn,
        ids: FloatTensor<Dispatch>,
        seqs: usize,
        len: usize,
    ) -> FloatTensor<Dispatch> {
        let [g, wq, wk, wv] = first.inputs();
        <Dispatch as FusedRowOps>::embed_project(
            prim(&self.embed),
            ids,
            g,
            wq,
            wk,
            wv,
            0,
            seqs,
            len,
        )
    }

    /// One decoding step's beam scores for `n` hypotheses of `t` tokens (each one's BOS and
    /// prefix, row-major in `tokens`) over the queries of `memory`: `add` holds, row-major
    /// `[n, 1 + width]`, each hypothesis' score and the mask of the position's `width` values,
    /// which start at vocabulary entry `start` → `[n, width]`: log-probability plus mask plus
    /// score. Uploads tokens and `add` together. `t` must be at most the target limit of
    /// [`FusedModel::limits`] (the decoder's bucket line is built for it).
    pub fn step_scores(
        &self,
        memory: &FusedMemory,
        tokens: &[i64],
        t: usize,
        add: &[f32],
        start: usize,
    ) -> Tensor<2> {
        let t = t.max(1);
        let n = tokens.len() / t;
        let width = (add.len() / n.max(1)).saturating_sub(1);
        let device = memory.aux.device();
        let mut step: Vec<f32> = tokens.iter().map(|&v| v as f32).collect();
        step.extend_from_slice(add);
        let len = step.len();
        let step = Tensor::<1>::from_data(TensorData::new(step, [len]), &device);
        self.step_scores_on(memory, &step, n, t, width, start)
    }

    /// [`Self::step_scores`] from a step buffer already on the device (`tokens [n, t] | add [n, 1
    /// + width] | …`, as `tiger_kernels::fused_decoder::select` writes it): no upload.
    pub fn step_scores_on(
        &self,
        memory: &FusedMemory,
        step: &Tensor<1>,
        n: usize,
        t: usize,
        width: usize,
        start: usize,
    ) -> Tensor<2> {
        let step = prim(step);
        let (table, aux) = (prim(&self.decoder_table), prim(&memory.aux));
        let [queries, src] = memory.shape;
        let (key_off, line) = (queries * src, memory.decoder_line);
        let mut state = self.embed_project(&self.decoder[0].0, step.clone(), n, t);
        for (l, ((attn, cross, ff), (ckv, pair))) in self.decoder.iter().zip(&memory.kv).enumerate()
        {
            let [wo, g2, cq, co] = [
                prim(&attn.wo),
                prim(&cross.g2),
                prim(&cross.cq),
                prim(&cross.co),
            ];
            let [gf, wi, wf] = [prim(&ff.gf), prim(&ff.wi), prim(&ff.wf)];
            let (table, aux, ckv) = (table.clone(), aux.clone(), ckv.clone());
            match self.decoder.get(l + 1) {
                Some((next, _, _)) => {
                    let [gn, wq, wk, wv] = next.inputs();
                    state = <Dispatch as FusedRowOps>::decoder_next(
                        state, wo, table, aux, g2, cq, co, ckv, gf, wi, wf, gn, wq, wk, wv,
                        key_off, src, line.0, line.1, *pair,
                    );
                }
                None => {
                    return Tensor::from_dispatch(<Dispatch as FusedRowOps>::decoder_head(
                        state,
                        wo,
                        table,
                        aux,
                        g2,
                        cq,
                        co,
                        ckv,
                        gf,
                        wi,
                        wf,
                        prim(&self.decoder_norm),
                        prim(&self.head),
                        step,
                        key_off,
                        src,
                        line.0,
                        line.1,
                        *pair,
                        n * t,
                        start,
                        width,
                    ));
                }
            }
        }
        // `of` takes the decoder's first layer, so the loop returned at its last.
        unreachable!("a fused model has at least one decoder layer")
    }
}
