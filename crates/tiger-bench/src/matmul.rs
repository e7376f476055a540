//! The matrix products a training step spends its time in, timed alone: the forward product of a
//! linear layer, its weight gradient (a product over every token: long inner dimension, small
//! output) computed in one piece or split into `S` partial products summed afterwards, and a
//! whole linear layer forward + backward both ways; then the same through our kernel
//! (`tiger_kernels::gemm`) where it applies.

use std::time::Instant;

use burn::prelude::*;
use burn::tensor::Distribution;
use serde::Serialize;

/// One timed product.
#[derive(Debug, Clone, Serialize)]
pub struct MatmulRow {
    /// What was timed.
    pub case: String,
    /// Milliseconds per call (mean over the timed calls, device work included).
    pub ms: f64,
    /// Useful floating-point rate, TFLOP/s (2·M·N·K per product).
    pub tflops: f64,
}

/// Milliseconds per call of `f` over `reps` calls after 3 warm-up calls, device work included.
pub(crate) fn time(device: &Device, reps: usize, mut f: impl FnMut()) -> Result<f64, String> {
    for _ in 0..3 {
        f();
    }
    device.sync().map_err(|e| e.to_string())?;
    let t = Instant::now();
    for _ in 0..reps {
        f();
    }
    device.sync().map_err(|e| e.to_string())?;
    Ok(t.elapsed().as_secs_f64() * 1000.0 / reps as f64)
}

fn row(case: String, ms: f64, flops: f64) -> MatmulRow {
    MatmulRow {
        case,
        ms,
        tflops: flops / (ms / 1000.0) / 1e12,
    }
}

/// Times the weight-gradient product `[d_in, tokens] @ [tokens, d_out]` whole and split `splits`
/// ways, for each `(d_in, d_out)` pair, then a linear layer forward + backward over `[tokens,
/// d_in]` with the weight gradient whole (burn's `Linear`) or split (batched product with a
/// broadcast weight).
pub fn run(
    device: &Device,
    tokens: usize,
    pairs: &[(usize, usize)],
    splits: &[usize],
    reps: usize,
    mut report: impl FnMut(&MatmulRow),
) -> Result<Vec<MatmulRow>, String> {
    let mut rows = Vec::new();
    let mut push = |r: MatmulRow, rows: &mut Vec<MatmulRow>| {
        report(&r);
        rows.push(r);
    };
    for &(d_in, d_out) in pairs {
        let flops = 2.0 * (d_in * d_out * tokens) as f64;
        let x = Tensor::<2>::random([tokens, d_in], Distribution::Default, device);
        let g = Tensor::<2>::random([tokens, d_out], Distribution::Default, device);
        let w = Tensor::<2>::random([d_in, d_out], Distribution::Default, device);
        let ms = time(device, reps, || {
            let _ = x.clone().matmul(w.clone());
        })?;
        push(
            row(
                format!("forward [{tokens}x{d_in}]@[{d_in}x{d_out}]"),
                ms,
                flops,
            ),
            &mut rows,
        );
        let xt = x.clone().transpose();
        let ms = time(device, reps, || {
            let _ = xt.clone().matmul(g.clone());
        })?;
        push(
            row(
                format!("weight grad [{d_in}x{tokens}]@[{tokens}x{d_out}] whole"),
                ms,
                flops,
            ),
            &mut rows,
        );
        for &s in splits {
            if tokens % s != 0 {
                continue;
            }
            let xs = x.clone().reshape([s, tokens / s, d_in]).swap_dims(1, 2);
            let gs = g.clone().reshape([s, tokens / s, d_out]);
            let ms = time(device, reps, || {
                let _ = xs.clone().matmul(gs.clone()).sum_dim(0);
            })?;
            push(
                row(format!("weight grad split {s} + sum"), ms, flops),
                &mut rows,
            );
        }
        // The same products through our kernel (`tiger_kernels::gemm`), where it applies.
        let kernel = tiger_kernels::gemm::applies(device, tokens, d_in, d_out);
        if kernel {
            let product = |a: &Tensor<2>, b: &Tensor<2>| {
                let _ = tiger_kernels::gemm::product(a, b);
            };
            let ms = time(device, reps, || product(&x, &w))?;
            push(row("forward, kernel".into(), ms, flops), &mut rows);
            let ms = time(device, reps, || product(&xt, &g))?;
            let (parts, _) =
                tiger_kernels::gemm::split(d_in.div_ceil(128) * d_out.div_ceil(128), tokens);
            push(
                row(format!("weight grad, kernel ({parts} parts)"), ms, flops),
                &mut rows,
            );
        }
        // A whole layer, forward and backward, as training runs it.
        let ad = device.clone().autodiff();
        let xa = Tensor::<2>::random([tokens, d_in], Distribution::Default, &ad);
        let wa = Tensor::<2>::random([d_in, d_out], Distribution::Default, &ad).require_grad();
        let ms = time(device, reps, || {
            let y = burn::tensor::module::linear(xa.clone(), wa.clone(), None);
            let _ = y.sum().backward();
        })?;
        push(
            row(
                format!("linear fwd+bwd [{tokens}x{d_in}]->{d_out} whole"),
                ms,
                3.0 * flops,
            ),
            &mut rows,
        );
        if kernel {
            let ms = time(device, reps, || {
                if let Some(y) = tiger_kernels::gemm::product(&xa, &wa) {
                    let _ = y.sum().backward();
                }
            })?;
            push(
                row("linear fwd+bwd, kernel".into(), ms, 3.0 * flops),
                &mut rows,
            );
        }
        for &s in splits {
            if tokens % s != 0 {
                continue;
            }
            let ms = time(device, reps, || {
                let y = xa
                    .clone()
                    .reshape([s, tokens / s, d_in])
                    .matmul(wa.clone().unsqueeze_dim::<3>(0));
                let _ = y.sum().backward();
            })?;
            push(
                row(format!("linear fwd+bwd split {s}"), ms, 3.0 * flops),
                &mut rows,
            );
        }
    }
    Ok(rows)
}
