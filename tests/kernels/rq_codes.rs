//! The fused nearest-codeword kernel (one GPU kernel for all levels) against a host reference in
//! f64, on burn-wgpu (Mesa's software Vulkan in CI). Set TIGER_REQUIRE_WGPU=1 to fail rather than
//! skip when no adapter exists.

use crate::support;

use burn::prelude::*;
use tiger_kernels::rq_codes;
use tiger_models::rqvae::{RqVaeConfig, quantizer};

/// A deterministic pseudo-random value in [-1, 1).
fn noise(i: usize, salt: usize) -> f32 {
    let x = (i as u64 + 1).wrapping_mul(6364136223846793005)
        ^ (salt as u64).wrapping_mul(1442695040888963407);
    let x = x ^ (x >> 29);
    ((x.wrapping_mul(0x9E3779B97F4A7C15) >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
}

/// Residual quantization on the host in f64: codes `[rows, levels]` (lowest index on a tie).
fn host_codes(z: &[f32], dim: usize, books: &[Vec<f32>], codes: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for row in z.chunks(dim) {
        let mut r: Vec<f64> = row.iter().map(|&v| v as f64).collect();
        for book in books {
            let dist = |k: usize| -> f64 {
                (0..dim)
                    .map(|j| (r[j] - book[k * dim + j] as f64).powi(2))
                    .sum()
            };
            let best = (0..codes).fold(0, |b, k| if dist(k) < dist(b) { k } else { b });
            for j in 0..dim {
                r[j] -= book[best * dim + j] as f64;
            }
            out.push(best as i64);
        }
    }
    out
}

fn tensor(v: &[f32], shape: [usize; 2], d: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), d)
}

#[test]
fn fused_codes_match_a_host_reference_on_wgpu() {
    let _rng = support::device_rng();
    let Some(gpu) = support::gpu_or_skip() else {
        return;
    };
    assert!(rq_codes::available(&gpu));
    assert!(rq_codes::available(&gpu.clone().autodiff()));
    assert!(!rq_codes::available(&Device::flex()));

    // Code counts below, at and above one workgroup (256), not powers of two, several dims, and
    // more rows than one grid dimension holds (65,535 workgroups).
    for (rows, dim, codes, levels) in [
        (64, 8, 16, 3),
        (37, 32, 100, 3),
        (20, 5, 300, 2),
        (9, 32, 256, 4),
        (70_000, 3, 4, 2),
    ] {
        let z: Vec<f32> = (0..rows * dim).map(|i| noise(i, 1) * 2.0).collect();
        let books: Vec<Vec<f32>> = (0..levels)
            .map(|l| {
                (0..codes * dim)
                    .map(|i| noise(i, 10 + l) / (l + 1) as f32)
                    .collect()
            })
            .collect();
        let want = host_codes(&z, dim, &books, codes);
        let book_tensors: Vec<Tensor<2>> = books
            .iter()
            .map(|b| tensor(b, [codes, dim], &gpu))
            .collect();
        let got: Vec<i64> = quantizer::codes(tensor(&z, [rows, dim], &gpu), &book_tensors)
            .try_into_vec_as()
            .unwrap();
        assert_eq!(
            got, want,
            "rows {rows}, dim {dim}, codes {codes}, levels {levels}"
        );
        // The tensor path on the CPU agrees with both.
        let flex_books: Vec<Tensor<2>> = books
            .iter()
            .map(|b| tensor(b, [codes, dim], &Device::flex()))
            .collect();
        let cpu: Vec<i64> =
            quantizer::tensor_codes(tensor(&z, [rows, dim], &Device::flex()), &flex_books)
                .try_into_vec_as()
                .unwrap();
        assert_eq!(
            cpu, want,
            "tensor path, rows {rows}, dim {dim}, codes {codes}"
        );
    }

    // Duplicate codewords: the lowest index wins, as with argmin.
    let book = [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0];
    let z = [0.1, 0.0, 0.9, 1.2];
    let got: Vec<i64> = quantizer::codes(tensor(&z, [2, 2], &gpu), &[tensor(&book, [4, 2], &gpu)])
        .try_into_vec_as()
        .unwrap();
    assert_eq!(got, vec![1, 0]);

    // Under autodiff, the training pass uses the kernel and its codes equal the inference codes;
    // the codebooks still receive gradients through the gathered codewords.
    let ad = gpu.clone().autodiff();
    let model = RqVaeConfig::new(12)
        .with_hidden_dims(vec![16])
        .with_latent_dim(4)
        .with_codebook_size(8)
        .init(&ad);
    let x = Tensor::<2>::from_data(
        TensorData::new(
            (0..40 * 12).map(|i| noise(i, 99)).collect::<Vec<f32>>(),
            [40, 12],
        ),
        &ad,
    );
    let out = model.forward(x.clone());
    let train_codes: Vec<i64> = out.codes.clone().try_into_vec_as().unwrap();
    let infer_codes: Vec<i64> = model.codes(x.inner()).try_into_vec_as().unwrap();
    assert_eq!(train_codes, infer_codes);
    let loss = out.recon_loss + out.quant_losses.into_iter().reduce(|a, b| a + b).unwrap();
    let grads = loss.backward();
    for book in &model.codebooks {
        let g: Vec<f32> = book
            .val()
            .grad(&grads)
            .expect("codebook gradient")
            .try_into_vec_as()
            .unwrap();
        assert!(g.iter().any(|v| *v != 0.0), "a codebook got no gradient");
    }
}
