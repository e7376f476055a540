//! The training attention kernels (CubeCL), their shared parts and the forward with an online
//! softmax; the backward's two passes (per query row, then per key row) are in [`super::backward`].
//! A thread owns one row and keeps its vectors in registers; keys/values (forward, first backward
//! pass) or queries (second backward pass) stream through shared memory in tiles of [`TILE`] rows.
//! Dropout on the attention weights draws its mask from a hash of the call's seed and the weight's
//! index, so the backward pass regenerates the forward's mask instead of storing it.

use cubecl::prelude::*;

/// Four floats, the unit the kernels read and accumulate.
pub type F4<F> = Vector<F, Const<4>>;

/// Rows of keys (or queries) per shared-memory tile (8 KiB of keys and values at a head of 64).
pub const TILE: usize = 16;

/// Most threads (rows) per workgroup; a launch takes its row count rounded up to a warp (32), so
/// that 81 rows fill one group of 96.
pub const MAX_ROWS: usize = 128;

/// Keys per step of the forward's online softmax: their maximum rescales the running sums once.
pub const CHUNK: usize = 8;

/// Where the rows of a `[batch, heads, len, d_head]` tensor are, in four-float vectors: row `i`
/// of head `h` of batch `b` starts at `b·sb + h·sh + i·si` (its `d_head / 4` vectors contiguous).
#[derive(CubeType, CubeLaunch, Clone, Copy, Debug)]
pub struct RowLayout {
    /// Batch stride.
    pub sb: u32,
    /// Head stride.
    pub sh: u32,
    /// Row stride.
    pub si: u32,
}

/// Where a gradient kernel writes rows, in four-float vectors: row `i` of head `h` of batch `b` at
/// `off + b·sb + h·sh + i·si` (the query, key and value gradients of a packed projection share one
/// buffer, each at its own offset).
#[derive(CubeType, CubeLaunch, Clone, Copy, Debug)]
pub struct OutLayout {
    /// First vector.
    pub off: u32,
    /// Batch stride.
    pub sb: u32,
    /// Head stride.
    pub sh: u32,
    /// Row stride.
    pub si: u32,
}

/// Runtime sizes of a launch: heads, query and key lengths, and the bias strides in floats
/// (0 on a broadcast dimension) for batch, head, query, key.
#[derive(CubeType, CubeLaunch, Clone, Copy, Debug)]
pub struct Sizes {
    /// Heads.
    pub heads: u32,
    /// Query rows.
    pub tq: u32,
    /// Key rows.
    pub tk: u32,
    /// Bias stride over the batch.
    pub bb: u32,
    /// Bias stride over heads.
    pub bh: u32,
    /// Bias stride over query rows.
    pub bq: u32,
    /// Bias stride over keys.
    pub bk: u32,
}

/// Compile-time shape of a launch: threads, the head width and dropout.
#[derive(CubeType, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Consts {
    /// Threads (rows) per workgroup.
    pub rows: usize,
    /// Vectors per head (`d_head / 4`).
    pub d4: usize,
    /// Dropout on: weights whose hash is below `threshold` are dropped.
    pub dropout: bool,
    /// `p · 2³²` for dropout probability `p`.
    pub threshold: u32,
}

/// A 32-bit integer hash (a multiply–xorshift mixer with good avalanche).
#[cube]
pub fn mix(x: u32) -> u32 {
    let mut h = x;
    h ^= h >> 16;
    h *= 0x7feb_352d;
    h ^= h >> 15;
    h *= 0x846c_a68b;
    h ^= h >> 16;
    h
}

/// Whether weight `(bh, i, j)` survives dropout under `seed`.
#[cube]
pub fn kept(seed: u32, bh: u32, i: u32, j: u32, tq: u32, tk: u32, #[comptime] c: Consts) -> bool {
    let idx = (bh * tq + i) * tk + j;
    mix(idx ^ mix(seed)) >= c.threshold
}

/// Horizontal sum of a vector (the other kernel modules use it too).
#[cube]
pub fn hsum<F: Float>(v: F4<F>) -> F {
    (v.extract(0usize) + v.extract(1usize)) + (v.extract(2usize) + v.extract(3usize))
}

/// Loads rows `r0 .. r0 + TILE` of `src` (row `r` at vector `base + r · si`; zeros from `len` on)
/// into `dst` (`TILE · d4` vectors), all threads sharing the work.
#[cube]
#[allow(clippy::too_many_arguments)]
pub(super) fn load_tile<F: Float>(
    src: &Tensor<F4<F>>,
    base: u32,
    si: u32,
    r0: u32,
    len: u32,
    dst: &mut Shared<[F4<F>]>,
    #[comptime] d4: usize,
    #[comptime] rows: usize,
) {
    let mut e = UNIT_POS_X as usize;
    while e < TILE * d4 {
        let r = r0 + (e / d4) as u32;
        // Rows past the end are zeros: the forward reads whole chunks and weighs them by 0.
        let mut x = F4::<F>::new(F::new(0.0));
        if r < len {
            x = src[(base + r * si) as usize + e % d4];
        }
        dst[e] = x;
        e += rows;
    }
}

/// Forward: `out[b, i, h] = Σ_j drop(softmax_j(q_i·k_j / √d + bias_ij)) v_j` for every query row
/// `i` of `q` (`[batch, heads, tq, d]` as `qa` says), keys and values `[batch, heads, tk, d]`,
/// `bias` broadcast by its strides; `out` is `[batch, tq, heads, d]` contiguous and `lse`
/// `[batch, heads, tq]` the log-sum-exp of each row's scores (for the backward). `seed[0]` seeds
/// the dropout mask. Grid: `(⌈tq / rows⌉, batch · heads)`, `rows` threads.
#[cube(launch)]
#[allow(clippy::too_many_arguments)]
pub fn forward_kernel<F: Float>(
    q: &Tensor<F4<F>>,
    k: &Tensor<F4<F>>,
    v: &Tensor<F4<F>>,
    bias: &Tensor<F>,
    seed: &Tensor<F>,
    out: &mut Tensor<F4<F>>,
    lse: &mut Tensor<F>,
    qa: RowLayout,
    ka: RowLayout,
    va: RowLayout,
    sizes: Sizes,
    #[comptime] c: Consts,
    #[define(F)] _dtype: ElemType,
) {
    let scale = F::new(comptime!(1.0f32 / ((4 * c.d4) as f32).sqrt()));
    let bh = CUBE_POS_Y;
    let b = bh / sizes.heads;
    let h = bh % sizes.heads;
    let i = CUBE_POS_X * c.rows as u32 + UNIT_POS_X;
    let active = i < sizes.tq;
    let s0 = u32::cast_from(seed[0]);
    let inv_keep = F::new(1.0) / (F::new(1.0) - F::cast_from(c.threshold) / F::new(4294967296.0));
    let mut qr = Array::<F4<F>>::new(c.d4);
    let mut acc = Array::<F4<F>>::new(c.d4);
    #[unroll]
    for x in 0..c.d4 {
        acc[x] = F4::<F>::new(F::new(0.0));
        qr[x] = F4::<F>::new(F::new(0.0));
    }
    if active {
        let base = (b * qa.sb + h * qa.sh + i * qa.si) as usize;
        #[unroll]
        for x in 0..c.d4 {
            qr[x] = q[base + x] * F4::<F>::new(scale);
        }
    }
    let boff = b * sizes.bb + h * sizes.bh + i * sizes.bq;
    let mut m = F::new(-3.0e38);
    let mut l = F::new(0.0);
    let mut ks = Shared::<[F4<F>]>::new_slice(comptime!(TILE * c.d4));
    let mut vs = Shared::<[F4<F>]>::new_slice(comptime!(TILE * c.d4));
    let mut j0 = 0u32;
    while j0 < sizes.tk {
        load_tile::<F>(
            k,
            b * ka.sb + h * ka.sh,
            ka.si,
            j0,
            sizes.tk,
            &mut ks,
            c.d4,
            c.rows,
        );
        load_tile::<F>(
            v,
            b * va.sb + h * va.sh,
            va.si,
            j0,
            sizes.tk,
            &mut vs,
            c.d4,
            c.rows,
        );
        sync_cube();
        if active {
            let n = (sizes.tk - j0).min(TILE as u32);
            let mut c0 = 0u32;
            while c0 < n {
                // The chunk's scores (keys past the end: a floor that weighs 0) and maximum.
                let mut sc = Array::<F>::new(CHUNK);
                let mut mc = F::new(-3.0e38);
                #[unroll]
                for u in 0..CHUNK {
                    let jj = c0 + u as u32;
                    let row = jj as usize * c.d4;
                    let mut s4 = F4::<F>::new(F::new(0.0));
                    #[unroll]
                    for x in 0..c.d4 {
                        s4 += qr[x] * ks[row + x];
                    }
                    let jb = (j0 + jj).min(sizes.tk - 1);
                    let s = hsum::<F>(s4) + bias[(boff + jb * sizes.bk) as usize];
                    sc[u] = select(jj < n, s, F::new(-3.0e38));
                    mc = select(sc[u] > mc, sc[u], mc);
                }
                if mc > m {
                    let corr = (m - mc).exp();
                    l *= corr;
                    #[unroll]
                    for x in 0..c.d4 {
                        acc[x] *= F4::<F>::new(corr);
                    }
                    m = mc;
                }
                #[unroll]
                for u in 0..CHUNK {
                    let jj = c0 + u as u32;
                    let row = jj as usize * c.d4;
                    let p = (sc[u] - m).exp();
                    l += p;
                    let mut w = p;
                    if comptime!(c.dropout) {
                        w = select(
                            kept(s0, bh, i, j0 + jj, sizes.tq, sizes.tk, c),
                            p * inv_keep,
                            F::new(0.0),
                        );
                    }
                    #[unroll]
                    for x in 0..c.d4 {
                        acc[x] += F4::<F>::new(w) * vs[row + x];
                    }
                }
                c0 += CHUNK as u32;
            }
        }
        sync_cube();
        j0 += TILE as u32;
    }
    if active {
        let inv = F::new(1.0) / l;
        let base = (((b * sizes.tq + i) * sizes.heads + h) as usize) * c.d4;
        #[unroll]
        for x in 0..c.d4 {
            out[base + x] = acc[x] * F4::<F>::new(inv);
        }
        lse[(bh * sizes.tq + i) as usize] = m + l.ln();
    }
}
