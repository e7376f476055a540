//! Recording a training step once as a cubecl software graph and replaying it, through burn's
//! backend graph API (burn 0.22 / cubecl 0.11).
//!
//! A replay re-encodes the recorded launches with their pipelines, bindings and bind groups already
//! resolved; autodiff's tape, fusion's search and the per-launch allocation are all skipped. On the
//! H200 that is what bounds a small training step: most of its time is host work per launch
//! (docs/performance.md). The recorded launches read and write the very buffers they were recorded
//! with, so whatever a step carries to the next (weights, optimiser moments, counters) must be
//! updated in place, and inputs must come from buffers that stay put.

use burn::prelude::*;
use burn_backend::{Backend, BackendGraph};
use burn_dispatch::Dispatch;

/// How [`GraphMode::Off`]'s reason starts when the backend cannot record (the CPU).
pub const NO_GRAPH_SUPPORT: &str = "no graph support";

/// Whether steps may be recorded, and what stopped them if not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphMode {
    /// Record the step once and replay it.
    On,
    /// Every step runs eagerly, for this reason.
    Off(String),
}

/// A recorded graph and the device it replays on.
pub struct Recorded {
    device: Device,
    graph: BackendGraph<Dispatch>,
}

/// Puts the device's allocator into the mode a capture needs. The warm-up runs that must come
/// before [`record`] (they allocate every buffer the recording will reuse) follow this call.
/// On a backend without graph support (burn's CPU backend) it does nothing, and [`record`] fails.
pub fn prepare(device: &Device) -> Result<(), String> {
    Dispatch::graph_prepare(device.as_dispatch()).map_err(|e| e.to_string())
}

/// Gives the device's stream back after [`prepare`] when nothing will be recorded (a prepared
/// capture that never opens holds the stream, and the next `prepare` on it would be refused).
pub fn abandon(device: &Device) {
    // Closing from the prepared state unwinds it; its error (there is no graph) is the expected
    // answer.
    let _ = Dispatch::graph_stop_capture(device.as_dispatch());
}

/// Records the launches `step` makes, without executing them. Returns the graph and what `step`
/// returned, whose buffers each replay overwrites. On an error the step's launches did not run.
pub fn record<T>(device: &Device, step: impl FnOnce() -> T) -> Result<(Recorded, T), String> {
    let dispatch = device.as_dispatch();
    Dispatch::graph_start_capture(dispatch).map_err(|e| e.to_string())?;
    let out = step();
    let graph = Dispatch::graph_stop_capture(dispatch).map_err(|e| e.to_string())?;
    Ok((
        Recorded {
            device: device.clone(),
            graph,
        },
        out,
    ))
}

impl Recorded {
    /// Runs the recorded launches once more, after whatever is already queued on the device.
    ///
    /// # Safety
    /// Every buffer the recording touched must still be alive: the caller keeps the step's
    /// state, inputs and outputs (the tensors it recorded with) until the replay's work is done.
    pub unsafe fn replay(&self) -> Result<(), String> {
        // SAFETY: forwarded from this function's contract.
        unsafe { Dispatch::graph_replay(self.device.as_dispatch(), &self.graph) }
            .map_err(|e| e.to_string())
    }
}

/// Writes `value` (`[n]`) into the buffer of the tensor in `slot` and keeps that tensor. burn's
/// slice assignment writes in place when nothing else references the tensor; returns 1 when
/// something does (the write then goes to a copy), else 0.
pub fn write_back<K>(slot: &mut Option<Tensor<1, K>>, value: Tensor<1, K>) -> usize
where
    K: burn::tensor::kind::Basic,
{
    let Some(t) = slot.take() else {
        return 0;
    };
    let shared = usize::from(!t.can_mut());
    let [n] = t.dims();
    *slot = Some(t.slice_assign([0..n], value));
    shared
}
