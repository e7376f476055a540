//! The RQ-VAE training step on state that stays in place, so that it can be recorded once as a
//! device graph and replayed ([`super::graph_capture`]).
//!
//! Training runs in segments: stretches of steps with nothing changed from the host in between (the
//! loop ends one where it restarts dead codes). A segment uploads its batch schedule (`[steps,
//! batch]` row indices) once; each step reads its row through a device counter. The first
//! [`WARMUP`] steps of a segment run eagerly (they allocate what the recording reuses), the next is
//! recorded, and every later one is a replay. Weights, the optimiser's state, the step count, the
//! schedule counter and the code usage (counted across segments until the loop resets it) are all
//! updated in place, so the recorded launches keep reading and writing the same buffers. Where the
//! backend has no graph support (the CPU), or the catalogue is held in several device buffers,
//! every step runs eagerly through the same code. [`GraphTrainer::snapshot`] reads the whole state
//! back, and [`GraphTrainer::restore`] puts one in place, so that an interrupted run can go on.

use burn::prelude::*;
use burn::tensor::IndexingUpdateOp;

use super::device_optim::DeviceOptimizer;
use super::device_rows::DeviceRows;
use super::flat_params;
use super::graph_capture::{self, GraphMode, NO_GRAPH_SUPPORT, Recorded, write_back};
use crate::rqvae::RqVae;
use tiger_core::run::quantize_resume::TrainerState;

/// Eager steps at the start of each segment before the recording.
pub const WARMUP: usize = 3;

/// What one step returns, read by the loop between steps.
#[derive(Debug, Clone)]
pub struct StepOutputs {
    /// Mean squared reconstruction error, `[1]`.
    pub recon: Tensor<1>,
    /// Codebook + β·commitment loss per level, each `[1]`.
    pub quant: Vec<Tensor<1>>,
    /// Input residual of each level, each `[batch, latent_dim]`.
    pub residuals: Vec<Tensor<2>>,
}

/// Everything a step reads and updates in place.
struct State {
    /// Every float parameter, flat, in the module's visiting order.
    params: Vec<Tensor<1>>,
    /// The optimiser's first state (Adam's first moments, Adagrad's sums of squares), like
    /// `params`.
    m: Vec<Tensor<1>>,
    /// Adam's second moments, like `params` (unused by Adagrad).
    v: Vec<Tensor<1>>,
    /// Steps taken, `[1]` (always present; an `Option` only so that updates can move it).
    t: Option<Tensor<1>>,
    /// How often each code was chosen since the last [`GraphTrainer::reset_usage`],
    /// `[levels * codebook_size]` (level-major; always present, like `t`).
    usage: Option<Tensor<1>>,
}

/// One segment's inputs.
struct Segment {
    /// Batch row indices, `[steps, batch]`.
    schedule: Tensor<2, Int>,
    /// The same indices on the host, kept when the catalogue is in several buffers (each step then
    /// gathers its rows from the host's list).
    rows: Vec<usize>,
    /// The next schedule row, `[1]` (always present, like [`State::t`]).
    cursor: Option<Tensor<1, Int>>,
    /// Steps in the segment.
    len: usize,
    /// Steps taken in the segment.
    done: usize,
    /// The recorded step and its outputs, once recorded.
    recorded: Option<(Recorded, StepOutputs)>,
    /// Replays so far.
    replays: usize,
    /// The device, when its allocator was prepared for a recording.
    prepared: Option<Device>,
}

impl Drop for Segment {
    /// A segment that ends between preparing and recording (a cancel, an error) gives the
    /// device's stream back, or the next recording on this thread would be refused.
    fn drop(&mut self) {
        if let (Some(device), None) = (&self.prepared, &self.recorded) {
            graph_capture::abandon(device);
        }
    }
}

/// An RQ-VAE trained by replayed steps.
pub struct GraphTrainer {
    device: Device,
    /// The model's structure; its own weights are never read.
    template: RqVae,
    state: State,
    optim: DeviceOptimizer,
    /// The catalogue, `[rows, input_dim]`, in one device buffer or several.
    data: DeviceRows,
    batch: usize,
    levels: usize,
    codebook_size: usize,
    /// `level · codebook_size` per level, `[1, levels]`.
    offsets: Tensor<2, Int>,
    segment: Option<Segment>,
    mode: GraphMode,
    /// Steps taken in all, to check the device's count after the first replay.
    steps: usize,
    checked: bool,
}

fn device_err(e: impl std::fmt::Display) -> String {
    format!("device read-back failed: {e}")
}

impl GraphTrainer {
    /// Takes over `model`'s weights (copied into fresh buffers) with fresh state for `optim`, to
    /// train on `data` (`[rows, input_dim]`, a tensor or [`DeviceRows`]) in batches of `batch`
    /// rows.
    pub fn new(
        model: &RqVae,
        data: impl Into<DeviceRows>,
        batch: usize,
        codebook_size: usize,
        optim: DeviceOptimizer,
    ) -> Self {
        let data = data.into();
        let template = model.valid();
        let device = match data.chunks().first() {
            Some(chunk) => chunk.device(),
            None => template.codebooks[0].val().device(),
        };
        // Fresh buffers that nothing else references, so that every update can be in place.
        let params = flat_params::values(&template)
            .into_iter()
            .map(|p| {
                let [n] = p.dims();
                let host = p.into_data();
                Tensor::<1>::from_data(host, &device).reshape([n])
            })
            .collect::<Vec<_>>();
        let zeros = |p: &Tensor<1>| Tensor::<1>::zeros(p.dims(), &device);
        let levels = template.levels();
        let offsets = Tensor::<1, Int>::arange(0..levels as i64, &device)
            .mul_scalar(codebook_size as i64)
            .reshape([1, levels]);
        let mode = if !tiger_kernels::device::is_gpu(&device) {
            GraphMode::Off(format!("{NO_GRAPH_SUPPORT} on the CPU"))
        } else if data.chunks().len() > 1 {
            GraphMode::Off("the catalogue is held in several device buffers".into())
        } else if !tiger_kernels::Kernel::RqvaeGraph.on() {
            GraphMode::Off("TIGER_KERNELS turns rqvae_graph off".into())
        } else {
            GraphMode::On
        };
        Self {
            state: State {
                m: params.iter().map(zeros).collect(),
                v: params.iter().map(zeros).collect(),
                t: Some(Tensor::<1>::zeros([1], &device)),
                usage: Some(Tensor::<1>::zeros([levels * codebook_size], &device)),
                params,
            },
            device,
            template,
            optim,
            data,
            batch,
            levels,
            codebook_size,
            offsets,
            segment: None,
            mode,
            steps: 0,
            checked: false,
        }
    }

    /// Runs every later step eagerly (for comparisons).
    pub fn force_eager(&mut self) {
        self.mode = GraphMode::Off("asked for".into());
    }

    /// Whether steps are recorded and replayed.
    pub fn mode(&self) -> &GraphMode {
        &self.mode
    }

    /// Starts a segment whose steps take the rows `rows` (`steps × batch` indices, step-major).
    /// Ends the previous segment and drops its recording.
    pub fn begin_segment(&mut self, rows: &[usize]) {
        self.segment = None;
        let len = rows.len() / self.batch.max(1);
        let host: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        let d = &self.device;
        let several = self.data.chunks().len() > 1;
        self.segment = Some(Segment {
            schedule: Tensor::<2, Int>::from_data(TensorData::new(host, [len, self.batch]), d),
            rows: if several { rows.to_vec() } else { Vec::new() },
            cursor: Some(Tensor::<1, Int>::zeros([1], d)),
            len,
            done: 0,
            recorded: None,
            replays: 0,
            prepared: None,
        });
    }

    /// Takes the segment's next step: eagerly during the warm-up, then by recording and replaying.
    pub fn step(&mut self) -> Result<StepOutputs, String> {
        let Some(mut seg) = self.segment.take() else {
            return Err("no segment begun".into());
        };
        if seg.done >= seg.len {
            self.segment = Some(seg);
            return Err("the segment's steps are all taken".into());
        }
        let graph = self.mode == GraphMode::On && seg.len > WARMUP;
        if graph && seg.done == 0 {
            match graph_capture::prepare(&self.device) {
                Ok(()) => seg.prepared = Some(self.device.clone()),
                Err(e) => self.mode = GraphMode::Off(format!("preparing a recording failed: {e}")),
            }
        }
        let graph = graph && self.mode == GraphMode::On;
        let out = if !graph || seg.done < WARMUP {
            Ok(self.eager_step(&mut seg))
        } else if seg.recorded.is_none() {
            self.record_and_run(&mut seg)
        } else {
            self.replay(&mut seg)
        };
        seg.done += 1;
        self.steps += 1;
        self.segment = Some(seg);
        out
    }

    fn record_and_run(&mut self, seg: &mut Segment) -> Result<StepOutputs, String> {
        let device = self.device.clone();
        match graph_capture::record(&device, || self.eager_step(seg)) {
            // The recording's own run found state referenced elsewhere (the warm-up steps did
            // not): its writes went to copies that never ran, so the state cannot be trusted.
            Ok(_) if self.mode != GraphMode::On => Err(format!(
                "recording the step left its state inconsistent ({:?}); set TIGER_KERNELS=-rqvae_graph",
                self.mode
            )),
            Ok((recorded, out)) => {
                seg.recorded = Some((recorded, out));
                self.replay(seg)
            }
            Err(e) => {
                // Nothing recorded ran; the state's buffers were updated in place by launches
                // that never executed, so they still hold the last eager step's values.
                self.mode = GraphMode::Off(format!("recording the step failed: {e}"));
                Ok(self.eager_step(seg))
            }
        }
    }

    fn replay(&mut self, seg: &mut Segment) -> Result<StepOutputs, String> {
        let Some((recorded, out)) = &seg.recorded else {
            return Err("nothing recorded".into());
        };
        // SAFETY: the recording's state, inputs and outputs are all owned by `self` (state) and
        // `seg` (schedule, cursor, usage, outputs) and live until the segment ends.
        unsafe { recorded.replay() }?;
        seg.replays += 1;
        // A write that missed its buffer shows from the second replay on, which reads again
        // what the first should have overwritten: the step count then stops going up.
        if !self.checked && seg.replays == 2 {
            self.checked = true;
            let counted = self.step_count()?;
            let expected = self.steps as f32 + 1.0;
            if counted != expected {
                return Err(format!(
                    "a replayed step did not update its state in place (the step count is \
                     {counted}, expected {expected}); set TIGER_KERNELS=-rqvae_graph"
                ));
            }
        }
        Ok(out.clone())
    }

    /// Steps the device has counted, read back.
    fn step_count(&self) -> Result<f32, String> {
        let Some(t) = &self.state.t else {
            return Err("the trainer has no step count".into());
        };
        let v = t.clone().try_into_vec_as::<f32>().map_err(device_err)?;
        Ok(v.first().copied().unwrap_or(0.0))
    }

    /// One training step through the ordinary tensor API. Every state tensor is written back into
    /// its own buffer ([`write_back`]); during the warm-up steps this also checks that nothing else
    /// holds one, which would turn the write into a copy the next replay never reads.
    fn eager_step(&mut self, seg: &mut Segment) -> StepOutputs {
        let mut shared = 0;
        let cursor = seg
            .cursor
            .clone()
            .unwrap_or_else(|| Tensor::<1, Int>::zeros([1], &self.device));
        let x = match self.data.chunks() {
            [one] => {
                let idx = seg
                    .schedule
                    .clone()
                    .select(0, cursor.clone())
                    .reshape([self.batch]);
                one.clone().select(0, idx)
            }
            _ => {
                let start = seg.done * self.batch;
                let end = (start + self.batch).min(seg.rows.len());
                self.data.gather(&seg.rows[start..end], &self.device)
            }
        }
        .autodiff();
        shared += write_back(&mut seg.cursor, cursor.add_scalar(1));
        let model = flat_params::load(self.template.clone(), &self.state.params, true);
        let out = model.forward(x);
        let loss = out
            .quant_losses
            .iter()
            .fold(out.recon_loss.clone(), |a, b| a + b.clone());
        let mut grads = loss.backward();
        let grad_list = flat_params::grads(&model, &mut grads);
        drop((grads, loss, model));
        let outputs = StepOutputs {
            recon: out.recon_loss.inner(),
            quant: out.quant_losses.into_iter().map(|l| l.inner()).collect(),
            residuals: out.residuals.into_iter().map(|r| r.inner()).collect(),
        };
        let flat_codes = (out.codes + self.offsets.clone()).reshape([self.batch * self.levels]);
        let ones = Tensor::<1>::ones([self.batch * self.levels], &self.device);
        let s = &mut self.state;
        if let Some(usage) = s.usage.clone() {
            let counted = usage.scatter(0, flat_codes, ones, IndexingUpdateOp::Add);
            shared += write_back(&mut s.usage, counted);
        }
        let Some(t) = s.t.clone().map(|t| t.add_scalar(1.0)) else {
            return outputs;
        };
        let step = self.optim.begin_step(&t);
        shared += write_back(&mut s.t, t);
        let (params, m, v) = (
            std::mem::take(&mut s.params),
            std::mem::take(&mut s.m),
            std::mem::take(&mut s.v),
        );
        for (((p, m), v), g) in params.into_iter().zip(m).zip(v).zip(grad_list) {
            let (p2, m2, v2) = step.update(p.clone(), g, m.clone(), v.clone());
            let (mut p, mut m, mut v) = (Some(p), Some(m), Some(v));
            shared += write_back(&mut p, p2) + write_back(&mut m, m2);
            if let Some(v2) = v2 {
                shared += write_back(&mut v, v2);
            }
            s.params.extend(p);
            s.m.extend(m);
            s.v.extend(v);
        }
        if shared > 0 && self.mode == GraphMode::On {
            self.mode = GraphMode::Off(format!(
                "{shared} state tensors are referenced elsewhere, so a replay could not update \
                 them in place"
            ));
        }
        outputs
    }

    /// The model with the current weights (no autodiff), sharing the trainer's buffers: drop it
    /// before the next step.
    pub fn model(&self) -> RqVae {
        flat_params::load(self.template.clone(), &self.state.params, false)
    }

    /// How often each code was chosen since the last [`Self::reset_usage`] (or the start),
    /// `levels × codebook_size` counts.
    pub fn usage(&self) -> Result<Vec<f32>, String> {
        let Some(usage) = &self.state.usage else {
            return Err("the trainer has no usage counts".into());
        };
        usage.clone().try_into_vec_as::<f32>().map_err(device_err)
    }

    /// Starts counting code usage afresh. Ends the segment: call [`Self::begin_segment`] before
    /// the next step.
    pub fn reset_usage(&mut self) {
        self.segment = None;
        self.state.usage = Some(Tensor::<1>::zeros(
            [self.levels * self.codebook_size],
            &self.device,
        ));
    }

    /// Replaces codebook `level` with `values` (`codebook_size × latent_dim`, row-major). Ends the
    /// segment: call [`Self::begin_segment`] before the next step.
    pub fn set_codebook(&mut self, level: usize, values: Vec<f32>) -> Result<(), String> {
        self.segment = None;
        let index = self.codebook_index(level)?;
        let n = values.len();
        let expected = self.state.params[index].dims()[0];
        if n != expected {
            return Err(format!("codebook {level}: {n} values, expected {expected}"));
        }
        self.state.params[index] =
            Tensor::<1>::from_data(TensorData::new(values, [n]), &self.device);
        Ok(())
    }

    /// The whole state read back: weights, optimiser state, step count and code usage.
    pub fn snapshot(&self) -> Result<TrainerState, String> {
        let read = |ts: &[Tensor<1>]| -> Result<Vec<Vec<f32>>, String> {
            ts.iter()
                .map(|t| t.clone().try_into_vec_as::<f32>().map_err(device_err))
                .collect()
        };
        Ok(TrainerState {
            params: read(&self.state.params)?,
            m: read(&self.state.m)?,
            v: read(&self.state.v)?,
            t: self.step_count()?,
            usage: self.usage()?,
        })
    }

    /// Puts `state` (from [`Self::snapshot`] of a trainer of the same model) in place of this
    /// trainer's, in fresh buffers. Ends the segment: call [`Self::begin_segment`] before the next
    /// step.
    pub fn restore(&mut self, state: &TrainerState) -> Result<(), String> {
        let shapes: Vec<usize> = self.state.params.iter().map(|p| p.dims()[0]).collect();
        let fits = |vs: &[Vec<f32>]| {
            vs.len() == shapes.len() && vs.iter().zip(&shapes).all(|(v, n)| v.len() == *n)
        };
        if !fits(&state.params) || !fits(&state.m) || !fits(&state.v) {
            return Err(format!(
                "the saved state does not fit this model ({} parameter tensors of sizes {:?})",
                shapes.len(),
                shapes
            ));
        }
        let usage_len = self.levels * self.codebook_size;
        if state.usage.len() != usage_len {
            return Err(format!(
                "the saved code usage has {} counts, this model {usage_len}",
                state.usage.len()
            ));
        }
        self.segment = None;
        let d = &self.device;
        let upload = |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), d);
        self.state = State {
            params: state.params.iter().map(|v| upload(v)).collect(),
            m: state.m.iter().map(|v| upload(v)).collect(),
            v: state.v.iter().map(|v| upload(v)).collect(),
            t: Some(upload(&[state.t])),
            usage: Some(upload(&state.usage)),
        };
        self.steps = state.t as usize;
        Ok(())
    }

    /// Where codebook `level` sits among the flat parameters: the model visits its encoder, then
    /// its decoder, then its codebooks, so the codebooks are the last `levels` entries.
    fn codebook_index(&self, level: usize) -> Result<usize, String> {
        let count = self.state.params.len();
        if level >= self.levels || count < self.levels {
            return Err(format!("no codebook {level}"));
        }
        Ok(count - self.levels + level)
    }
}
