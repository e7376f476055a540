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

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use cubecl::prelude::*;
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

/// RMSNorm of the `t` rows of `xs` (`[t, d]`) into `hs`, scaled by `gamma` (`[d]`).
#[cube]
fn rms_norm<F: Float>(
    xs: &Shared<[F]>,
    hs: &mut Shared<[F]>,
    red: &mut Shared<[F]>,
    gamma: &Tensor<F>,
    #[comptime] t: usize,
    #[comptime] d: usize,
    #[comptime] threads: usize,
) {
    let tid = UNIT_POS_X as usize;
    if tid < t {
        let mut acc = F::new(0.0);
        for k in 0..d {
            let v = xs[tid * d + k];
            acc += v * v;
        }
        red[tid] = F::new(1.0) / (acc / F::new(comptime!(d as f32)) + F::new(1e-6)).sqrt();
    }
    sync_cube();
    let mut e = tid;
    while e < t * d {
        hs[e] = xs[e] * red[e / d] * gamma[e % d];
        e += threads;
    }
    sync_cube();
}

/// `Σ_{m < n} a[ia + m · sa] · b[ib + m · sb]`, eight products per loop turn so that eight
/// loads are in flight at once (the loop is otherwise bound by the latency of each load).
#[cube]
#[allow(clippy::too_many_arguments)]
fn dot<F: Float, A: List<F> + ?Sized, B: List<F> + ?Sized>(
    a: &mut A,
    ia: usize,
    sa: usize,
    b: &B,
    ib: usize,
    sb: usize,
    n: usize,
) -> F {
    let mut acc = F::new(0.0);
    let n8 = n - n % 8;
    let mut m = 0;
    while m < n8 {
        let p0 = a[ia + m * sa] * b[ib + m * sb];
        let p1 = a[ia + (m + 1) * sa] * b[ib + (m + 1) * sb];
        let p2 = a[ia + (m + 2) * sa] * b[ib + (m + 2) * sb];
        let p3 = a[ia + (m + 3) * sa] * b[ib + (m + 3) * sb];
        let p4 = a[ia + (m + 4) * sa] * b[ib + (m + 4) * sb];
        let p5 = a[ia + (m + 5) * sa] * b[ib + (m + 5) * sb];
        let p6 = a[ia + (m + 6) * sa] * b[ib + (m + 6) * sb];
        let p7 = a[ia + (m + 7) * sa] * b[ib + (m + 7) * sb];
        acc += ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7));
        m += 8;
    }
    while m < n {
        acc += a[ia + m * sa] * b[ib + m * sb];
        m += 1;
    }
    acc
}

/// `dst[off + i * n_out + c] = Σ_k hs[i * n_in + k] · w[k, c]` for the `t` rows, ReLU'd if `relu`.
#[cube]
fn project_shared<F: Float, S: List<F> + ?Sized>(
    hs: &mut Shared<[F]>,
    w: &Tensor<F>,
    dst: &mut S,
    off: usize,
    #[comptime] t: usize,
    #[comptime] n_in: usize,
    #[comptime] n_out: usize,
    #[comptime] relu: bool,
    #[comptime] threads: usize,
) {
    let mut e = UNIT_POS_X as usize;
    while e < t * n_out {
        let i = e / n_out;
        let c = e % n_out;
        let mut acc = dot::<F, Shared<[F]>, Tensor<F>>(hs, i * n_in, 1, w, c, n_out, n_in);
        if relu {
            if acc < F::new(0.0) {
                acc = F::new(0.0);
            }
        }
        dst[off + e] = acc;
        e += threads;
    }
}

/// `xs[i * n_out + c] += Σ_k src[off + i * n_in + k] · w[k, c]` for the `t` rows (the residual).
/// With fewer outputs than threads, `split` threads share each output's sum (over `k ≡ lane mod
/// split`) and `part` (`threads` floats) gathers their partial sums.
#[cube]
fn project_add<F: Float, S: List<F> + ?Sized>(
    src: &mut S,
    off: usize,
    w: &Tensor<F>,
    xs: &mut Shared<[F]>,
    part: &mut Shared<[F]>,
    #[comptime] t: usize,
    #[comptime] n_in: usize,
    #[comptime] n_out: usize,
    #[comptime] threads: usize,
) {
    let tid = UNIT_POS_X as usize;
    let outputs = comptime!(t * n_out);
    let split = comptime!(split_of(threads, t * n_out));
    if split == 1 {
        let mut e = tid;
        while e < outputs {
            let i = e / n_out;
            let c = e % n_out;
            let acc = dot::<F, S, Tensor<F>>(src, off + i * n_in, 1, w, c, n_out, n_in);
            xs[e] = xs[e] + acc;
            e += threads;
        }
    } else {
        // Thread tid takes output tid % outputs and the k's of lane tid / outputs.
        let e = tid % outputs;
        let lane = tid / outputs;
        let i = e / n_out;
        let c = e % n_out;
        let mut acc = F::new(0.0);
        if lane < split {
            // This lane's k's: lane, lane + split, … (n_in / split of them, then the rest).
            let count = (n_in - lane).div_ceil(split);
            acc = dot::<F, S, Tensor<F>>(
                src,
                off + i * n_in + lane,
                split,
                w,
                lane * n_out + c,
                split * n_out,
                count,
            );
        }
        part[tid] = acc;
        sync_cube();
        if tid < outputs {
            let mut sum = F::new(0.0);
            for l in 0..split {
                sum += part[l * outputs + tid];
            }
            xs[tid] = xs[tid] + sum;
        }
    }
}

/// Threads that share one output of [`project_add`]: `threads / outputs` (at least 1).
fn split_of(threads: usize, outputs: usize) -> usize {
    (threads / outputs.max(1)).max(1)
}

/// Softmax of `rows` rows of `len` scores, row `i` at `cs[i * cap ..]`, in place: each row's
/// max and sum are reduced by a group of threads through `part` (`threads` floats).
#[cube]
fn softmax_rows<F: Float>(
    cs: &mut Shared<[F]>,
    part: &mut Shared<[F]>,
    len: usize,
    #[comptime] rows: usize,
    #[comptime] cap: usize,
    #[comptime] threads: usize,
) {
    let tid = UNIT_POS_X as usize;
    let group = comptime!(group_of(threads, rows));
    let r = tid / group;
    let lane = tid % group;
    let active = r < rows;
    // Row maxima.
    let mut m = F::min_value();
    if active {
        let mut j = lane;
        while j < len {
            if cs[r * cap + j] > m {
                m = cs[r * cap + j];
            }
            j += group;
        }
    }
    part[tid] = m;
    sync_cube();
    // A runtime value (CUBE_DIM_X is `threads`): halved in a runtime loop.
    let mut stride = CUBE_DIM_X as usize / comptime!(2 * threads / group);
    while stride > 0 {
        if active && lane < stride {
            if part[tid + stride] > part[tid] {
                part[tid] = part[tid + stride];
            }
        }
        sync_cube();
        stride /= 2;
    }
    let mut row_max = F::new(0.0);
    if active {
        row_max = part[r * group];
    }
    sync_cube();
    // Exponentials and row sums.
    let mut acc = F::new(0.0);
    if active {
        let mut j = lane;
        while j < len {
            let p = (cs[r * cap + j] - row_max).exp();
            cs[r * cap + j] = p;
            acc += p;
            j += group;
        }
    }
    part[tid] = acc;
    sync_cube();
    // A runtime value (CUBE_DIM_X is `threads`): halved in a runtime loop.
    let mut stride = CUBE_DIM_X as usize / comptime!(2 * threads / group);
    while stride > 0 {
        if active && lane < stride {
            part[tid] = part[tid] + part[tid + stride];
        }
        sync_cube();
        stride /= 2;
    }
    if active {
        let sum = part[r * group];
        let mut j = lane;
        while j < len {
            cs[r * cap + j] = cs[r * cap + j] / sum;
            j += group;
        }
    }
    sync_cube();
}

/// Threads per row of [`softmax_rows`]: the largest power of two with `rows` groups in `threads`.
fn group_of(threads: usize, rows: usize) -> usize {
    let g = (threads / rows.max(1)).max(1);
    1 << (usize::BITS - 1 - g.leading_zeros())
}

/// Shapes of one launch, all fixed when the kernel is compiled.
#[derive(CubeType, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct LayerDims {
    /// Target tokens per hypothesis.
    t: usize,
    /// Model width.
    d: usize,
    /// Attention heads.
    heads: usize,
    /// Width of a head.
    dh: usize,
    /// Feed-forward width.
    dff: usize,
    /// Shared-memory room for one row of cross-attention scores (≥ the history's length).
    src_cap: usize,
    /// Threads per workgroup.
    threads: usize,
    /// Projections' scratch in shared memory (else in device memory).
    shared_scratch: bool,
}

/// One decoder layer of hypothesis `row`: its states come from `x` and go to `out` (`[n, t, d]`);
/// weights as burn's `Linear` stores them (`[in, out]`); `ck`, `cv`: `[queries, heads, src, dh]`
/// (any strides), the `n / queries` hypotheses of a query consecutive; `sbias`:
/// `[1, heads, t, t]`; `cbias`: `[queries, 1, 1, src]` (any strides). `scratch` holds the row's
/// projections from `base` on (`scratch_len` floats): shared memory or device memory.
#[cube]
#[allow(clippy::too_many_arguments)]
fn layer_row<F: Float, S: List<F> + ?Sized>(
    row: usize,
    x: &Tensor<F>,
    g1: &Tensor<F>,
    wq: &Tensor<F>,
    wk: &Tensor<F>,
    wv: &Tensor<F>,
    wo: &Tensor<F>,
    g2: &Tensor<F>,
    cq: &Tensor<F>,
    co: &Tensor<F>,
    g3: &Tensor<F>,
    wi: &Tensor<F>,
    wf: &Tensor<F>,
    ck: &Tensor<F>,
    cv: &Tensor<F>,
    sbias: &Tensor<F>,
    cbias: &Tensor<F>,
    scratch: &mut S,
    base: usize,
    out: &mut Tensor<F>,
    #[comptime] dims: LayerDims,
) {
    let t = dims.t;
    let d = dims.d;
    let heads = dims.heads;
    let dh = dims.dh;
    let dff = dims.dff;
    let threads = dims.threads;
    let tid = UNIT_POS_X as usize;
    let inner = comptime!(dims.heads * dims.dh);
    let queries = ck.shape(0);
    let q = row / (x.shape(0) / queries);
    let src = ck.shape(2);
    let scale = F::new(comptime!(1.0f32 / (dims.dh as f32).sqrt()));
    // Scratch regions of this row: Q, K, V (or the feed-forward hidden layer), then attention out.
    let off_k = base + t * inner;
    let off_v = base + 2 * t * inner;
    let off_a = base
        + comptime!(if 3 * dims.heads * dims.dh > dims.dff {
            3 * dims.t * dims.heads * dims.dh
        } else {
            dims.t * dims.dff
        });

    let mut xs = Shared::new_slice(t * d);
    let mut hs = Shared::new_slice(t * d);
    let mut red = Shared::new_slice(t);
    let mut ss = Shared::new_slice(heads * t * t);
    let mut cs = Shared::new_slice(t * dims.src_cap);
    let mut part = Shared::new_slice(threads);

    let mut e = tid;
    while e < t * d {
        xs[e] = x[row * t * d + e];
        e += threads;
    }
    sync_cube();

    // Self-attention.
    rms_norm::<F>(&xs, &mut hs, &mut red, g1, t, d, threads);
    project_shared::<F, S>(&mut hs, wq, scratch, base, t, d, inner, false, threads);
    project_shared::<F, S>(&mut hs, wk, scratch, off_k, t, d, inner, false, threads);
    project_shared::<F, S>(&mut hs, wv, scratch, off_v, t, d, inner, false, threads);
    sync_storage();
    let mut e = tid;
    while e < heads * t * t {
        let h = e / (t * t);
        let i = (e / t) % t;
        let j = e % t;
        let mut acc = F::new(0.0);
        for c in 0..dh {
            acc += scratch[base + i * inner + h * dh + c] * scratch[off_k + j * inner + h * dh + c];
        }
        ss[e] =
            acc * scale + sbias[h * sbias.stride(1) + i * sbias.stride(2) + j * sbias.stride(3)];
        e += threads;
    }
    sync_cube();
    if tid < heads * t {
        let r = tid * t;
        let mut m = ss[r];
        for j in 1..t {
            if ss[r + j] > m {
                m = ss[r + j];
            }
        }
        let mut sum = F::new(0.0);
        for j in 0..t {
            let p = (ss[r + j] - m).exp();
            ss[r + j] = p;
            sum += p;
        }
        for j in 0..t {
            ss[r + j] = ss[r + j] / sum;
        }
    }
    sync_cube();
    let mut e = tid;
    while e < t * inner {
        let i = e / inner;
        let col = e % inner;
        let h = col / dh;
        let mut acc = F::new(0.0);
        for j in 0..t {
            acc += ss[(h * t + i) * t + j] * scratch[off_v + j * inner + col];
        }
        scratch[off_a + e] = acc;
        e += threads;
    }
    sync_storage();
    project_add::<F, S>(scratch, off_a, wo, &mut xs, &mut part, t, inner, d, threads);
    sync_cube();

    // Cross-attention over the query's history, one head at a time.
    rms_norm::<F>(&xs, &mut hs, &mut red, g2, t, d, threads);
    project_shared::<F, S>(&mut hs, cq, scratch, base, t, d, inner, false, threads);
    sync_storage();
    for h in 0..heads {
        let kh = q * ck.stride(0) + h * ck.stride(1);
        let vh = q * cv.stride(0) + h * cv.stride(1);
        let mut e = tid;
        while e < t * src {
            let i = e / src;
            let j = e % src;
            let acc = dot::<F, S, Tensor<F>>(
                scratch,
                base + i * inner + h * dh,
                1,
                ck,
                kh + j * ck.stride(2),
                ck.stride(3),
                dh,
            );
            cs[i * dims.src_cap + j] =
                acc * scale + cbias[q * cbias.stride(0) + j * cbias.stride(3)];
            e += threads;
        }
        sync_cube();
        softmax_rows::<F>(&mut cs, &mut part, src, t, dims.src_cap, threads);
        let mut e = tid;
        while e < t * dh {
            let i = e / dh;
            let c = e % dh;
            let acc = dot::<F, Shared<[F]>, Tensor<F>>(
                &mut cs,
                i * dims.src_cap,
                1,
                cv,
                vh + c * cv.stride(3),
                cv.stride(2),
                src,
            );
            scratch[off_a + i * inner + h * dh + c] = acc;
            e += threads;
        }
        sync_cube();
    }
    sync_storage();
    project_add::<F, S>(scratch, off_a, co, &mut xs, &mut part, t, inner, d, threads);
    sync_cube();

    // Feed-forward.
    rms_norm::<F>(&xs, &mut hs, &mut red, g3, t, d, threads);
    project_shared::<F, S>(&mut hs, wi, scratch, base, t, d, dff, true, threads);
    sync_storage();
    project_add::<F, S>(scratch, base, wf, &mut xs, &mut part, t, dff, d, threads);
    sync_cube();

    let mut e = tid;
    while e < t * d {
        out[row * t * d + e] = xs[e];
        e += threads;
    }
}

/// One decoder layer, one workgroup per row (a second grid dimension past 65,535 rows): arguments
/// as in [`layer_row`]. The scratch is in shared memory when `dims.shared_scratch` (then `scratch`
/// is a placeholder), else in `scratch` (`[n, scratch_len]`, device memory).
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn decoder_layer_kernel<F: Float>(
    x: &Tensor<F>,
    g1: &Tensor<F>,
    wq: &Tensor<F>,
    wk: &Tensor<F>,
    wv: &Tensor<F>,
    wo: &Tensor<F>,
    g2: &Tensor<F>,
    cq: &Tensor<F>,
    co: &Tensor<F>,
    g3: &Tensor<F>,
    wi: &Tensor<F>,
    wf: &Tensor<F>,
    ck: &Tensor<F>,
    cv: &Tensor<F>,
    sbias: &Tensor<F>,
    cbias: &Tensor<F>,
    scratch: &mut Tensor<F>,
    out: &mut Tensor<F>,
    #[comptime] dims: LayerDims,
    #[define(F)] _dtype: ElemType,
) {
    let row = CUBE_POS_Y as usize * CUBE_COUNT_X as usize + CUBE_POS_X as usize;
    if row >= x.shape(0) {
        terminate!();
    }
    if dims.shared_scratch {
        let mut local = Shared::new_slice(comptime!(scratch_len(
            dims.t,
            dims.heads * dims.dh,
            dims.dff
        )));
        layer_row::<F, Shared<[F]>>(
            row, x, g1, wq, wk, wv, wo, g2, cq, co, g3, wi, wf, ck, cv, sbias, cbias, &mut local,
            0, out, dims,
        );
    } else {
        let base = row * scratch.shape(1);
        layer_row::<F, Tensor<F>>(
            row, x, g1, wq, wk, wv, wo, g2, cq, co, g3, wi, wf, ck, cv, sbias, cbias, scratch,
            base, out, dims,
        );
    }
}

/// Whether the fused layer takes these shapes on any device: its states, scores and reduction
/// room (all in shared memory even when the projections' scratch is not) fit WebGPU's minimum
/// shared memory for targets of up to `t` tokens, width `d`, `heads` heads and `src` history
/// tokens. Larger shapes use the tensor path.
pub fn fits(t: usize, d: usize, heads: usize, src: usize) -> bool {
    let src_cap = src.next_power_of_two().max(16);
    4 * (2 * t * d + t + heads * t * t + t * src_cap + 4 * THREADS) <= SHARED_FLOOR
}

/// Floats of scratch each hypothesis needs.
fn scratch_len(t: usize, inner: usize, dff: usize) -> usize {
    (3 * t * inner).max(t * dff) + t * inner
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_splits_fit_the_workgroup() {
        assert_eq!(group_of(1024, 4), 256);
        assert_eq!(group_of(1024, 3), 256);
        assert_eq!(group_of(512, 1), 512);
        assert_eq!(group_of(256, 300), 1);
        assert_eq!(split_of(1024, 384), 2);
        assert_eq!(split_of(1024, 128), 8);
        assert_eq!(split_of(256, 512), 1);
        assert_eq!(split_of(256, 0), 256);
    }
}
