//! The attention core of a training step (scores, bias, softmax, dropout, weighted values),
//! forward and backward, timed alone at the recommender's shapes: how much of the T5 step it is,
//! and what the fused kernel changes.

use burn::nn::DropoutConfig;
use burn::prelude::*;
use burn::tensor::Distribution;
use serde::Serialize;

use super::matmul::time;
use tiger_kernels::attention::attend;

/// One timed attention shape.
#[derive(Debug, Clone, Serialize)]
pub struct AttentionRow {
    /// The shape and pass timed.
    pub case: String,
    /// Milliseconds per call (mean over the timed calls, device work included).
    pub ms: f64,
    /// Useful floating-point rate, TFLOP/s (4·b·h·tq·tk·d forward, three times that with backward).
    pub tflops: f64,
}

/// An attention shape: `[batch, heads, tq, tk, d_head]` and its name.
pub type Shape5 = (&'static str, [usize; 5]);

/// The recommender's attention shapes at a batch of `batch` histories of `src` tokens and a
/// target of `tgt`: encoder self-attention, decoder self-attention, cross-attention.
pub fn t5_shapes(batch: usize, src: usize, tgt: usize) -> Vec<Shape5> {
    vec![
        ("encoder self", [batch, 6, src, src, 64]),
        ("decoder self", [batch, 6, tgt, tgt, 64]),
        ("cross", [batch, 6, tgt, src, 64]),
    ]
}

/// Times [`attend`] forward (inference: no gradients, no dropout), and forward + backward
/// (training: dropout 0.1), for each shape: a learned bias shared by the batch (`[1, heads, tq,
/// tk]`, as the relative-position bias) plus a key mask (`[batch, 1, 1, tk]`).
pub fn run(
    device: &Device,
    shapes: &[Shape5],
    reps: usize,
    mut report: impl FnMut(&AttentionRow),
) -> Result<Vec<AttentionRow>, String> {
    let mut rows = Vec::new();
    let ad = device.clone().autodiff();
    let dropout = DropoutConfig::new(0.1).init();
    for (name, [b, h, tq, tk, d]) in shapes.iter().copied() {
        let flops = 4.0 * (b * h * tq * tk * d) as f64;
        let rand = |s: [usize; 4]| Tensor::<4>::random(s, Distribution::Normal(0.0, 1.0), &ad);
        let q = rand([b, h, tq, d]).require_grad();
        let k = rand([b, h, tk, d]).require_grad();
        let v = rand([b, h, tk, d]).require_grad();
        let rel = rand([1, h, tq, tk]).require_grad();
        let mask = Tensor::<4>::zeros([b, 1, 1, tk], &ad);
        let g = rand([b, h, tq, d]);
        let shape = format!("{name} [{b}x{h}x{tq}x{tk}x{d}]");
        // Forward alone as inference runs it: off the autodiff device (no tape, no dropout).
        let plain = |t: &Tensor<4>| t.clone().inner();
        let (qi, ki, vi, bi) = (plain(&q), plain(&k), plain(&v), plain(&rel) + plain(&mask));
        let ms = time(device, reps, || {
            let _ = attend(qi.clone(), ki.clone(), vi.clone(), bi.clone(), &dropout);
        })?;
        let mut push = |case: String, ms: f64, flops: f64| {
            let r = AttentionRow {
                case,
                ms,
                tflops: flops / (ms / 1000.0) / 1e12,
            };
            report(&r);
            rows.push(r);
        };
        push(format!("{shape} forward"), ms, flops);
        let ms = time(device, reps, || {
            let bias = rel.clone() + mask.clone();
            let out = attend(q.clone(), k.clone(), v.clone(), bias, &dropout);
            let _ = (out * g.clone()).sum().backward();
        })?;
        push(format!("{shape} forward + backward"), ms, 3.0 * flops);
    }
    Ok(rows)
}
