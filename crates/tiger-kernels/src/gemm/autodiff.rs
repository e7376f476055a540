//! The differentiable linear-layer product on burn's autodiff backend: the forward records a
//! backward step whose two gradients are the same kernel on transposed views: `dx = dy · wᵀ`
//! and `dw = xᵀ · dy` (split along the rows).

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::ops::{GemmKernels, GemmLinear};

/// The backward step of `x · weight`.
#[derive(Debug)]
struct LinearBackward;

impl<B: GemmKernels> Backward<B, 2> for LinearBackward {
    type State = [NodeId; 2];

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [px, pw] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let [ix, iw] = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(ix);
        let w: FloatTensor<B> = checkpointer.retrieve_node_output(iw);
        if let Some(p) = px {
            grads.register::<B>(p.id, B::gemm(dy.clone(), B::float_swap_dims(w, 0, 1)));
        }
        if let Some(p) = pw {
            grads.register::<B>(p.id, B::gemm(B::float_swap_dims(x, 0, 1), dy));
        }
    }
}

impl<B: GemmKernels, C: CheckpointStrategy> GemmLinear for Autodiff<B, C> {
    fn gemm_linear(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        let prep = LinearBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful();
        match prep {
            OpsKind::Tracked(mut prep) => {
                let ids = [prep.checkpoint(&x), prep.checkpoint(&weight)];
                let out = B::gemm(x.into_primitive(), weight.into_primitive());
                prep.finish(ids, out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::gemm(x.into_primitive(), weight.into_primitive()))
            }
        }
    }
}
