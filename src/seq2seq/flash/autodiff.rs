//! The differentiable attention on burn's autodiff backend: the forward kernel records a backward
//! step that runs the backward kernels, from the checkpointed inputs and the forward's output and
//! log-sum-exp.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, broadcast_shape};
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;
use burn_backend::TensorMetadata;

use super::ops::{FlashAttention, FlashKernels};

/// The recorded backward step of one attention call.
#[derive(Debug)]
struct FlashBackward;

/// What the backward needs: the inputs' checkpoints, the bias's shape (its gradient is summed
/// over the dimensions it was broadcast on), the seed, the forward's output and log-sum-exp, and
/// the dropout threshold.
type State<B> = (
    [NodeId; 4],
    Shape,
    FloatTensor<B>,
    FloatTensor<B>,
    FloatTensor<B>,
    usize,
);

impl<B: FlashKernels> Backward<B, 4> for FlashBackward {
    type State = State<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 4>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [pq, pk, pv, pb] = ops.parents;
        let dout = grads.consume::<B>(&ops.node);
        let ([iq, ik, iv, ib], bias_shape, seed, out, lse, threshold) = ops.state;
        let q: FloatTensor<B> = checkpointer.retrieve_node_output(iq);
        let k: FloatTensor<B> = checkpointer.retrieve_node_output(ik);
        let v: FloatTensor<B> = checkpointer.retrieve_node_output(iv);
        let bias: FloatTensor<B> = checkpointer.retrieve_node_output(ib);
        // The output was `[batch, tq, heads, d]`; the kernels read the gradient as `[batch,
        // heads, tq, d]`, and return `dq`, `dk`, `dv` as `[batch, len, heads, d]`.
        let dout = B::float_swap_dims(dout, 1, 2);
        let out = B::float_swap_dims(out, 1, 2);
        let (dq, dk, dv, ds) = B::flash_backward(q, k, v, bias, seed, out, lse, dout, threshold);
        let rows = |t| B::float_swap_dims(t, 1, 2);
        if let Some(p) = pq {
            grads.register::<B>(p.id, rows(dq));
        }
        if let Some(p) = pk {
            grads.register::<B>(p.id, rows(dk));
        }
        if let Some(p) = pv {
            grads.register::<B>(p.id, rows(dv));
        }
        if let Some(p) = pb {
            grads.register::<B>(p.id, broadcast_shape::<B>(ds, &bias_shape));
        }
    }
}

impl<B: FlashKernels, C: CheckpointStrategy> FlashAttention for Autodiff<B, C> {
    fn flash_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        seed: FloatTensor<Self>,
        threshold: usize,
    ) -> FloatTensor<Self> {
        let nodes = [q.node(), k.node(), v.node(), bias.node()];
        match FlashBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let ids = [
                    prep.checkpoint(&q),
                    prep.checkpoint(&k),
                    prep.checkpoint(&v),
                    prep.checkpoint(&bias),
                ];
                let bias_shape = bias.primitive().shape();
                let seed = seed.into_primitive();
                let (out, lse) = B::flash_forward(
                    q.into_primitive(),
                    k.into_primitive(),
                    v.into_primitive(),
                    bias.into_primitive(),
                    seed.clone(),
                    threshold,
                );
                let state = (ids, bias_shape, seed, out.clone(), lse, threshold);
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => {
                let (out, _) = B::flash_forward(
                    q.into_primitive(),
                    k.into_primitive(),
                    v.into_primitive(),
                    bias.into_primitive(),
                    seed.into_primitive(),
                    threshold,
                );
                prep.finish(out)
            }
        }
    }
}
