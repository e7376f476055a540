//! Nearest-codeword search and residual quantization on the device.

use burn::prelude::*;

/// For each row of `residual` (`[batch, dim]`), the index of the nearest codeword of `codebook`
/// (`[codes, dim]`, squared Euclidean distance) and that codeword. Returns (`[batch]`,
/// `[batch, dim]`).
pub fn nearest(residual: Tensor<2>, codebook: Tensor<2>) -> (Tensor<1, Int>, Tensor<2>) {
    let [batch, _] = residual.dims();
    // ‖r − c‖² = ‖r‖² − 2 r·c + ‖c‖²; ‖r‖² is the same for every code, so it is left out.
    let cross = residual.matmul(codebook.clone().transpose());
    let c2 = codebook.clone().square().sum_dim(1).transpose();
    let dist = c2 - cross.mul_scalar(2.0);
    let idx = dist.argmin(1).reshape([batch]);
    let e = codebook.select(0, idx.clone());
    (idx, e)
}

/// The code of every level for `z` (`[batch, dim]`) against `codebooks` (each `[codes, dim]`), as
/// residual quantization chooses them; nothing is differentiated. On burn's cube backend (the GPU)
/// one fused kernel does all levels ([`tiger_kernels::rq_codes`]); elsewhere the tensor path
/// ([`nearest`] per level). Returns `[batch, levels]`.
pub fn codes(z: Tensor<2>, codebooks: &[Tensor<2>]) -> Tensor<2, Int> {
    let [_, dim] = z.dims();
    let fits = dim <= tiger_kernels::rq_codes::MAX_DIM
        && codebooks.first().is_some_and(|c| c.dims()[0] > 0);
    if fits && tiger_kernels::rq_codes::available(&z.device()) {
        let books = Tensor::stack(codebooks.iter().map(|c| c.clone().inner()).collect(), 0);
        return tiger_kernels::rq_codes::rq_codes(z, books);
    }
    tensor_codes(z, codebooks)
}

/// [`codes`] with tensor operations only, on any backend. Returns `[batch, levels]`.
pub fn tensor_codes(z: Tensor<2>, codebooks: &[Tensor<2>]) -> Tensor<2, Int> {
    let mut residual = z.inner();
    let mut codes = Vec::with_capacity(codebooks.len());
    for cb in codebooks {
        let (idx, e) = nearest(residual.clone(), cb.clone().inner());
        residual = residual - e;
        codes.push(idx.unsqueeze_dim::<2>(1));
    }
    Tensor::cat(codes, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t2(v: &[f32], rows: usize, cols: usize, d: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), [rows, cols]), d)
    }

    #[test]
    fn residual_codes_on_a_hand_made_codebook() {
        let d = Device::flex();
        // Level 1: codes at (0,0), (10,0), (0,10). Level 2: (1,0), (0,1), (-1,0).
        let cb1 = t2(&[0., 0., 10., 0., 0., 10.], 3, 2, &d);
        let cb2 = t2(&[1., 0., 0., 1., -1., 0.], 3, 2, &d);
        // (9.1, 1.2) → level 1 code 1 (10,0), residual (-0.9, 1.2) → level 2 code 1 (0,1).
        // (0.5, 9.0) → level 1 code 2 (0,10), residual (0.5, -1.0) → level 2 code 0 (1,0).
        let z = t2(&[9.1, 1.2, 0.5, 9.0], 2, 2, &d);
        let codes: Vec<i64> = tensor_codes(z, &[cb1, cb2]).try_into_vec_as().unwrap();
        assert_eq!(codes, vec![1, 1, 2, 0]);
    }
}
