//! One decoder layer of beam search's step in one GPU kernel (CubeCL, compiled to WGSL by
//! burn-wgpu).
//!
//! Written with the tensor API, a decoder layer is about 60 launches (norms, twelve small matrix
//! products, softmaxes, layout copies), and a single beam-search query ran about 1,100 launches:
//! the H200 then spent most of the query's 33 ms preparing launches, not computing
//! (`docs/benchmarks.md`). Here one workgroup takes one hypothesis and runs its whole layer —
//! RMSNorm, self-attention with the relative-position and causal bias, RMSNorm, cross-attention
//! over its query's projected history, RMSNorm, ReLU feed-forward, each with its residual — so a
//! layer is one launch (a query: about 1,100 launches → 234). The hypothesis' states stay in
//! shared memory, and so do its projections where the device's shared memory holds them (else a
//! per-hypothesis scratch buffer in device memory). Dot products keep eight loads in flight; sums
//! with fewer outputs than threads are split across threads.
//!
//! Inference only (no dropout, no gradients); it runs on burn's cube backend, and
//! [`use_for`] says when. [`super::scorer::ModelScorer`] falls back to the tensor path elsewhere.

mod blocks;
mod kernel;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use cubecl::prelude::*;

use kernel::{LayerDims, decoder_layer_kernel, scratch_len};

use super::model::Seq2Seq;
use crate::row_lookup::gather_rows;
use burn::nn::{Linear, RmsNorm};
use burn::prelude::{Int, Tensor as BurnTensor};
use std::sync::atomic::{AtomicBool, Ordering};

/// Threads per workgroup on a device that allows no more; 1,024 or 512 where the device allows.
const THREADS: usize = 256;
/// Workgroups per grid dimension that every Vulkan device allows; more rows use a second dimension.
const MAX_GROUPS_X: usize = 65_535;
/// The RMSNorm epsilon the kernel applies (the model's norms are built with it; see
/// [`super::model`]).
pub const EPSILON: f64 = 1e-6;
/// Shared memory (bytes) the kernel may count on without asking the device: WebGPU's minimum.
const SHARED_FLOOR: usize = 16 * 1024;

/// Whether the fused layer takes these shapes on any device: its states, scores and reduction
/// room (all in shared memory even when the projections' scratch is not) fit WebGPU's minimum
/// shared memory for targets of up to `t` tokens, width `d`, `heads` heads and `src` history
/// tokens, and its self-attention rows (one per head and token) fit the fewest threads a
/// workgroup gets. Larger shapes use the tensor path.
pub fn fits(t: usize, d: usize, heads: usize, src: usize) -> bool {
    let src_cap = src.next_power_of_two().max(16);
    heads * t <= THREADS
        && 4 * (2 * t * d + t + heads * t * t + t * src_cap + 4 * THREADS) <= SHARED_FLOOR
}

/// The fused layer as a burn backend operation (ordered in burn's fusion stream like any other).
#[backend_extension(Cube, Fusion)]
#[allow(clippy::too_many_arguments)]
pub trait DecoderLayerOps: Backend {
    /// One decoder layer for beam-search hypotheses; shapes as in `decoder_layer_kernel`:
    /// `x` `[n, t, d]` → `[n, t, d]`.
    #[fusion(dtype = burn::tensor::DType::F32, shape = x.clone())]
    fn fused_decoder_layer(
        x: FloatTensor<Self>,
        g1: FloatTensor<Self>,
        wq: FloatTensor<Self>,
        wk: FloatTensor<Self>,
        wv: FloatTensor<Self>,
        wo: FloatTensor<Self>,
        g2: FloatTensor<Self>,
        cq: FloatTensor<Self>,
        co: FloatTensor<Self>,
        g3: FloatTensor<Self>,
        wi: FloatTensor<Self>,
        wf: FloatTensor<Self>,
        ck: FloatTensor<Self>,
        cv: FloatTensor<Self>,
        sbias: FloatTensor<Self>,
        cbias: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl DecoderLayerOps for CubeBackend {
    fn fused_decoder_layer(
        x: FloatTensor<Self>,
        g1: FloatTensor<Self>,
        wq: FloatTensor<Self>,
        wk: FloatTensor<Self>,
        wv: FloatTensor<Self>,
        wo: FloatTensor<Self>,
        g2: FloatTensor<Self>,
        cq: FloatTensor<Self>,
        co: FloatTensor<Self>,
        g3: FloatTensor<Self>,
        wi: FloatTensor<Self>,
        wf: FloatTensor<Self>,
        ck: FloatTensor<Self>,
        cv: FloatTensor<Self>,
        sbias: FloatTensor<Self>,
        cbias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let x = into_contiguous(x);
        let [n, t, d] = x.meta.shape().dims::<3>();
        let heads = ck.meta.shape()[1];
        let src = ck.meta.shape()[2];
        let dh = ck.meta.shape()[3];
        let dff = wi.meta.shape()[1];
        let dtype = x.dtype;
        let out = empty_device_contiguous_dtype(
            x.client.clone(),
            x.device.clone(),
            Shape::new([n, t, d]),
            dtype,
        );
        if n == 0 || t == 0 {
            return out;
        }
        let props = x.client.properties();
        let max_units = props.hardware.max_units_per_cube as usize;
        let max_shared = props.hardware.max_shared_memory_size;
        let threads = [4 * THREADS, 2 * THREADS, THREADS]
            .into_iter()
            .find(|&threads| threads <= max_units)
            .unwrap_or(THREADS);
        let src_cap = src.next_power_of_two().max(16);
        let scratch = scratch_len(t, heads * dh, dff);
        let shared_bytes = 4 * (2 * t * d + t + heads * t * t + t * src_cap + threads + scratch);
        let dims = LayerDims {
            t,
            d,
            heads,
            dh,
            dff,
            src_cap,
            threads,
            shared_scratch: shared_bytes <= max_shared
                && !FORCE_DEVICE_SCRATCH.load(Ordering::Relaxed),
        };
        debug_assert!(
            fits(t, d, heads, src),
            "the scorer checks fused_layer::fits"
        );
        let groups_x = n.min(MAX_GROUPS_X);
        let count = CubeCount::Static(groups_x as u32, n.div_ceil(groups_x) as u32, 1);
        // In shared memory the scratch argument is a one-float placeholder.
        let scratch = empty_device_contiguous_dtype(
            x.client.clone(),
            x.device.clone(),
            Shape::new(if dims.shared_scratch {
                [1, 1]
            } else {
                [n, scratch]
            }),
            dtype,
        );
        let c = into_contiguous;
        decoder_layer_kernel::launch(
            &out.client,
            count,
            CubeDim::new_1d(threads as u32),
            x.into_tensor_arg(),
            c(g1).into_tensor_arg(),
            c(wq).into_tensor_arg(),
            c(wk).into_tensor_arg(),
            c(wv).into_tensor_arg(),
            c(wo).into_tensor_arg(),
            c(g2).into_tensor_arg(),
            c(cq).into_tensor_arg(),
            c(co).into_tensor_arg(),
            c(g3).into_tensor_arg(),
            c(wi).into_tensor_arg(),
            c(wf).into_tensor_arg(),
            ck.into_tensor_arg(),
            cv.into_tensor_arg(),
            sbias.into_tensor_arg(),
            cbias.into_tensor_arg(),
            scratch.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            dims,
            burn::backend::cubecl::dtype_to_storage_type(dtype),
        );
        out
    }
}

/// Set: the kernel keeps its scratch in device memory even where shared memory would hold it.
static FORCE_DEVICE_SCRATCH: AtomicBool = AtomicBool::new(false);

/// Makes the kernel keep its scratch in device memory (`true`), the variant that devices with
/// little shared memory run, or choose by the device's shared memory again (`false`): for tests.
pub fn force_device_scratch(on: bool) {
    FORCE_DEVICE_SCRATCH.store(on, Ordering::Relaxed);
}

/// Environment variable that turns the fused layer off (`off`): the A/B switch of the benchmark.
pub const SWITCH_ENV: &str = "TIGER_FUSED_DECODER";

/// Whether beam search on `device` uses the fused layer: burn's cube backend (the GPU), unless
/// [`SWITCH_ENV`] turns it off. Measured on the H200 (`docs/benchmarks.md`), it cut a single
/// query from 31–42 to 13–14 ms, and the 6,000-user evaluation (batches of 256 queries) from
/// 6.0 to 5.2 s in less device memory.
pub fn use_for(device: &burn::tensor::Device) -> bool {
    static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let off = *OFF.get_or_init(|| std::env::var(SWITCH_ENV).is_ok_and(|v| v == "off"));
    !off && crate::device::is_gpu(device)
}

/// Weights of one decoder layer in the kernel's order (see [`DecoderLayerOps`]): `g1, wq, wk,
/// wv, wo, g2, cq, co, g3, wi, wf` (the norms' scales as `[1, d]`, projections `[in, out]`).
pub struct LayerWeights {
    /// The eleven tensors.
    pub tensors: [burn::tensor::Tensor<2>; 11],
}

/// Runs one decoder layer fused: `x` `[n, t, d]`, `k`/`v` `[queries, heads, src, dh]`, `sbias`
/// `[1, heads, t, t]`, `cbias` `[queries, 1, 1, src]` → `[n, t, d]`.
pub fn decoder_layer(
    x: burn::tensor::Tensor<3>,
    w: &LayerWeights,
    k: burn::tensor::Tensor<4>,
    v: burn::tensor::Tensor<4>,
    sbias: burn::tensor::Tensor<4>,
    cbias: burn::tensor::Tensor<4>,
) -> burn::tensor::Tensor<3> {
    let p = |i: usize| w.tensors[i].clone().inner().into_dispatch();
    let out = <Dispatch as DecoderLayerOps>::fused_decoder_layer(
        x.inner().into_dispatch(),
        p(0),
        p(1),
        p(2),
        p(3),
        p(4),
        p(5),
        p(6),
        p(7),
        p(8),
        p(9),
        p(10),
        k.inner().into_dispatch(),
        v.inner().into_dispatch(),
        sbias.inner().into_dispatch(),
        cbias.inner().into_dispatch(),
    );
    burn::tensor::Tensor::from_dispatch(out)
}

impl Seq2Seq {
    /// The model width and the number of attention heads.
    pub fn attention_shape(&self) -> (usize, usize) {
        let (_, heads) = self.decoder_bias.shape();
        (self.embed.weight.dims()[1], heads)
    }

    /// The decoder layers' weights for [`Seq2Seq::decode_last_fused`], or `None` when a norm's
    /// epsilon is not the one the fused kernel applies.
    pub fn fused_weights(&self) -> Option<Vec<LayerWeights>> {
        let norm = |n: &RmsNorm| {
            let g = n.gamma.val();
            let d = g.dims()[0];
            ((n.epsilon - EPSILON).abs() < 1e-12).then(|| g.reshape([1, d]))
        };
        let ff = |l: &Linear| l.weight.val();
        self.decoder
            .iter()
            .map(|l| {
                let [wq, wk, wv, wo] = l.self_attn.weights();
                let [cq, _, _, co] = l.cross_attn.weights();
                Some(LayerWeights {
                    tensors: [
                        norm(&l.norm1)?,
                        wq,
                        wk,
                        wv,
                        wo,
                        norm(&l.norm2)?,
                        cq,
                        co,
                        norm(&l.norm3)?,
                        ff(&l.ff.wi),
                        ff(&l.ff.wo),
                    ],
                })
            })
            .collect()
    }

    /// [`Seq2Seq::decode_last`] with each decoder layer one fused GPU kernel (inference only):
    /// `weights` from [`Seq2Seq::fused_weights`], the rest as there → `[batch, vocab]`.
    pub fn decode_last_fused(
        &self,
        weights: &[LayerWeights],
        kv: &[(BurnTensor<4>, BurnTensor<4>)],
        (self_bias, cross_bias): &(BurnTensor<4>, BurnTensor<4>),
        tokens: BurnTensor<2, Int>,
    ) -> BurnTensor<2> {
        let mut x = gather_rows(self.embed.weight.val(), tokens);
        for (w, (k, v)) in weights.iter().zip(kv) {
            x = decoder_layer(
                x,
                w,
                k.clone(),
                v.clone(),
                self_bias.clone(),
                cross_bias.clone(),
            );
        }
        let states = self.decoder_norm.forward(x);
        let [b, t, d] = states.dims();
        let last = states
            .slice(burn::tensor::s![.., t - 1..t, ..])
            .reshape([b, d]);
        self.head.forward(last)
    }
}

#[cfg(test)]
mod tests {
    use super::fits;

    #[test]
    fn the_paper_shape_fits_and_outsized_ones_do_not() {
        // TIGER's decoder: IDs of 4 tokens (5 with BOS), width 128, 6 heads, 20 items × 4 + 1.
        assert!(fits(5, 128, 6, 81));
        assert!(!fits(5, 1024, 6, 81), "states of 2 × 5 × 1024 floats exceed 16 KiB");
        assert!(!fits(5, 128, 6, 4096), "cross-attention scores exceed 16 KiB");
        assert!(!fits(1, 16, 300, 10), "300 self-attention rows exceed 256 threads");
    }
}
