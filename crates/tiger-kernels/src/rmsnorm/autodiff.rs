//! The differentiable RMSNorm on burn's autodiff backend: the forward kernel records a backward
//! step that runs the backward kernel from the checkpointed input, `γ` and the forward's `rms`.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::ops::{NormKernels, RmsNormOp};

/// The backward step of the norm; its state is the inputs' checkpoints and the forward's `rms`.
#[derive(Debug)]
struct NormBackward;

impl<B: NormKernels> Backward<B, 2> for NormBackward {
    type State = ([NodeId; 2], FloatTensor<B>);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [px, pg] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let ([ix, ig], rms) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(ix);
        let gamma: FloatTensor<B> = checkpointer.retrieve_node_output(ig);
        let (dx, dgamma) = B::rms_norm_backward(x, gamma, rms, dy);
        if let Some(p) = px {
            grads.register::<B>(p.id, dx);
        }
        if let Some(p) = pg {
            grads.register::<B>(p.id, dgamma);
        }
    }
}

impl<B: NormKernels, C: CheckpointStrategy> RmsNormOp for Autodiff<B, C> {
    fn rms_norm(x: FloatTensor<Self>, gamma: FloatTensor<Self>, eps: f32) -> FloatTensor<Self> {
        let prep = NormBackward
            .prepare::<C>([x.node(), gamma.node()])
            .compute_bound()
            .stateful();
        match prep {
            OpsKind::Tracked(mut prep) => {
                let ids = [prep.checkpoint(&x), prep.checkpoint(&gamma)];
                let (y, rms) = B::rms_norm_forward(x.into_primitive(), gamma.into_primitive(), eps);
                prep.finish((ids, rms), y)
            }
            OpsKind::UnTracked(prep) => {
                let y = B::rms_norm_forward(x.into_primitive(), gamma.into_primitive(), eps).0;
                prep.finish(y)
            }
        }
    }
}
