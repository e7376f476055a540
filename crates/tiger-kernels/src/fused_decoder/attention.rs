//! All-heads attention of one query row, and the row softmax it uses.

use cubecl::prelude::*;

use super::blocks::{dot, group_of, reduce_group};

/// Where [`attend`] finds its keys and values: element `(j, h, c)` of the keys is
/// `k[kbase + j·kj + h·kh + c·kc]`, of the values `v[vbase + j·vj + h·vh + c·vc]`; the key mask
/// of key `j` (when used) is `aux[kbias + j]`, its relative-position bucket (when used)
/// `aux[lbase + j − i]` for query `i`.
#[derive(CubeType, Clone, Copy)]
pub(super) struct KeyLayout {
    pub kbase: usize,
    pub kj: usize,
    pub kh: usize,
    pub kc: usize,
    pub vbase: usize,
    pub vj: usize,
    pub vh: usize,
    pub vc: usize,
    pub kbias: usize,
    pub lbase: usize,
}

/// Which terms an [`attend`] call adds to its scores: the relative-position bias (`table`
/// `[buckets, heads]` at the bucket `at` points to), the key mask (0 or −1e9), the causal mask.
#[derive(CubeType, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(super) struct BiasTerms {
    pub relative: bool,
    pub key: bool,
    pub causal: bool,
}

/// Attention of query row `i` over `len` keys (at most `keys`), every head at once: `q`
/// (`[heads · dh]`) against the keys and values `at` describes, scores scaled by `1 / √dh` plus
/// the `terms` of the bias, softmax per head (rows of `ss`, `cap` ≥ `len` floats apart), and the
/// weighted values into `out` (`[heads · dh]`).
#[cube]
#[allow(clippy::too_many_arguments)]
pub(super) fn attend<F: Float>(
    q: &mut Shared<[F]>,
    k: &Tensor<F>,
    v: &Tensor<F>,
    table: &Tensor<F>,
    aux: &Tensor<F>,
    at: KeyLayout,
    i: usize,
    len: usize,
    ss: &mut Shared<[F]>,
    part: &mut Shared<[F]>,
    out: &mut Shared<[F]>,
    #[comptime] heads: usize,
    #[comptime] dh: usize,
    #[comptime] cap: usize,
    #[comptime] keys: usize,
    #[comptime] threads: usize,
    #[comptime] terms: BiasTerms,
) {
    let tid = UNIT_POS_X as usize;
    let scale = F::new(comptime!(1.0f32 / (dh as f32).sqrt()));
    let mut e = tid;
    while e < heads * len {
        let h = e / len;
        let j = e % len;
        let acc = dot::<F, Shared<[F]>, Tensor<F>>(
            q,
            h * dh,
            1,
            k,
            at.kbase + j * at.kj + h * at.kh,
            at.kc,
            dh,
        );
        let mut bias = F::new(0.0);
        if terms.relative {
            let b = u32::cast_from(aux[at.lbase + j - i]) as usize;
            bias += table[b * heads + h];
        }
        if terms.key {
            bias += aux[at.kbias + j];
        }
        // A compile-time condition and a runtime one: nested, as CubeCL needs.
        #[allow(clippy::collapsible_if)]
        if terms.causal {
            if j > i {
                bias += F::new(-1e9);
            }
        }
        ss[h * cap + j] = acc * scale + bias;
        e += threads;
    }
    sync_cube();
    softmax_rows::<F>(ss, part, len, heads, cap, keys, threads);
    let mut e = tid;
    while e < heads * dh {
        let h = e / dh;
        let c = e % dh;
        out[e] = dot::<F, Shared<[F]>, Tensor<F>>(
            ss,
            h * cap,
            1,
            v,
            at.vbase + h * at.vh + c * at.vc,
            at.vj,
            len,
        );
        e += threads;
    }
    sync_cube();
}

/// Softmax of `rows` rows (at most `threads`) of `len` (at most `keys`) scores, row `i` at
/// `cs[i * cap ..]`, in place: each row's max and sum are reduced by a group of threads through
/// `part` (`threads` floats).
#[cube]
pub(super) fn softmax_rows<F: Float>(
    cs: &mut Shared<[F]>,
    part: &mut Shared<[F]>,
    len: usize,
    #[comptime] rows: usize,
    #[comptime] cap: usize,
    #[comptime] keys: usize,
    #[comptime] threads: usize,
) {
    let tid = UNIT_POS_X as usize;
    let group = comptime!(group_of(threads, rows, keys));
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
    let row_max = reduce_group::<F>(part, m, r, lane, active, group, threads, true);
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
    let sum = reduce_group::<F>(part, acc, r, lane, active, group, threads, false);
    if active {
        let mut j = lane;
        while j < len {
            cs[r * cap + j] /= sum;
            j += group;
        }
    }
    sync_cube();
}
