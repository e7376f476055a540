//! The nearest-codeword search of every level in one GPU kernel (CubeCL, compiled to WGSL by
//! burn-wgpu).
//!
//! Written with the tensor API, residual quantization costs per level a matrix product, a norm, a
//! subtraction, an arg-min, a gather and another subtraction: about six launches per level and
//! three round trips through device memory. Here one workgroup takes one row: its threads share the
//! codebook's codes, each keeps the best distance among its codes, a tree reduction in shared
//! memory picks the winner (lowest index on a tie, as `argmin` does), and the residual, held in
//! shared memory, is updated before the next level. Distances are computed as `Σ (r − c)²`
//! directly, which is also more accurate than the `‖c‖² − 2 r·c` expansion.
//!
//! The kernel only chooses codes; codewords are then gathered with the tensor API so that gradients
//! still reach the codebooks. It runs on burn's cube backend (with or without fusion); on other
//! backends the RQ-VAE's quantizer (`tiger_models::rqvae::quantizer`) takes the tensor path.

use burn::backend::cubecl::dtype_to_storage_type;
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::{IntDType, Shape};
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use cubecl::prelude::*;

/// Threads per workgroup at most (one workgroup per row).
const MAX_WIDTH: usize = 256;
/// Widest latent vector the kernel takes (it holds the residual in shared memory); wider ones use
/// the tensor path.
pub const MAX_DIM: usize = 4096;
/// Workgroups per grid dimension that every Vulkan device allows; more rows use a second dimension.
const MAX_GROUPS_X: usize = 65_535;

/// One workgroup per row of `z`. `z`: `[batch, dim]`, `books`: `[levels, dim, codes]` (codebooks
/// transposed, so that neighbouring threads, which take neighbouring codes, read neighbouring
/// addresses), both contiguous; writes `codes`: `[batch, levels]`. `width` is the workgroup size
/// (a power of two).
#[cube(launch)]
fn rq_codes_kernel<F: Float, I: Numeric>(
    z: &Tensor<F>,
    books: &Tensor<F>,
    codes: &mut Tensor<I>,
    #[comptime] dim: usize,
    #[comptime] width: usize,
    #[define(F, I)] _dtypes: [ElemType; 2],
) {
    let row = CUBE_POS_Y as usize * CUBE_COUNT_X as usize + CUBE_POS_X as usize;
    if row >= z.shape(0) {
        terminate!();
    }
    let t = UNIT_POS_X as usize;
    let levels = books.shape(0);
    let n_codes = books.shape(2);

    let mut residual = Shared::new_slice(dim);
    let mut best_dist = Shared::new_slice(width);
    let mut best_code = Shared::new_slice(width);

    let mut d = t;
    while d < dim {
        residual[d] = z[row * dim + d];
        d += width;
    }
    sync_cube();

    for level in 0..levels {
        let book = level * dim * n_codes;
        let mut mine = F::max_value();
        let mut mine_code = 0u32;
        let mut k = t;
        while k < n_codes {
            let mut acc = F::new(0.0);
            for j in 0..dim {
                let diff = residual[j] - books[book + j * n_codes + k];
                acc += diff * diff;
            }
            if acc < mine {
                mine = acc;
                mine_code = k as u32;
            }
            k += width;
        }
        best_dist[t] = mine;
        best_code[t] = mine_code;
        sync_cube();

        let mut stride = (CUBE_DIM_X / 2) as usize;
        while stride > 0 {
            if t < stride {
                let other = best_dist[t + stride];
                let other_code = best_code[t + stride];
                if other < best_dist[t] || (other == best_dist[t] && other_code < best_code[t]) {
                    best_dist[t] = other;
                    best_code[t] = other_code;
                }
            }
            sync_cube();
            stride /= 2;
        }

        let chosen = best_code[0] as usize;
        let mut d = t;
        while d < dim {
            residual[d] = residual[d] - books[book + d * n_codes + chosen];
            d += width;
        }
        if t == 0 {
            codes[row * levels + level] = I::cast_from(chosen);
        }
        sync_cube();
    }
}

/// `[batch, levels]` from `z` (`[batch, dim]`) and `books` (`[levels, dim, codes]`).
fn codes_shape(z: &Shape, books: &Shape) -> Shape {
    Shape::new([z[0], books[0]])
}

/// Residual-quantization codes as a backend operation, so that burn's fusion stream orders the
/// kernel with the operations around it (nothing waits on the host).
#[backend_extension(Cube, Fusion)]
pub trait RqCodesOps: Backend {
    /// `z`: `[batch, dim]`, `books`: `[levels, dim, codes]` → codes `[batch, levels]`.
    #[fusion(dtype = (*out_dtype).into(), shape = codes_shape(z, books))]
    fn rq_codes(
        z: FloatTensor<Self>,
        books: FloatTensor<Self>,
        out_dtype: IntDType,
    ) -> IntTensor<Self>;
}

impl RqCodesOps for CubeBackend {
    fn rq_codes(
        z: FloatTensor<Self>,
        books: FloatTensor<Self>,
        out_dtype: IntDType,
    ) -> IntTensor<Self> {
        let z = into_contiguous(z);
        let books = into_contiguous(books);
        let [batch, dim] = z.meta.shape().dims::<2>();
        let levels = books.meta.shape()[0];
        let n_codes = books.meta.shape()[2];
        let float = z.dtype;
        let int: burn::tensor::DType = out_dtype.into();
        let out = empty_device_contiguous_dtype(
            z.client.clone(),
            z.device.clone(),
            Shape::new([batch, levels]),
            int,
        );
        if batch == 0 || levels == 0 {
            return out;
        }
        let width = n_codes.clamp(1, MAX_WIDTH).next_power_of_two();
        let groups_x = batch.min(MAX_GROUPS_X);
        let groups_y = batch.div_ceil(groups_x);
        rq_codes_kernel::launch(
            &out.client,
            CubeCount::Static(groups_x as u32, groups_y as u32, 1),
            CubeDim::new_1d(width as u32),
            z.into_tensor_arg(),
            books.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            dim,
            width,
            [dtype_to_storage_type(float), dtype_to_storage_type(int)],
        );
        out
    }
}

/// Whether `device` (with or without autodiff) runs burn's cube backend (burn-wgpu), where the
/// kernel exists, and the calling thread's [`crate::Kernels`] leave `rq_codes` on.
pub fn available(device: &burn::tensor::Device) -> bool {
    crate::choice::Kernel::RqCodes.on() && crate::device::is_gpu(device)
}

/// Codes of every level for `z` (`[batch, dim]`) against `books` (`[levels, codes, dim]`), on a
/// device where [`available`] holds; neither input is differentiated. Returns `[batch, levels]`.
pub fn rq_codes(
    z: burn::tensor::Tensor<2>,
    books: burn::tensor::Tensor<3>,
) -> burn::tensor::Tensor<2, burn::tensor::Int> {
    crate::choice::Kernel::RqCodes.count();
    let device = z.device().inner();
    let transposed = books.inner().swap_dims(1, 2);
    let out = <Dispatch as RqCodesOps>::rq_codes(
        z.inner().into_dispatch(),
        transposed.into_dispatch(),
        device.settings().int_dtype,
    );
    burn::tensor::Tensor::from_dispatch(out)
}
