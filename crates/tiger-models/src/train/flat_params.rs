//! A module's float parameters as a list of flat tensors, in the module's visiting order: read
//! them, read their gradients, or rebuild the module on top of them.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use burn::tensor::Gradients;

/// Every float parameter of `module`, each flattened to `[n]` (views of its buffer).
pub fn values<M: Module>(module: &M) -> Vec<Tensor<1>> {
    let mut collect = Collect {
        grads: None,
        out: Vec::new(),
    };
    module.visit(&mut collect);
    collect.out
}

/// The gradient of every float parameter of `module` (an autodiff module), flattened to `[n]`
/// and taken out of `grads`; zeros for a parameter without one.
pub fn grads<M: Module>(module: &M, grads: &mut Gradients) -> Vec<Tensor<1>> {
    let mut collect = Collect {
        grads: Some(grads),
        out: Vec::new(),
    };
    module.visit(&mut collect);
    collect.out
}

/// `template` with each float parameter replaced by a view of the next tensor of `flat` (shaped
/// like the parameter), tracked by autodiff as a leaf when `track`. Parameters beyond the end of
/// `flat` keep their values.
pub fn load<M: Module>(template: M, flat: &[Tensor<1>], track: bool) -> M {
    template.map(&mut Load {
        flat,
        next: 0,
        track,
    })
}

struct Load<'a> {
    flat: &'a [Tensor<1>],
    next: usize,
    track: bool,
}

impl ModuleMapper for Load<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(flat) = self.flat.get(self.next) else {
            return param;
        };
        self.next += 1;
        let dims = param.val().dims();
        let view = flat.clone().reshape(dims);
        let view = if self.track {
            view.autodiff().require_grad()
        } else {
            view
        };
        param.map(|_| view)
    }
}

struct Collect<'a> {
    grads: Option<&'a mut Gradients>,
    out: Vec<Tensor<1>>,
}

impl ModuleVisitor for Collect<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let n = value.shape().num_elements();
        let t = match self.grads.as_deref_mut() {
            Some(grads) => value
                .grad_remove(grads)
                .unwrap_or_else(|| value.clone().inner().zeros_like()),
            None => value.inner(),
        };
        self.out.push(t.reshape([n]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rqvae::RqVaeConfig;

    /// Loading a model's own flat values back gives the same model, and the codebooks come last
    /// (the graph trainer finds them there).
    #[test]
    fn values_load_back_in_order() {
        let device = Device::flex();
        let model = RqVaeConfig::new(6)
            .with_hidden_dims(vec![5])
            .with_latent_dim(3)
            .with_levels(2)
            .with_codebook_size(4)
            .init(&device);
        let flat = values(&model);
        // Encoder 6→5→3 and decoder 3→5→6: four weights and four biases, then two codebooks.
        assert_eq!(flat.len(), 10);
        let doubled: Vec<Tensor<1>> = flat.iter().map(|t| t.clone().mul_scalar(2.0)).collect();
        let loaded = load(model.clone(), &doubled, false);
        let again = values(&loaded);
        for (a, b) in again.iter().zip(&doubled) {
            assert_eq!(a.to_data(), b.to_data());
        }
        for level in 0..2 {
            let cb: Vec<f32> = loaded.codebooks[level]
                .val()
                .reshape([12])
                .try_into_vec_as()
                .unwrap();
            let want: Vec<f32> = doubled[8 + level].clone().try_into_vec_as().unwrap();
            assert_eq!(cb, want);
        }
    }
}
