//! Adam and AdamW whose update of a parameter is one GPU operation ([`super::adam_kernel`]) instead
//! of burn's thirteen or so tensor operations. The arithmetic is burn's (`burn::optim::Adam` /
//! `AdamW`, no AMSGrad), and so is the saved state (`AdamState`: step count and both moments), so
//! checkpoints written before this optimiser existed still resume. Off the GPU, or with
//! `TIGER_FUSED_ADAM=off`, each step is burn's own.

use burn::optim::{
    AdamConfig, AdamState, AdamWConfig, AdamWState, AdaptiveMomentumState, LearningRate,
    ModuleOptimizer, Optimizer,
};
use burn::tensor::{Device, Tensor};

use super::adam_kernel::{self, AdamScalars};

/// Set to `off` to run burn's Adam/AdamW on the GPU too (for comparing the two in a benchmark).
pub const SWITCH_ENV: &str = "TIGER_FUSED_ADAM";

/// Adam (no weight decay) or AdamW (decoupled weight decay) with a fused update.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    /// Decoupled weight decay; 0 is plain Adam.
    weight_decay: f32,
}

impl FusedAdam {
    /// Adam with burn's defaults (β 0.9 / 0.999, ε 1e-5).
    pub fn adam() -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            weight_decay: 0.0,
        }
    }

    /// AdamW with burn's defaults and `weight_decay`.
    pub fn adamw(weight_decay: f32) -> Self {
        Self {
            weight_decay,
            ..Self::adam()
        }
    }

    /// The optimiser for a whole module.
    pub fn init(self) -> ModuleOptimizer {
        ModuleOptimizer::from(self)
    }

    /// burn's own step with the same settings (the CPU path, and the reference in tests).
    fn burn_step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        if self.weight_decay == 0.0 {
            let adam = AdamConfig::new()
                .with_beta_1(self.beta_1)
                .with_beta_2(self.beta_2)
                .with_epsilon(self.epsilon)
                .build();
            return adam.step(lr, tensor, grad, state);
        }
        let adamw = AdamWConfig::new()
            .with_beta_1(self.beta_1)
            .with_beta_2(self.beta_2)
            .with_epsilon(self.epsilon)
            .with_weight_decay(self.weight_decay)
            .build();
        let state = state.map(|s| AdamWState::new(s.momentum));
        let (tensor, state) = adamw.step(lr, tensor, grad, state);
        (tensor, state.map(|s| AdamState::new(s.momentum)))
    }
}

/// Whether the fused update runs on `device`: burn's cube backend, not switched off.
fn fused_on(device: &Device) -> bool {
    static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let off = *OFF.get_or_init(|| std::env::var(SWITCH_ENV).is_ok_and(|v| v == "off"));
    !off && crate::device::is_gpu(device)
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let amsgrad = state
            .as_ref()
            .is_some_and(|s| s.momentum.max_moment_2.is_some());
        if amsgrad || !fused_on(&tensor.device()) {
            return self.burn_step(lr, tensor, grad, state);
        }
        let (time, m, v) = match state {
            Some(s) => (
                s.momentum.time + 1,
                s.momentum.moment_1,
                s.momentum.moment_2,
            ),
            None => (1, tensor.zeros_like(), tensor.zeros_like()),
        };
        let t = i32::try_from(time).unwrap_or(i32::MAX);
        let scalars = AdamScalars {
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            correct_1: 1.0 / (1.0 - self.beta_1.powi(t)),
            correct_2: 1.0 / (1.0 - self.beta_2.powi(t)),
            epsilon: self.epsilon,
            lr: lr as f32,
            keep: (1.0 - lr * self.weight_decay as f64) as f32,
        };
        let (p, m, v) = adam_kernel::update(tensor, grad, m, v, &scalars);
        let state = AdamState::new(AdaptiveMomentumState::new(time, m, v));
        (p, Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn tensor(values: &[f32], device: &Device) -> Tensor<2> {
        Tensor::<2>::from_data(
            TensorData::new(values.to_vec(), [2, values.len() / 2]),
            device,
        )
    }

    #[test]
    fn off_the_gpu_it_is_burns_step() {
        let device = Device::default();
        let p = tensor(&[0.5, -1.0, 2.0, 0.25], &device);
        let g = tensor(&[0.1, -0.2, 0.3, 0.0], &device);
        let opt = FusedAdam::adamw(0.01);
        let (a, sa) = opt.step(1e-2, p.clone(), g.clone(), None);
        let (b, sb) = opt.burn_step(1e-2, p, g, None);
        a.into_data()
            .assert_approx_eq::<f32>(&b.into_data(), burn::tensor::Tolerance::default());
        assert_eq!(sa.map(|s| s.momentum.time), sb.map(|s| s.momentum.time));
    }
}
