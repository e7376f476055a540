//! Beam search's selection on the device, so that a query's decoding steps run back to back with
//! no read-back between them: one workgroup per query ranks the step's candidate scores, keeps
//! the best, walks the trie to their nodes and writes the next step's input, which the decoder
//! kernels read where they would read an upload ([`super::path`]).
//!
//! A step's buffer (f32) is `tokens [n, t] | add [n, 1 + k] | nodes [n]` for `n` = queries ×
//! width hypotheses: each hypothesis' decoder tokens (BOS and its prefix), its score and the mask
//! of the position's `k` values (0 where the trie continues, [`MASKED`] elsewhere), and its trie
//! node (−1 for a dead hypothesis). The kernel reads the step's scores and buffer and writes the
//! next buffer (`t + 1` tokens, the next position's `k2` values), followed by a log of the
//! `keep` candidates it ranked per query (score and flat index `parent · k + value`, best first,
//! ties to the lower index), from which the host rebuilds the search exactly as its own ranking
//! would have ([`tiger_models::decode::beam`]).

use burn::backend::cubecl::dtype_to_storage_type;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, backend_extension};
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use cubecl::prelude::*;

use super::launch::empty_like;

/// Value that masks a candidate out (as [`tiger_models::decode::beam`] writes it).
pub const MASKED: f32 = -1e9;
/// Score at or below which a candidate is dead (as [`tiger_models::decode::beam`] reads it).
pub const DEAD: f32 = -1e8;
/// Threads per workgroup.
const THREADS: usize = 256;

/// One workgroup per query (`CUBE_POS_X`). `totals`: `[n, k]` step scores; `prev`: this step's
/// buffer (`t` tokens); `trie`: `child_start [nodes + 1] | child_value [edges] | child_node
/// [edges]` (as floats, exact below 2^24); writes `out`: the next buffer (`t + 1` tokens, `k2`
/// values) and the log (`[queries, keep, 2]`). `keep ≤ keep_cap`, `w ≤ keep`.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
fn beam_select_kernel<F: Float>(
    totals: &Tensor<F>,
    prev: &Tensor<F>,
    trie: &Tensor<F>,
    out: &mut Tensor<F>,
    w: u32,
    k: u32,
    t: u32,
    start: u32,
    k2: u32,
    nodes: u32,
    keep: u32,
    bos: u32,
    #[comptime] keep_cap: usize,
    #[define(F)] _dtype: ElemType,
) {
    let q = CUBE_POS_X as usize;
    let tid = UNIT_POS_X as usize;
    let w = w as usize;
    let k = k as usize;
    let t = t as usize;
    let k2 = k2 as usize;
    let nodes = nodes as usize;
    let keep = keep as usize;
    let n = CUBE_COUNT_X as usize * w;
    let flat = w * k;

    let mut best_s = Shared::<[F]>::new_slice(comptime!(THREADS));
    let mut best_f = Shared::<[u32]>::new_slice(comptime!(THREADS));
    let mut sel_s = Shared::<[F]>::new_slice(keep_cap);
    let mut sel_f = Shared::<[u32]>::new_slice(keep_cap);

    // Round r picks the best candidate ranked after round r − 1's pick (score descending, index
    // ascending).
    let mut prev_s = F::new(3.0e38);
    let mut prev_f = 0u32;
    let mut r = 0usize;
    while r < keep {
        let mut bs = F::new(-3.0e38);
        let mut bf = flat as u32;
        let mut f = tid;
        while f < flat {
            let s = totals[q * flat + f];
            let fu = f as u32;
            let after = s < prev_s || (s == prev_s && fu > prev_f);
            let better = s > bs || (s == bs && fu < bf);
            if after && better {
                bs = s;
                bf = fu;
            }
            f += THREADS;
        }
        best_s[tid] = bs;
        best_f[tid] = bf;
        sync_cube();
        let mut stride = (CUBE_DIM_X / 2) as usize;
        while stride > 0 {
            if tid < stride {
                let os = best_s[tid + stride];
                let of = best_f[tid + stride];
                let ms = best_s[tid];
                let mf = best_f[tid];
                if os > ms || (os == ms && of < mf) {
                    best_s[tid] = os;
                    best_f[tid] = of;
                }
            }
            sync_cube();
            stride /= 2;
        }
        prev_s = best_s[0];
        prev_f = best_f[0];
        if tid == 0 {
            sel_s[r] = prev_s;
            sel_f[r] = prev_f;
        }
        sync_cube();
        r += 1;
    }

    let add_at = n * (t + 1);
    let nodes_at = add_at + n * (1 + k2);
    let log_at = nodes_at + n;
    let prev_nodes = n * t + n * (1 + k);
    let mut e = tid;
    while e < keep {
        out[log_at + (q * keep + e) * 2] = sel_s[e];
        out[log_at + (q * keep + e) * 2 + 1] = F::cast_from(sel_f[e]);
        e += THREADS;
    }

    let mut j = tid;
    while j < w {
        let row = q * w + j;
        let s = sel_s[j];
        let fi = sel_f[j] as usize;
        let alive = fi < flat && s > F::new(DEAD);
        let parent = q * w + fi / k;
        let value = fi % k;
        let mut node = F::new(-1.0);
        if alive {
            let pn = prev[prev_nodes + parent];
            if pn >= F::new(0.0) {
                let pn = u32::cast_from(pn) as usize;
                let mut a = u32::cast_from(trie[pn]) as usize;
                let hi = u32::cast_from(trie[pn + 1]) as usize;
                let mut b = hi;
                while a < b {
                    let m = (a + b) / 2;
                    if (u32::cast_from(trie[nodes + 1 + m]) as usize) < value {
                        a = m + 1;
                    } else {
                        b = m;
                    }
                }
                if a < hi && u32::cast_from(trie[nodes + 1 + a]) as usize == value {
                    let edges = (trie.len() - nodes - 1) / 2;
                    node = F::cast_from(u32::cast_from(trie[nodes + 1 + edges + a]));
                }
            }
        }
        let mut p = 0usize;
        while p < t {
            let mut tok = F::cast_from(bos);
            if alive {
                tok = prev[parent * t + p];
            }
            out[row * (t + 1) + p] = tok;
            p += 1;
        }
        let mut last = F::cast_from(bos);
        if alive {
            last = F::cast_from(start) + F::cast_from(value as u32);
        }
        out[row * (t + 1) + t] = last;
        let a_row = add_at + row * (1 + k2);
        let mut score = F::new(MASKED);
        if alive {
            score = s;
        }
        out[a_row] = score;
        let mut v = 0usize;
        while v < k2 {
            out[a_row + 1 + v] = F::new(MASKED);
            v += 1;
        }
        if node >= F::new(0.0) {
            let nn = u32::cast_from(node) as usize;
            let mut c = u32::cast_from(trie[nn]) as usize;
            let hi = u32::cast_from(trie[nn + 1]) as usize;
            while c < hi {
                let cv = u32::cast_from(trie[nodes + 1 + c]) as usize;
                if cv < k2 {
                    out[a_row + 1 + cv] = F::new(0.0);
                }
                c += 1;
            }
        }
        out[nodes_at + row] = node;
        j += THREADS;
    }
}

/// Length of the buffer [`BeamSelectOps::beam_select`] writes: the next step's buffer, then the
/// log.
pub fn out_len(n: usize, t: usize, k2: usize, queries: usize, keep: usize) -> usize {
    n * (t + 1) + n * (1 + k2) + n + queries * keep * 2
}

/// `[out_len]` for `totals` `[n, k]` (`n` = queries × `w`).
fn out_shape(totals: &Shape, w: &usize, t: &usize, k2: &usize, keep: &usize) -> Shape {
    let n = totals[0];
    Shape::new([out_len(n, *t, *k2, n / (*w).max(1), *keep)])
}

/// The selection as a backend operation, ordered in burn's fusion stream like the decoder kernels.
#[backend_extension(Cube, Fusion)]
#[allow(clippy::too_many_arguments)]
pub trait BeamSelectOps: Backend {
    /// One step's selection (see the module): `totals` `[n, k]`, `prev` this step's buffer, `trie`
    /// the CSR arrays → the next buffer and the log, `[out_len]`.
    #[fusion(dtype = totals, shape = out_shape(totals, w, t, k2, keep))]
    fn beam_select(
        totals: FloatTensor<Self>,
        prev: FloatTensor<Self>,
        trie: FloatTensor<Self>,
        w: usize,
        t: usize,
        start: usize,
        k2: usize,
        nodes: usize,
        keep: usize,
        bos: usize,
    ) -> FloatTensor<Self>;
}

impl BeamSelectOps for CubeBackend {
    fn beam_select(
        totals: FloatTensor<Self>,
        prev: FloatTensor<Self>,
        trie: FloatTensor<Self>,
        w: usize,
        t: usize,
        start: usize,
        k2: usize,
        nodes: usize,
        keep: usize,
        bos: usize,
    ) -> FloatTensor<Self> {
        let [totals, prev, trie] = [totals, prev, trie].map(into_contiguous);
        let [n, k] = totals.meta.shape().dims::<2>();
        let queries = n / w.max(1);
        let out = empty_like(&totals, vec![out_len(n, t, k2, queries, keep)]);
        if queries == 0 {
            return out;
        }
        beam_select_kernel::launch(
            &out.client,
            CubeCount::Static(queries as u32, 1, 1),
            CubeDim::new_1d(THREADS as u32),
            totals.into_tensor_arg(),
            prev.into_tensor_arg(),
            trie.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            w as u32,
            k as u32,
            t as u32,
            start as u32,
            k2 as u32,
            nodes as u32,
            keep as u32,
            bos as u32,
            keep.next_power_of_two().max(1),
            dtype_to_storage_type(out.dtype),
        );
        out
    }
}
