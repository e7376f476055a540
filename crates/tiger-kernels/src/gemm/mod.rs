//! The linear layers' matrix products in a kernel of our own (CubeCL) instead of cubecl's
//! generic matmul.
//!
//! A kernel profile of the recommender's training step put about half of its GPU time in
//! cubecl's unit matmul at these shapes: 20,736 tokens times 128 → 1152, 384 → 128, 128 → 1024
//! and 1024 → 128 weights, forward, input gradient and weight gradient
//! (`docs/performance.md`). [`kernels::gemm_kernel`] is a register-tiled fp32 product that reads
//! a transposed input in place and splits a long inner dimension (the weight gradient's sum over
//! every token) into parts summed by a second kernel. The operations are burn backend extensions
//! ([`ops`]) ordered in the fusion stream; [`autodiff`] records the backward. [`product`] picks
//! this path on the GPU for sizes that are multiples of 4 unless `TIGER_KERNELS` turns `gemm` off.

mod autodiff;
mod backend;
pub mod kernels;
pub mod ops;

use burn::backend::Dispatch;
use burn::prelude::*;

use crate::choice::Kernel;
use ops::GemmLinear;

pub use backend::split;

/// Whether the kernel takes `[rows, d_in] · [d_in, d_out]` on `device`: on the GPU, `rows` and
/// `d_in` nonzero multiples of 4 (the kernel reads four-float vectors along every dimension in
/// one of the three products of training; [`product`] pads `d_out` to a multiple of 4).
pub fn applies(device: &Device, rows: usize, d_in: usize, d_out: usize) -> bool {
    let fits = [rows, d_in].iter().all(|&n| n > 0 && n.is_multiple_of(4)) && d_out > 0;
    Kernel::Gemm.on() && fits && crate::device::is_gpu(device)
}

/// `x` `[rows, d_in]` times `weight` `[d_in, d_out]` → `[rows, d_out]` through the kernel, with
/// both gradients through it while training. A `d_out` that is not a multiple of 4 (the output
/// layer over the vocabulary) is padded with zero columns and the padding sliced off the
/// product. `None`: not on the GPU, switched off, or sizes the kernel does not take.
pub fn product(x: &Tensor<2>, weight: &Tensor<2>) -> Option<Tensor<2>> {
    let [rows, d_in] = x.dims();
    let [w_in, d_out] = weight.dims();
    if w_in != d_in || !applies(&x.device(), rows, d_in, d_out) {
        return None;
    }
    Kernel::Gemm.count();
    let pad = d_out.next_multiple_of(4) - d_out;
    let w = if pad == 0 {
        weight.clone()
    } else {
        let zeros = Tensor::<2>::zeros([d_in, pad], &weight.device());
        Tensor::cat(vec![weight.clone(), zeros], 1)
    };
    let out = <Dispatch as GemmLinear>::gemm_linear(x.clone().into_dispatch(), w.into_dispatch());
    let y = Tensor::<2>::from_dispatch(out);
    Some(if pad == 0 { y } else { y.narrow(1, 0, d_out) })
}

/// Rows `idx` (`[batch]`) of `table` (`[rows, dim]`) → `[batch, dim]` as the product of a one-hot
/// matrix with `table` through the kernel, while training on the GPU (see
/// `row_lookup::one_hot_rows`, whose product and weight gradient otherwise go to burn's matmul:
/// for the relative-position bias a `[32, 6561] · [6561, 6]` gradient on a single workgroup).
/// The batch is padded to a multiple of 4 with rows that match no index. `None` where the kernel
/// does not apply.
pub fn one_hot_product(table: &Tensor<2>, idx: &Tensor<1, Int>) -> Option<Tensor<2>> {
    let [batch] = idx.dims();
    let [rows, dim] = table.dims();
    let padded = batch.next_multiple_of(4);
    if !table.is_autodiff() || !applies(&table.device(), padded, rows, dim) {
        return None;
    }
    let device = idx.device();
    let idx = if padded == batch {
        idx.clone()
    } else {
        let none = Tensor::<1, Int>::full([padded - batch], -1, &device);
        Tensor::cat(vec![idx.clone(), none], 0)
    };
    let out = product(&crate::row_lookup::one_hot(idx, rows), table)?;
    Some(if padded == batch {
        out
    } else {
        out.narrow(0, 0, batch)
    })
}
