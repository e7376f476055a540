//! Linear layers whose weight gradient is computed in parts. burn computes a linear layer's weight
//! gradient as one product `[d_in, rows] @ [rows, d_out]`: a long inner dimension (every token of
//! the batch) and a small output, which keeps few GPU cores busy. Running the forward product as a
//! batch of `S` row blocks against the broadcast weight makes autodiff compute `S` partial
//! gradients side by side and sum them. Measured on the H200 (`tiger-bench matmul`,
//! docs/performance.md): a whole 20,480-token layer, forward and backward, 2.6 → 0.8 ms
//! (128→1024), 2.2 → 0.7 ms (1024→128), 0.9 → 0.4 ms (128→384). The parameters are burn's own
//! `Linear`, so checkpoints do not change.

use burn::nn::Linear;
use burn::prelude::*;

/// Fewest rows per part: below this the parts themselves get too short to keep a core busy.
const MIN_ROWS_PER_PART: usize = 1024;
/// Most parts (their partial gradients are `parts × d_in × d_out` floats before the sum).
const MAX_PARTS: usize = 64;

/// How many parts `rows` is split into: the largest power of two up to [`MAX_PARTS`] that divides
/// `rows` and leaves at least [`MIN_ROWS_PER_PART`] rows in each part (1 = no split).
pub fn parts(rows: usize) -> usize {
    let mut s = 1;
    while s < MAX_PARTS && rows.is_multiple_of(s * 2) && rows / (s * 2) >= MIN_ROWS_PER_PART {
        s *= 2;
    }
    s
}

/// `layer` applied to `x` (`[..., d_in]` → `[..., d_out]`), the same values as `layer.forward(x)`;
/// on the GPU through [`crate::gemm`] where its sizes fit, elsewhere while training
/// (autodiff) on enough rows with the weight gradient computed in [`parts`] pieces.
pub fn forward<const D: usize>(layer: &Linear, x: Tensor<D>) -> Tensor<D> {
    let dims = x.dims();
    let rows: usize = dims[..D - 1].iter().product();
    let [d_in, d_out] = layer.weight.dims();
    let gemm = crate::gemm::applies(&x.device(), rows, d_in, d_out);
    if !gemm && (parts(rows) == 1 || !x.is_autodiff()) {
        return layer.forward(x);
    }
    let y = forward_weight(layer.weight.val(), x);
    match &layer.bias {
        Some(bias) => {
            let d_out = bias.dims()[0];
            let mut shape = [1; D];
            shape[D - 1] = d_out;
            y + bias.val().reshape(shape)
        }
        None => y,
    }
}

/// `x` (`[..., d_in]`) times `weight` (`[d_in, d_out]`) → `[..., d_out]`: through
/// [`crate::gemm`] where it applies (on the GPU), else with the weight gradient in
/// [`parts`] pieces while training on enough rows: [`forward`] without a bias, for a weight made of
/// several layers' weights side by side (one product instead of one per layer).
pub fn forward_weight<const D: usize>(weight: Tensor<2>, x: Tensor<D>) -> Tensor<D> {
    let dims = x.dims();
    let d_in = dims[D - 1];
    let rows: usize = dims[..D - 1].iter().product();
    let d_out = weight.dims()[1];
    let s = parts(rows);
    let mut out = dims;
    out[D - 1] = d_out;
    let flat = x.reshape([rows, d_in]);
    if let Some(y) = crate::gemm::product(&flat, &weight) {
        return y.reshape(out);
    }
    if s == 1 || !flat.is_autodiff() {
        return flat.matmul(weight).reshape(out);
    }
    flat.reshape([s, rows / s, d_in])
        .matmul(weight.unsqueeze_dim::<3>(0))
        .reshape(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;
    use burn::tensor::Distribution;

    #[test]
    fn parts_divide_the_rows_and_keep_them_long() {
        assert_eq!(parts(1000), 1);
        assert_eq!(parts(20_480), 16);
        assert_eq!(parts(2048), 2);
        assert_eq!(parts(3000), 2);
        assert_eq!(parts(3001), 1);
        assert_eq!(parts(1 << 20), 64);
        for rows in [1, 7, 2048, 6400, 20_480, 1 << 20] {
            let s = parts(rows);
            assert!(rows.is_multiple_of(s) && (s == 1 || rows / s >= MIN_ROWS_PER_PART));
        }
    }

    #[test]
    fn split_layer_matches_burns_in_values_and_gradients() {
        let device = Device::flex().autodiff();
        let layer = LinearConfig::new(8, 5).init(&device);
        let x = Tensor::<3>::random([4, 1024, 8], Distribution::Default, &device).require_grad();
        let a = layer.forward(x.clone());
        let b = forward(&layer, x.clone());
        a.to_data()
            .assert_approx_eq::<f32>(&b.to_data(), burn::tensor::Tolerance::default());
        let ga = a.sum().backward();
        let gb = b.sum().backward();
        let w = &layer.weight;
        w.grad(&ga)
            .expect("grad")
            .to_data()
            .assert_approx_eq::<f32>(
                &w.grad(&gb).expect("grad").to_data(),
                burn::tensor::Tolerance::rel_abs(1e-4, 1e-3),
            );
        let bias = layer.bias.as_ref().expect("bias");
        bias.grad(&ga)
            .expect("grad")
            .to_data()
            .assert_approx_eq::<f32>(
                &bias.grad(&gb).expect("grad").to_data(),
                burn::tensor::Tolerance::rel_abs(1e-4, 1e-3),
            );
    }
}
