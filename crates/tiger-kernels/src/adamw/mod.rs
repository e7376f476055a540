//! AdamW with per-parameter gradient-norm clipping, one kernel launch per parameter on the GPU.
//!
//! burn's `AdamW` with `GradientClipping::Norm` runs about six kernels per parameter (the norm's
//! reduction, the clip, the two moments, the bias corrections and the update, split wherever
//! burn's fusion gives up); for the recommender's 90 parameters that was about 535 of a training
//! step's 1,430 launches, each paying the host-side cost of a launch. [`FusedAdamW`] is a burn
//! [`Optimizer`] with the same arithmetic and the same per-parameter state
//! ([`AdamWState`], so checkpoints keep their format) whose step is [`kernel::adamw_kernel`] on
//! the GPU and burn's tensor operations elsewhere (or with `adamw` off in `TIGER_KERNELS`).

pub mod kernel;
pub mod ops;

use burn::backend::Dispatch;
use burn::optim::{AdamWState, AdaptiveMomentumState, LearningRate, Optimizer};
use burn::prelude::*;
use burn::tensor::DType;

use crate::choice::Kernel;
use ops::AdamWKernels;

/// AdamW (decoupled weight decay) with each parameter's gradient clipped to a maximum norm, as
/// burn's `AdamWConfig` (β1 0.9, β2 0.999, ε 1e-5 by default) with `GradientClipping::Norm`.
#[derive(Debug, Clone, Copy)]
pub struct FusedAdamW {
    /// Decay of the first moment.
    pub beta_1: f32,
    /// Decay of the second moment.
    pub beta_2: f32,
    /// Added to the denominator.
    pub epsilon: f32,
    /// Decoupled weight decay.
    pub weight_decay: f32,
    /// Largest gradient norm per parameter (`None`: no clipping).
    pub clip_norm: Option<f32>,
}

impl FusedAdamW {
    /// burn's AdamW defaults with this weight decay and clipping.
    pub fn new(weight_decay: f32, clip_norm: Option<f32>) -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            weight_decay,
            clip_norm,
        }
    }

    /// The step's scalars at step `time` (1-based) and learning rate `lr`:
    /// `[lr, decay factor, β1, β2, 1 − β1ᵗ, 1 − β2ᵗ, ε, clip (0: none)]`.
    fn scalars(&self, lr: LearningRate, time: usize) -> [f32; 8] {
        let t = time.min(i32::MAX as usize) as i32;
        [
            lr as f32,
            (1.0 - lr * self.weight_decay as f64) as f32,
            self.beta_1,
            self.beta_2,
            1.0 - self.beta_1.powi(t),
            1.0 - self.beta_2.powi(t),
            self.epsilon,
            self.clip_norm.unwrap_or(0.0),
        ]
    }

    /// The step with burn's tensor operations (the CPU, and the reference the kernel is tested
    /// against): the arithmetic of burn's norm clipping and `AdamW`, moment by moment.
    fn tensor_step<const D: usize>(
        &self,
        s: [f32; 8],
        p: Tensor<D>,
        g: Tensor<D>,
        m: Tensor<D>,
        v: Tensor<D>,
    ) -> [Tensor<D>; 3] {
        let [lr, decay, b1, b2, bc1, bc2, eps, clip] = s;
        let g = if clip > 0.0 {
            let norm = g.clone().square().sum().sqrt();
            let coef = (norm.add_scalar(f32::MIN_POSITIVE).recip() * clip).clamp_max(1.0);
            g * coef.unsqueeze()
        } else {
            g
        };
        let m = m.mul_scalar(b1).add(g.clone().mul_scalar(1.0 - b1));
        let v = v.mul_scalar(b2).add(g.square().mul_scalar(1.0 - b2));
        let delta = m
            .clone()
            .div_scalar(bc1)
            .div(v.clone().div_scalar(bc2).sqrt().add_scalar(eps));
        [p.mul_scalar(decay) - delta.mul_scalar(lr), m, v]
    }
}

/// Whether the kernel runs for a parameter of `n` elements on `device` of this `dtype` (it reads
/// four-float vectors).
fn applies(device: &Device, dtype: DType, n: usize) -> bool {
    Kernel::Adamw.on()
        && dtype == DType::F32
        && n.is_multiple_of(4)
        && crate::device::is_gpu(device)
}

impl Optimizer for FusedAdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let (m, v, time) = match state {
            Some(s) => (
                s.momentum.moment_1,
                s.momentum.moment_2,
                s.momentum.time + 1,
            ),
            None => (grad.zeros_like(), grad.zeros_like(), 1),
        };
        let s = self.scalars(lr, time);
        let shape = tensor.shape();
        let n = shape.num_elements();
        let [p, m, v] = if applies(&tensor.device(), tensor.dtype(), n) {
            Kernel::Adamw.count();
            let flat = |t: Tensor<D>| t.reshape([n]).into_dispatch();
            let (p, m, v) = <Dispatch as AdamWKernels>::adamw_update(
                flat(tensor),
                flat(grad),
                flat(m),
                flat(v),
                s[0],
                s[1],
                s[2],
                s[3],
                s[4],
                s[5],
                s[6],
                s[7],
            );
            let back = |t| Tensor::<1>::from_dispatch(t).reshape(shape.clone());
            [back(p), back(m), back(v)]
        } else {
            self.tensor_step(s, tensor, grad, m, v)
        };
        let momentum = AdaptiveMomentumState::new(time, m, v);
        (p, Some(AdamWState::new(momentum)))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        let mom = &mut state.momentum;
        mom.moment_1 = mom.moment_1.clone().to_device(device);
        mom.moment_2 = mom.moment_2.clone().to_device(device);
        mom.max_moment_2 = mom.max_moment_2.take().map(|t| t.to_device(device));
        state
    }
}

/// The same step through the kernel (where it applies) and through tensor operations, for tests:
/// `(kernel, tensors)`, each `[parameter, first moment, second moment]`.
pub fn both_paths<const D: usize>(
    opt: &FusedAdamW,
    lr: LearningRate,
    time: usize,
    [p, g, m, v]: [Tensor<D>; 4],
) -> ([Tensor<D>; 3], [Tensor<D>; 3]) {
    let s = opt.scalars(lr, time);
    let want = opt.tensor_step(s, p.clone(), g.clone(), m.clone(), v.clone());
    let state = (time > 1)
        .then(|| AdamWState::new(AdaptiveMomentumState::new(time - 1, m.clone(), v.clone())));
    let on = crate::Kernels::current().with(Kernel::Adamw, true);
    let (p2, st) = on.run(|| opt.step(lr, p, g, state));
    let st = st.map(|s| s.momentum);
    let got = match st {
        Some(s) => [p2, s.moment_1, s.moment_2],
        None => [p2.clone(), p2.zeros_like(), p2.zeros_like()],
    };
    (got, want)
}
