//! The kernel launches on burn's cube backend: both operands read in place whichever dimension
//! is contiguous (a weight's transpose in the input gradient, the activations' in the weight
//! gradient), the output allocated contiguous.

use crate::alloc::empty_like as empty;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use cubecl::prelude::*;

use super::kernels::{BK, BM, BN, DimsLaunch, THREADS, gemm_kernel, sum_parts_kernel};
use super::ops::{GemmKernels, GemmLinear};

type CubeTensor = FloatTensor<CubeBackend>;

/// Workgroups a launch should have to fill a large GPU (two per multiprocessor of an H200, with
/// some to spare); a product with fewer output tiles is split along its inner dimension.
const TARGET_GROUPS: usize = 264;
/// Fewest inner-dimension steps per part.
const MIN_PART: usize = 256;

/// Whether `t` (2-d) is contiguous along `dim` with the other stride in whole vectors.
fn vector_major(t: &CubeTensor, dim: usize) -> bool {
    let s = t.meta.strides();
    s[dim] == 1 && s[1 - dim].is_multiple_of(4)
}

/// How many parts a product with `tiles` output tiles and inner dimension `k` is split into, and
/// the inner steps per part (a multiple of [`BK`]).
pub fn split(tiles: usize, k: usize) -> (usize, usize) {
    let wanted = TARGET_GROUPS.div_ceil(tiles.max(1));
    let most = (k / MIN_PART).max(1);
    let parts = wanted.clamp(1, most);
    let k_part = k.div_ceil(parts).div_ceil(BK) * BK;
    (k.div_ceil(k_part.max(1)).max(1), k_part.max(BK))
}

impl GemmKernels for CubeBackend {
    fn gemm(a: CubeTensor, b: CubeTensor) -> CubeTensor {
        let [m, k] = a.meta.shape().dims::<2>();
        let n = b.meta.shape()[1];
        let out = empty(&a, Shape::new([m, n]));
        if m * n == 0 {
            return out;
        }
        if k == 0 {
            return burn_cubecl::ops::numeric::zeros_client(
                a.client.clone(),
                a.device.clone(),
                Shape::new([m, n]),
                a.dtype,
            );
        }
        let (a, a_rows) = if vector_major(&a, 1) {
            (a, true)
        } else if vector_major(&a, 0) {
            (a, false)
        } else {
            (into_contiguous(a), true)
        };
        let sa = a.meta.strides()[if a_rows { 0 } else { 1 }] / 4;
        let (b, b_cols) = if vector_major(&b, 1) {
            (b, false)
        } else if vector_major(&b, 0) {
            (b, true)
        } else {
            (into_contiguous(b), false)
        };
        let sb = b.meta.strides()[if b_cols { 1 } else { 0 }] / 4;
        let tiles = m.div_ceil(BM) * n.div_ceil(BN);
        let (mut parts, mut k_part) = split(tiles, k);
        if (m * n / 4).div_ceil(THREADS) > 65_535 {
            (parts, k_part) = (1, k.div_ceil(BK) * BK);
        }
        let dims = DimsLaunch::new(
            m as u32,
            n as u32,
            k as u32,
            sa as u32,
            sb as u32,
            k_part as u32,
        );
        let dtype = burn::backend::cubecl::dtype_to_storage_type(a.dtype);
        let target = if parts == 1 {
            out.clone()
        } else {
            empty(&a, Shape::new([parts, m, n]))
        };
        let client = a.client.clone();
        gemm_kernel::launch(
            &client,
            CubeCount::Static(n.div_ceil(BN) as u32, m.div_ceil(BM) as u32, parts as u32),
            CubeDim::new_1d(THREADS as u32),
            a.into_tensor_arg(),
            b.into_tensor_arg(),
            target.clone().into_tensor_arg(),
            dims,
            a_rows,
            b_cols,
            dtype,
        );
        if parts > 1 {
            let len = m * n / 4;
            sum_parts_kernel::launch(
                &client,
                CubeCount::Static(len.div_ceil(THREADS) as u32, 1, 1),
                CubeDim::new_1d(THREADS as u32),
                target.into_tensor_arg(),
                out.clone().into_tensor_arg(),
                len as u32,
                parts as u32,
                dtype,
            );
        }
        out
    }
}

impl GemmLinear for CubeBackend {
    fn gemm_linear(x: CubeTensor, weight: CubeTensor) -> CubeTensor {
        Self::gemm(x, weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_fills_the_gpu_and_covers_the_inner_dimension() {
        // A weight gradient over 20,736 tokens with a 128 × 384 output: 3 tiles.
        let (parts, k_part) = split(3, 20_736);
        assert!(parts * k_part >= 20_736 && (parts - 1) * k_part < 20_736);
        assert_eq!(k_part % BK, 0);
        assert!(parts >= 64, "{parts}");
        // Enough tiles, or a short inner dimension: one part.
        assert_eq!(split(1440, 128), (1, 128));
        assert_eq!(split(1, 100), (1, 128));
        let (parts, k_part) = split(8, 1024);
        assert_eq!((parts, k_part), (4, 256));
    }
}
