//! Beam search's transformer on the GPU in few, wide kernels (CubeCL, compiled to WGSL by
//! burn-wgpu).
//!
//! Written with the tensor API, a single beam-search query ran about 1,100 launches (norms, small
//! matrix products, softmaxes, layout copies), and the H200 spent most of the query preparing
//! launches, not computing (`docs/performance.md`). Here a workgroup takes one token row, so a
//! layer spreads over as many of the GPU's cores as it has rows, and a layer is one launch:
//! - [`rows::embed_project_kernel`] starts a stack: token embeddings, RMSNorm and the first
//!   layer's query, key and value projections, a row's outputs spread over several workgroups;
//! - [`layer::layer_kernel`] runs the rest of a layer for a row — self-attention over its
//!   sequence (all heads at once, relative-position bias and masks computed in the kernel),
//!   output projection and residual, for a decoder cross-attention over its query's history, the
//!   ReLU feed-forward, each with RMSNorm and residual — and ends with the next layer's
//!   projections, or, in the decoder's last layer (last rows only), the beam scores: RMSNorm,
//!   output layer, log-softmax over the vocabulary, plus each hypothesis' score and mask;
//! - [`rows::norm_project_kernel`] projects the encoder's output into every decoder layer's
//!   cross-attention keys and values (four layers per launch).
//!
//! A query is then 6 launches for the encoder and 5 per decoding step
//! (`tiger_models::tiger::fused_path`). In a constrained search, [`select`] ranks each step's
//! candidates on the device and writes the next step's input, so the steps run back to back with
//! one upload and one read-back per search (`tiger_models::tiger::device_beam`); otherwise each
//! step uploads its input and the host ranks its scores. A row's vectors stay in shared memory.
//!
//! Inference only (no dropout, no gradients); it runs on burn's cube backend, and [`use_for`]
//! says when. The model's scorer (`tiger_models::tiger::scorer`) falls back to the tensor path
//! elsewhere.

mod attention;
mod backend;
mod blocks;
pub mod launch;
mod layer;
pub mod ops;
mod rows;
pub mod select;

pub use ops::FusedRowOps;

use crate::choice::Kernel;

/// Threads per workgroup that every device allows; 1,024 or 512 where the device allows.
const THREADS: usize = 256;
/// Threads (and outputs) per workgroup of the projection kernel.
const PROJ_THREADS: usize = 128;
/// Workgroups per grid dimension that every Vulkan device allows; more rows use a second dimension.
pub const MAX_GROUPS_X: usize = 65_535;
/// The RMSNorm epsilon the kernels apply (the model's norms are built with it; see
/// [`super::model`]).
pub const EPSILON: f64 = 1e-6;
/// Shared memory (bytes) the kernels may count on without asking the device: WebGPU's minimum.
const SHARED_FLOOR: usize = 16 * 1024;

/// Room for one head's attention scores over `len` keys.
fn score_cap(len: usize) -> usize {
    len.next_power_of_two().max(16)
}

/// Shared memory (bytes) of [`layer::layer_kernel`] with `threads` threads (without the output
/// layer's; see [`head_bytes`]).
fn rest_shared_bytes(
    d: usize,
    inner: usize,
    dff: usize,
    heads: usize,
    cap: usize,
    threads: usize,
) -> usize {
    4 * (2 * d + 1 + 2 * inner + dff + heads * cap + 4 * threads)
}

/// Shared memory (bytes) the output layer adds to a layer kernel: none when the position's
/// `width` logits fit where the feed-forward's `dff` hidden values were.
fn head_bytes(width: usize, dff: usize) -> usize {
    if width <= dff { 0 } else { 4 * width }
}

/// Whether the fused kernels take a model of width `d`, `heads` heads of `dh` and feed-forward
/// width `dff`, for histories of `src` tokens, targets of `t` and ID positions of at most `width`
/// values, on any device: a row's vectors, scores and (for the output layer) its position's
/// values fit WebGPU's minimum shared memory with the fewest threads a workgroup gets, its heads
/// fit those threads, and the widths are multiples of 4 (weights are read as four-float vectors).
/// Other shapes use the tensor path. (The layer kernel binds 19 storage buffers: more than
/// WebGPU's guaranteed 8, within what Vulkan, Metal and DX12 drivers give.)
pub fn fits(
    d: usize,
    heads: usize,
    dh: usize,
    dff: usize,
    src: usize,
    t: usize,
    width: usize,
) -> bool {
    let cap = score_cap(src.max(t));
    // The layer kernel reads its weights four outputs at a time.
    let by4 = d.is_multiple_of(4) && (heads * dh).is_multiple_of(4) && dff.is_multiple_of(4);
    by4 && heads <= THREADS
        && rest_shared_bytes(d, heads * dh, dff, heads, cap, THREADS) + head_bytes(width, dff)
            <= SHARED_FLOOR
        && 4 * (2 * d + 1 + PROJ_THREADS) <= SHARED_FLOOR
}

/// Whether beam search on `device` uses the fused kernels: burn's cube backend (the GPU), unless
/// the calling thread's [`crate::Kernels`] turn `fused_decoder` off.
pub fn use_for(device: &burn::tensor::Device) -> bool {
    Kernel::FusedDecoder.on() && crate::device::is_gpu(device)
}

#[cfg(test)]
mod tests {
    use super::fits;

    #[test]
    fn the_paper_shape_fits_and_outsized_ones_do_not() {
        // TIGER: width 128, 6 heads of 64, feed-forward 1024, 20 items × 4 + 1 history tokens,
        // IDs of 4 tokens (5 with BOS), codebooks of 256.
        assert!(fits(128, 6, 64, 1024, 81, 5, 256));
        let wide = "a row of width 1024 with its FFN exceeds 16 KiB";
        assert!(!fits(1024, 6, 64, 1024, 81, 5, 256), "{wide}");
        let long = "scores of 6 heads over 4,096 tokens exceed 16 KiB";
        assert!(!fits(128, 6, 64, 1024, 4096, 5, 256), "{long}");
        let values = "4,096 values of a position exceed 16 KiB";
        assert!(!fits(128, 6, 64, 1024, 81, 5, 4096), "{values}");
        assert!(
            !fits(16, 300, 1, 16, 10, 2, 4),
            "300 heads exceed 256 threads"
        );
    }
}
