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

use super::ops::{FlashAttention, FlashKernels, slab};

/// What a backward step needs besides its inputs' checkpoints: the bias's shape (its gradient is
/// summed over the dimensions it was broadcast on), the seed, the forward's output (`[batch, tq,
/// heads, d]`) and log-sum-exp, and the dropout threshold.
#[derive(Clone, Debug)]
struct Saved<B: FlashKernels> {
    bias_shape: Shape,
    seed: FloatTensor<B>,
    out: FloatTensor<B>,
    lse: FloatTensor<B>,
    threshold: usize,
}

impl<B: FlashKernels> Saved<B> {
    /// The backward kernels' arguments after `q, k, v, bias`: the seed, the output and its
    /// gradient as `[batch, heads, tq, d]`, the log-sum-exp.
    fn args(self, dout: FloatTensor<B>) -> [FloatTensor<B>; 4] {
        [
            self.seed,
            B::float_swap_dims(self.out, 1, 2),
            self.lse,
            B::float_swap_dims(dout, 1, 2),
        ]
    }
}

/// Which forward kernel runs: separate queries, keys and values, or one packed projection.
enum Inputs<B: FlashKernels> {
    /// `[q, k, v]`, each `[batch, heads, len, d]`.
    Separate([FloatTensor<B>; 3]),
    /// `qkv` `[batch, t, 3, heads, d]`.
    Packed(FloatTensor<B>),
}

/// The forward kernel on `inputs` and `bias` → its output and what the backward needs.
fn run_forward<B: FlashKernels>(
    inputs: Inputs<B>,
    bias: FloatTensor<B>,
    seed: FloatTensor<B>,
    threshold: usize,
) -> (FloatTensor<B>, Saved<B>) {
    let bias_shape = bias.shape();
    let (out, lse) = match inputs {
        Inputs::Separate([q, k, v]) => B::flash_forward(q, k, v, bias, seed.clone(), threshold),
        Inputs::Packed(qkv) => B::flash_forward_packed(qkv, bias, seed.clone(), threshold),
    };
    let saved = Saved {
        bias_shape,
        seed,
        out: out.clone(),
        lse,
        threshold,
    };
    (out, saved)
}

/// Registers the bias gradient `ds` (`[batch, heads, tq, tk]`), summed to the bias's shape.
fn bias_grad<B: FlashKernels>(
    grads: &mut Gradients,
    parent: Option<NodeId>,
    ds: FloatTensor<B>,
    shape: &Shape,
) {
    if let Some(id) = parent {
        grads.register::<B>(id, broadcast_shape::<B>(ds, shape));
    }
}

/// The backward step of attention over separate queries, keys and values.
#[derive(Debug)]
struct FlashBackward;

impl<B: FlashKernels> Backward<B, 4> for FlashBackward {
    type State = ([NodeId; 4], Saved<B>);

    fn backward(
        self,
        ops: Ops<Self::State, 4>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [pq, pk, pv, pb] = ops.parents;
        let dout = grads.consume::<B>(&ops.node);
        let ([iq, ik, iv, ib], saved) = ops.state;
        let q: FloatTensor<B> = checkpointer.retrieve_node_output(iq);
        let k: FloatTensor<B> = checkpointer.retrieve_node_output(ik);
        let v: FloatTensor<B> = checkpointer.retrieve_node_output(iv);
        let bias: FloatTensor<B> = checkpointer.retrieve_node_output(ib);
        let (shape, threshold) = (saved.bias_shape.clone(), saved.threshold);
        let [seed, out, lse, dout] = saved.args(dout);
        let (dq, dkv, ds) = B::flash_backward(q, k, v, bias, seed, out, lse, dout, threshold);
        // `dq` is `[batch, tq, heads, d]`, `dkv` `[2, batch, tk, heads, d]`: back to `[batch,
        // heads, len, d]` views.
        if let Some(p) = pq {
            grads.register::<B>(p.id, B::float_swap_dims(dq, 1, 2));
        }
        if let Some(p) = pk {
            grads.register::<B>(p.id, slab::<B>(dkv.clone(), 0));
        }
        if let Some(p) = pv {
            grads.register::<B>(p.id, slab::<B>(dkv, 1));
        }
        bias_grad::<B>(grads, pb.map(|p| p.id), ds, &shape);
    }
}

/// The backward step of self-attention over a packed projection.
#[derive(Debug)]
struct PackedBackward;

impl<B: FlashKernels> Backward<B, 2> for PackedBackward {
    type State = ([NodeId; 2], Saved<B>);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [pqkv, pb] = ops.parents;
        let dout = grads.consume::<B>(&ops.node);
        let ([iqkv, ib], saved) = ops.state;
        let qkv: FloatTensor<B> = checkpointer.retrieve_node_output(iqkv);
        let bias: FloatTensor<B> = checkpointer.retrieve_node_output(ib);
        let (shape, threshold) = (saved.bias_shape.clone(), saved.threshold);
        let [seed, out, lse, dout] = saved.args(dout);
        let (dqkv, ds) = B::flash_backward_packed(qkv, bias, seed, out, lse, dout, threshold);
        if let Some(p) = pqkv {
            grads.register::<B>(p.id, dqkv);
        }
        bias_grad::<B>(grads, pb.map(|p| p.id), ds, &shape);
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
        let prep = FlashBackward.prepare::<C>(nodes).compute_bound().stateful();
        let run = |q: FloatTensor<Self>,
                   k: FloatTensor<Self>,
                   v: FloatTensor<Self>,
                   b: FloatTensor<Self>| {
            let qkv = [q.into_primitive(), k.into_primitive(), v.into_primitive()];
            run_forward::<B>(
                Inputs::Separate(qkv),
                b.into_primitive(),
                seed.into_primitive(),
                threshold,
            )
        };
        match prep {
            OpsKind::Tracked(mut prep) => {
                let ids = [
                    prep.checkpoint(&q),
                    prep.checkpoint(&k),
                    prep.checkpoint(&v),
                    prep.checkpoint(&bias),
                ];
                let (out, saved) = run(q, k, v, bias);
                prep.finish((ids, saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(run(q, k, v, bias).0),
        }
    }

    fn flash_attention_packed(
        qkv: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        seed: FloatTensor<Self>,
        threshold: usize,
    ) -> FloatTensor<Self> {
        let nodes = [qkv.node(), bias.node()];
        let prep = PackedBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful();
        let run = |qkv: FloatTensor<Self>, bias: FloatTensor<Self>| {
            run_forward::<B>(
                Inputs::Packed(qkv.into_primitive()),
                bias.into_primitive(),
                seed.into_primitive(),
                threshold,
            )
        };
        match prep {
            OpsKind::Tracked(mut prep) => {
                let ids = [prep.checkpoint(&qkv), prep.checkpoint(&bias)];
                let (out, saved) = run(qkv, bias);
                prep.finish((ids, saved), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(run(qkv, bias).0),
        }
    }
}
