//! Optimisers whose step-dependent values live on the device, so that a training step recorded as a
//! graph can be replayed unchanged. burn's Adam computes its bias corrections on the host from the
//! step number and hands them to the kernels as constants, which every replay would repeat. Adagrad
//! (without learning-rate decay) has no such values, but its step is written here too so that both
//! keep their state in buffers the trainer owns.

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

/// Adagrad with burn's `AdaGradConfig` defaults (no learning-rate decay, ε 1e-5) and the same
/// arithmetic: `s += g²; p -= lr · g / (√s + ε)`.
#[derive(Debug, Clone, Copy)]
pub struct DeviceAdagrad {
    /// Learning rate.
    pub lr: f64,
    /// Added to the denominator.
    pub epsilon: f64,
}

impl DeviceAdagrad {
    /// Adagrad with learning rate `lr` and burn's default ε.
    pub fn new(lr: f64) -> Self {
        Self { lr, epsilon: 1e-5 }
    }

    /// One step of a parameter. `param`, `grad` and the sum of squared gradients `sum` are `[n]`;
    /// returns the new `(param, sum)`.
    pub fn update(
        &self,
        param: Tensor<1>,
        grad: Tensor<1>,
        sum: Tensor<1>,
    ) -> (Tensor<1>, Tensor<1>) {
        let sum = sum + grad.clone().square();
        let step = grad / sum.clone().sqrt().add_scalar(self.epsilon);
        (param - step.mul_scalar(self.lr), sum)
    }
}

/// Adam or Adagrad, as [`tiger_core::config::OptimizerChoice`] picks.
#[derive(Debug, Clone, Copy)]
pub enum DeviceOptimizer {
    /// [`DeviceAdam`].
    Adam(DeviceAdam),
    /// [`DeviceAdagrad`].
    Adagrad(DeviceAdagrad),
}

impl DeviceOptimizer {
    /// The optimiser `choice` at learning rate `lr`.
    pub fn new(choice: tiger_core::config::OptimizerChoice, lr: f64) -> Self {
        match choice {
            tiger_core::config::OptimizerChoice::Adam => Self::Adam(DeviceAdam::new(lr)),
            tiger_core::config::OptimizerChoice::Adagrad => Self::Adagrad(DeviceAdagrad::new(lr)),
        }
    }

    /// What every parameter's update of step `t` (`[1]`, counting this step) shares.
    pub fn begin_step(&self, t: &Tensor<1>) -> OptimStep {
        match self {
            Self::Adam(adam) => OptimStep::Adam(*adam, adam.factors(t)),
            Self::Adagrad(adagrad) => OptimStep::Adagrad(*adagrad),
        }
    }
}

/// One step of a [`DeviceOptimizer`], with Adam's factors for it.
#[derive(Debug, Clone)]
pub enum OptimStep {
    /// Adam and this step's factors.
    Adam(DeviceAdam, StepFactors),
    /// Adagrad.
    Adagrad(DeviceAdagrad),
}

impl OptimStep {
    /// One parameter's update. `param`, `grad` and the two state tensors are `[n]` (Adam's
    /// moments; Adagrad's sum of squared gradients and one it does not use); returns the new
    /// `(param, first, second)`, with `second` `None` when it did not change.
    pub fn update(
        &self,
        param: Tensor<1>,
        grad: Tensor<1>,
        first: Tensor<1>,
        second: Tensor<1>,
    ) -> (Tensor<1>, Tensor<1>, Option<Tensor<1>>) {
        match self {
            Self::Adam(adam, f) => {
                let (param, m, v) = adam.update(param, grad, first, second, f);
                (param, m, Some(v))
            }
            Self::Adagrad(adagrad) => {
                let (param, sum) = adagrad.update(param, grad, first);
                (param, sum, None)
            }
        }
    }
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
    use burn::optim::{AdaGradConfig, AdamConfig, GradientsParams, ModuleOptimizer};
    use burn::tensor::Tolerance;
    use tiger_core::config::OptimizerChoice;

    #[derive(burn::module::Module, Debug)]
    struct One {
        w: Param<Tensor<1>>,
    }

    /// Five steps of a [`DeviceOptimizer`] on a quadratic against burn's own optimiser.
    fn five_steps_match(choice: OptimizerChoice, mut optim: ModuleOptimizer) {
        let device = Device::flex();
        let ad = device.clone().autodiff();
        let start: Vec<f32> = vec![0.5, -1.5, 2.0, 0.0];
        let target =
            Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 1.0, -1.0, 3.0], [4]), &ad);
        let mut model = One {
            w: Param::from_tensor(Tensor::from_data(TensorData::new(start.clone(), [4]), &ad)),
        };
        let ours = DeviceOptimizer::new(choice, 0.1);
        let mut p = Tensor::<1>::from_data(TensorData::new(start, [4]), &device);
        let mut first = p.zeros_like();
        let mut second = p.zeros_like();
        let mut t = Tensor::<1>::zeros([1], &device);
        for _ in 0..5 {
            let loss = (model.w.val() - target.clone()).square().sum();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(0.1, model, grads);

            let g = (p.clone() - target.clone().inner()).mul_scalar(2.0);
            t = t.add_scalar(1.0);
            let (p2, first2, second2) = ours.begin_step(&t).update(p, g, first, second.clone());
            (p, first, second) = (p2, first2, second2.unwrap_or(second));
        }
        p.to_data().assert_approx_eq(
            &model.w.val().inner().to_data(),
            Tolerance::<f32>::absolute(1e-5),
        );
        // Five steps of 0.1 moved every weight: the comparison is not between two starts.
        let moved: Vec<f32> = p.try_into_vec_as().unwrap();
        assert!((moved[0] - 0.5).abs() > 0.1, "{choice:?}: {moved:?}");
    }

    #[test]
    fn five_steps_match_burns_adam() {
        five_steps_match(OptimizerChoice::Adam, AdamConfig::new().init());
    }

    #[test]
    fn five_steps_match_burns_adagrad() {
        five_steps_match(OptimizerChoice::Adagrad, AdaGradConfig::new().init());
    }
}
