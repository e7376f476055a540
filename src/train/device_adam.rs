//! Adam whose step count lives on the device, so that a training step captured as a graph can be
//! replayed unchanged. burn's Adam computes its bias corrections on the host from the step number
//! and hands them to the kernels as constants, which every replay would repeat.

use burn::prelude::*;

/// Adam (Kingma & Ba) on flat parameters, with burn's `AdamConfig` defaults (β1 0.9, β2 0.999,
/// ε 1e-5) and the same arithmetic: `p -= lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)`.
#[derive(Debug, Clone, Copy)]
pub struct DeviceAdam {
    /// Learning rate.
    pub lr: f64,
    /// Decay of the first moment.
    pub beta_1: f64,
    /// Decay of the second moment.
    pub beta_2: f64,
    /// Added to the denominator.
    pub epsilon: f64,
}

/// The step-dependent factors of one Adam step, each `[1]`, computed on the device.
#[derive(Debug, Clone)]
pub struct StepFactors {
    /// `lr / (1 − β1ᵗ)`.
    step_size: Tensor<1>,
    /// `1 / √(1 − β2ᵗ)`.
    inv_sqrt_bc2: Tensor<1>,
}

impl DeviceAdam {
    /// Adam with learning rate `lr` and burn's default decays and ε.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
        }
    }

    /// The factors of step `t` (`[1]`, counting from 1, this step included).
    pub fn factors(&self, t: &Tensor<1>) -> StepFactors {
        let bias = |beta: f64| t.clone().mul_scalar(beta.ln()).exp().neg().add_scalar(1.0);
        StepFactors {
            step_size: bias(self.beta_1).recip().mul_scalar(self.lr),
            inv_sqrt_bc2: bias(self.beta_2).sqrt().recip(),
        }
    }

    /// One step of a parameter. `param`, `grad`, `m` and `v` are `[n]`; returns the new
    /// `(param, m, v)`, each computed from its old value alone so that it can take its buffer.
    pub fn update(
        &self,
        param: Tensor<1>,
        grad: Tensor<1>,
        m: Tensor<1>,
        v: Tensor<1>,
        f: &StepFactors,
    ) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
        let m = m.mul_scalar(self.beta_1) + grad.clone().mul_scalar(1.0 - self.beta_1);
        let v = v.mul_scalar(self.beta_2) + grad.square().mul_scalar(1.0 - self.beta_2);
        let denom = (v.clone().sqrt() * f.inv_sqrt_bc2.clone()).add_scalar(self.epsilon);
        let param = param - m.clone() * f.step_size.clone() / denom;
        (param, m, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::optim::{AdamConfig, GradientsParams};
    use burn::tensor::Tolerance;

    #[derive(burn::module::Module, Debug)]
    struct One {
        w: Param<Tensor<1>>,
    }

    /// Five steps on a quadratic match burn's Adam to float precision.
    #[test]
    fn five_steps_match_burns_adam() {
        let device = Device::flex();
        let ad = device.clone().autodiff();
        let start: Vec<f32> = vec![0.5, -1.5, 2.0, 0.0];
        let target =
            Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 1.0, -1.0, 3.0], [4]), &ad);
        let mut model = One {
            w: Param::from_tensor(Tensor::from_data(TensorData::new(start.clone(), [4]), &ad)),
        };
        let mut optim = AdamConfig::new().init();
        let adam = DeviceAdam::new(0.1);
        let mut p = Tensor::<1>::from_data(TensorData::new(start, [4]), &device);
        let mut m = p.zeros_like();
        let mut v = p.zeros_like();
        let mut t = Tensor::<1>::zeros([1], &device);
        for _ in 0..5 {
            let loss = (model.w.val() - target.clone()).square().sum();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(0.1, model, grads);

            let g = (p.clone() - target.clone().inner()).mul_scalar(2.0);
            t = t.add_scalar(1.0);
            let f = adam.factors(&t);
            (p, m, v) = adam.update(p, g, m, v, &f);
        }
        p.to_data().assert_approx_eq(
            &model.w.val().inner().to_data(),
            Tolerance::<f32>::absolute(1e-5),
        );
        // Five steps of 0.1 moved every weight: the comparison is not between two starts.
        let moved: Vec<f32> = p.try_into_vec_as().unwrap();
        assert!((moved[0] - 0.5).abs() > 0.2, "{moved:?}");
    }
}
