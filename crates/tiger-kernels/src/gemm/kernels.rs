//! The matrix-product kernels (CubeCL): a register-tiled fp32 product `C = A · B` and the sum of a
//! split product's partial results.
//!
//! A workgroup of 256 threads computes a [`BM`] × [`BN`] tile of `C`, each thread an 8 × 8 block
//! of it in registers (rows `4·ty .. 4·ty + 4` and `64 + 4·ty ..`, columns likewise from `tx`, so
//! that its reads of shared memory are four-float vectors without bank conflicts). The inner
//! dimension streams through shared memory [`BK`] at a time; the next tile's global loads are
//! issued before the current tile's products, so their latency hides behind the arithmetic. A
//! product with a long inner dimension and a small output (a weight gradient over every token)
//! is split along the inner dimension over the grid's third axis; [`sum_parts_kernel`] adds the
//! parts.

use cubecl::prelude::*;

pub use crate::flash::kernels::F4;

/// Rows of `C` per workgroup.
pub const BM: usize = 128;
/// Columns of `C` per workgroup.
pub const BN: usize = 128;
/// Inner-dimension steps per shared-memory tile.
pub const BK: usize = 32;
/// Threads per workgroup (16 × 16).
pub const THREADS: usize = 256;

/// Vectors per row of a tile (`BM / 4`, equal to `BN / 4`).
const ROW4: usize = BM / 4;

/// Where vector `col` of inner step `row` sits in a shared tile: the column is XORed with
/// `(row / 4) mod 8`, so that the transposing stores (eight threads writing the same column of
/// rows four apart) land in different banks; a row's vectors stay a permutation of the row.
#[cube]
fn swizzle(row: u32, col: u32) -> u32 {
    row * ROW4 as u32 + (col ^ ((row / 4) % 8))
}

/// Runtime sizes of a product: `A` is `m × k`, `B` `k × n`, `C` `parts × m × n` contiguous.
#[derive(CubeType, CubeLaunch, Clone, Copy, Debug)]
pub struct Dims {
    /// Rows of `A` and `C`.
    pub m: u32,
    /// Columns of `B` and `C`.
    pub n: u32,
    /// The inner dimension.
    pub k: u32,
    /// `A`'s stride, in vectors, along its non-contiguous dimension (rows when `A` is row-major,
    /// columns when it is column-major).
    pub sa: u32,
    /// `B`'s stride, in vectors, along its non-contiguous dimension (rows when `B` is
    /// row-major, columns when it is column-major).
    pub sb: u32,
    /// Inner-dimension steps per part (a multiple of [`BK`]); part `z` covers
    /// `z·k_part .. min(k, (z + 1)·k_part)`.
    pub k_part: u32,
}

/// Loads a tile of an operand at inner step `k0` into four vectors per thread: [`BK`] inner
/// steps of 128 rows (`C`'s rows for `A`, its columns for `B`) from row `r0`. `along_k`: the
/// operand is contiguous along the inner dimension (element `(r, k)` at vector
/// `r · stride + k / 4`), so each thread reads a 4 × 4 block (four rows, four inner steps) and
/// transposes it, and each register holds four rows at one inner step. Otherwise it is
/// contiguous along the rows (element `(r, k)` at vector `k · stride + r / 4`) and each thread
/// reads four vectors along them. Out-of-range vectors are zeros (`k_end` ends this part's inner
/// range, `len` the rows).
#[cube]
#[allow(clippy::too_many_arguments)]
fn load_tile<F: Float>(
    src: &Tensor<F4<F>>,
    regs: &mut Array<F4<F>>,
    r0: u32,
    k0: u32,
    k_end: u32,
    len: u32,
    stride: u32,
    #[comptime] along_k: bool,
) {
    let tid = UNIT_POS_X;
    let zero = F4::<F>::new(F::new(0.0));
    if comptime!(along_k) {
        let kq = tid % 8;
        let rq = tid / 8;
        let k = k0 + kq * 4;
        let mut v = Array::<F4<F>>::new(4usize);
        #[unroll]
        for r in 0..4usize {
            let row = r0 + rq * 4 + r as u32;
            let mut x = zero;
            if row < len && k < k_end {
                x = src[(row * stride + k / 4) as usize];
            }
            v[r] = x;
        }
        #[unroll]
        for c in 0..4usize {
            let mut w = zero;
            w.insert(0usize, v[0].extract(c));
            w.insert(1usize, v[1].extract(c));
            w.insert(2usize, v[2].extract(c));
            w.insert(3usize, v[3].extract(c));
            regs[c] = w;
        }
    } else {
        #[unroll]
        for j in 0..4usize {
            let e = tid + (j * THREADS) as u32;
            let k = k0 + e / ROW4 as u32;
            let row = r0 + (e % ROW4 as u32) * 4;
            let mut x = zero;
            if row < len && k < k_end {
                x = src[(k * stride + row / 4) as usize];
            }
            regs[j] = x;
        }
    }
}

/// Stores the registers [`load_tile`] filled into a shared tile (`BK` rows of `128 / 4`
/// vectors, placed by [`swizzle`]: inner step major).
#[cube]
fn store_tile<F: Float>(
    regs: &Array<F4<F>>,
    tile: &mut Shared<[F4<F>]>,
    #[comptime] along_k: bool,
) {
    let tid = UNIT_POS_X as usize;
    if comptime!(along_k) {
        let kq = tid % 8;
        let rq = tid / 8;
        #[unroll]
        for c in 0..4usize {
            tile[swizzle(kq as u32 * 4 + c as u32, rq as u32) as usize] = regs[c];
        }
    } else {
        #[unroll]
        for j in 0..4usize {
            let e = tid + j * THREADS;
            tile[swizzle((e / ROW4) as u32, (e % ROW4) as u32) as usize] = regs[j];
        }
    }
}

/// `C[z] = A[:, part z] · B[part z, :]` for the tile at `(CUBE_POS_Y, CUBE_POS_X)` and part
/// `z = CUBE_POS_Z`. `A` (`m × k`) is row-major (`a_rows`) or column-major, with the stride
/// [`Dims::sa`]; `B` (`k × n`) row-major or column-major (`b_cols`), with [`Dims::sb`]; `C` is
/// `parts × m × n` contiguous. `m`, `k` and `n` must be multiples of 4. Grid:
/// `(⌈n / BN⌉, ⌈m / BM⌉, parts)`, [`THREADS`] threads.
#[cube(launch)]
pub fn gemm_kernel<F: Float>(
    a: &Tensor<F4<F>>,
    b: &Tensor<F4<F>>,
    c: &mut Tensor<F4<F>>,
    dims: Dims,
    #[comptime] a_rows: bool,
    #[comptime] b_cols: bool,
    #[define(F)] _dtype: ElemType,
) {
    let tid = UNIT_POS_X;
    let tx = tid % 16;
    let ty = tid / 16;
    let n0 = CUBE_POS_X * BN as u32;
    let m0 = CUBE_POS_Y * BM as u32;
    let z = CUBE_POS_Z;
    let k_begin = z * dims.k_part;
    let k_end = (k_begin + dims.k_part).min(dims.k);

    let mut a_tile = Shared::<[F4<F>]>::new_slice(comptime!(BK * ROW4));
    let mut b_tile = Shared::<[F4<F>]>::new_slice(comptime!(BK * ROW4));
    let mut a_regs = Array::<F4<F>>::new(4usize);
    let mut b_regs = Array::<F4<F>>::new(4usize);
    let mut acc = Array::<F4<F>>::new(16usize);
    #[unroll]
    for x in 0..16usize {
        acc[x] = F4::<F>::new(F::new(0.0));
    }

    let mut k0 = k_begin;
    load_tile::<F>(a, &mut a_regs, m0, k0, k_end, dims.m, dims.sa, a_rows);
    load_tile::<F>(b, &mut b_regs, n0, k0, k_end, dims.n, dims.sb, b_cols);
    while k0 < k_end {
        store_tile::<F>(&a_regs, &mut a_tile, a_rows);
        store_tile::<F>(&b_regs, &mut b_tile, b_cols);
        sync_cube();
        let next = k0 + BK as u32;
        if next < k_end {
            load_tile::<F>(a, &mut a_regs, m0, next, k_end, dims.m, dims.sa, a_rows);
            load_tile::<F>(b, &mut b_regs, n0, next, k_end, dims.n, dims.sb, b_cols);
        }
        #[unroll]
        for kk in 0..BK {
            // The row's swizzle is known at compile time (`kk` is unrolled).
            let sw = comptime!((kk / 4) % 8) as u32;
            let row = comptime!(kk * ROW4) as u32;
            let a0 = a_tile[(row + (ty ^ sw)) as usize];
            let a1 = a_tile[(row + ((16 + ty) ^ sw)) as usize];
            let b0 = b_tile[(row + (tx ^ sw)) as usize];
            let b1 = b_tile[(row + ((16 + tx) ^ sw)) as usize];
            #[unroll]
            for r in 0..4usize {
                let x0 = F4::<F>::new(a0.extract(r));
                let x1 = F4::<F>::new(a1.extract(r));
                acc[r * 2] += x0 * b0;
                acc[r * 2 + 1] += x0 * b1;
                acc[8 + r * 2] += x1 * b0;
                acc[8 + r * 2 + 1] += x1 * b1;
            }
        }
        sync_cube();
        k0 = next;
    }

    let n4 = dims.n / 4;
    let base = z * dims.m * n4;
    #[unroll]
    for half in 0..2usize {
        #[unroll]
        for r in 0..4usize {
            let m = m0 + (half * 64) as u32 + ty * 4 + r as u32;
            if m < dims.m {
                #[unroll]
                for side in 0..2usize {
                    let nq = n0 / 4 + (side * 16) as u32 + tx;
                    if nq < n4 {
                        c[(base + m * n4 + nq) as usize] = acc[half * 8 + r * 2 + side];
                    }
                }
            }
        }
    }
}

/// `out[i] = Σ_z parts[z · len + i]` over `count` parts of `len` vectors each. Grid: one thread
/// per output vector, 256 per workgroup.
#[cube(launch)]
pub fn sum_parts_kernel<F: Float>(
    parts: &Tensor<F4<F>>,
    out: &mut Tensor<F4<F>>,
    len: u32,
    count: u32,
    #[define(F)] _dtype: ElemType,
) {
    let i = ABSOLUTE_POS_X;
    if i < len {
        let mut s = parts[i as usize];
        let mut z = 1u32;
        while z < count {
            s += parts[(z * len + i) as usize];
            z += 1;
        }
        out[i as usize] = s;
    }
}
