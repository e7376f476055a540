//! A constrained beam search's steps queued back to back on the device: each step's decoder kernels
//! ([`super::fused_path`]) read the buffer the previous step's selection
//! (`tiger_kernels::fused_decoder::select`) wrote, so the host uploads once, reads back once at the
//! end, and never waits in between. The host then replays the search from the selections' log
//! ([`crate::decode::beam`]), which gives exactly the hypotheses its own ranking would have.

use std::sync::Mutex;

use burn::backend::Dispatch;
use burn::prelude::*;

use super::fused_path::{FusedMemory, FusedModel};
use crate::decode::beam::RankedSteps;
use tiger_core::ids::trie::Trie;
use tiger_kernels::Kernel;
use tiger_kernels::fused_decoder::MAX_GROUPS_X;
use tiger_kernels::fused_decoder::select::{BeamSelectOps, MASKED, out_len};

/// Node ids and trie offsets travel in f32 buffers: exact below 2^24.
const MAX_NODES: usize = 1 << 24;
/// Widest beam selected on the device: the kernel keeps a query's `2 · width` best candidates in
/// workgroup memory (8 bytes each, rounded up to a power of two), 8 KiB at this width, within
/// every GPU's limit. Wider searches (exact scoring widens the beam up to the catalogue's size)
/// rank on the host.
pub const MAX_WIDTH: usize = 512;

/// Whether fused beam search runs its steps on the device (unless the calling thread's
/// [`tiger_kernels::Kernels`] turn `device_beam` off).
pub fn enabled() -> bool {
    Kernel::DeviceBeam.on()
}

/// Where each ID position's values start in the vocabulary and how many there are, and the BOS
/// token.
#[derive(Debug, Clone, PartialEq)]
pub struct Positions {
    /// Vocabulary entry of value 0 at each position.
    pub starts: Vec<usize>,
    /// Values each position can take.
    pub widths: Vec<usize>,
    /// The decoder's start token.
    pub bos: u32,
}

/// The trie's flat arrays ([`Trie::csr`], as floats) on `device` and its node count: uploaded
/// once and kept for the next searches of the same trie (one trie per device at a time). `None`
/// when node or edge counts reach 2^24.
fn device_trie(trie: &Trie, device: &Device) -> Option<(Tensor<1>, usize)> {
    type Kept = Option<(u64, Device, Tensor<1>, usize)>;
    static KEPT: Mutex<Kept> = Mutex::new(None);
    let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((id, on, arrays, nodes)) = kept.as_ref()
        && *id == trie.id()
        && on == device
    {
        return Some((arrays.clone(), *nodes));
    }
    let (start, value, child) = trie.csr();
    let nodes = start.len() - 1;
    if nodes >= MAX_NODES || value.len() >= MAX_NODES {
        return None;
    }
    let mut arrays: Vec<f32> = Vec::with_capacity(start.len() + 2 * value.len());
    arrays.extend(start.iter().map(|&v| v as f32));
    arrays.extend(value.iter().map(|&v| v as f32));
    arrays.extend(child.iter().map(|&v| v as f32));
    let len = arrays.len();
    let arrays = Tensor::<1>::from_data(TensorData::new(arrays, [len]), device);
    *kept = Some((trie.id(), device.clone(), arrays.clone(), nodes));
    Some((arrays, nodes))
}

/// Runs the `trie.depth()` steps of a constrained search of width `w` for the `queries` queries
/// encoded in `memory`; returns per step `[queries × keep]` scores and flat indices (`keep =
/// min(2w, w · k)`), best first. `None` when the trie is too large for the f32 buffers, the beam
/// is wider than [`MAX_WIDTH`], the queries do not fit one grid dimension, the positions do not cover its depth (or one takes no
/// values), or the read-back fails.
pub fn select_all(
    fused: &FusedModel,
    memory: &FusedMemory,
    trie: &Trie,
    positions: &Positions,
    queries: usize,
    w: usize,
    device: &Device,
) -> Option<RankedSteps> {
    let depth = trie.depth();
    // One workgroup per query, in one grid dimension.
    if queries == 0
        || w > MAX_WIDTH
        || queries > MAX_GROUPS_X
        || positions.widths.len() < depth
        || positions.starts.len() < depth
        || positions.widths[..depth].contains(&0)
    {
        return None;
    }
    let (arrays, nodes) = device_trie(trie, device)?;

    let n = queries * w;
    let k0 = positions.widths[0];
    let mut first: Vec<f32> = vec![positions.bos as f32; n];
    let mut root_mask = vec![MASKED; k0];
    for v in trie.next_values(Trie::ROOT).filter(|&v| (v as usize) < k0) {
        root_mask[v as usize] = 0.0;
    }
    for i in 0..n {
        if i % w == 0 {
            first.push(0.0);
            first.extend_from_slice(&root_mask);
        } else {
            first.extend(std::iter::repeat_n(MASKED, 1 + k0));
        }
    }
    first.extend((0..n).map(|i| if i % w == 0 { 0.0 } else { -1.0 }));
    let flen = first.len();
    let mut buf = Tensor::<1>::from_data(TensorData::new(first, [flen]), device);

    let mut logs = Vec::with_capacity(depth);
    let mut keeps = Vec::with_capacity(depth);
    for pos in 0..depth {
        let t = pos + 1;
        let k = positions.widths[pos];
        let k2 = if pos + 1 < depth {
            positions.widths[pos + 1]
        } else {
            0
        };
        let keep = (2 * w).min(w * k);
        let totals = fused.step_scores_on(memory, &buf, n, t, k, positions.starts[pos]);
        let out = <Dispatch as BeamSelectOps>::beam_select(
            totals.inner().into_dispatch(),
            buf.clone().inner().into_dispatch(),
            arrays.clone().inner().into_dispatch(),
            w,
            t,
            positions.starts[pos],
            k2,
            nodes,
            keep,
            positions.bos as usize,
        );
        buf = Tensor::<1>::from_dispatch(out);
        let total = out_len(n, t, k2, queries, keep);
        let next = total - queries * keep * 2;
        logs.push(buf.clone().slice(next..total));
        keeps.push(keep);
    }
    let all: Vec<f32> = Tensor::cat(logs, 0).try_into_vec_as().ok()?;
    let mut steps = Vec::with_capacity(depth);
    let mut at = 0;
    for keep in keeps {
        let part = all.get(at..at + queries * keep * 2)?;
        at += queries * keep * 2;
        let vals = part.iter().step_by(2).copied().collect();
        let idx = part.iter().skip(1).step_by(2).map(|&f| f as i64).collect();
        steps.push((vals, idx));
    }
    Some(steps)
}
