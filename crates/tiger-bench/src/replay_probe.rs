//! How fast TIGER's training step would run if it were recorded once as a device graph and
//! replayed, as the RQ-VAE's is ([`tiger_models::train::rqvae_graph`]). The step here is burn's
//! AdamW step on one fixed synthetic batch, recorded with [`tiger_models::train::graph_capture`]:
//! its replays repeat the recorded dropout masks and Adam bias corrections and do not carry the
//! weights over, so only the speed means anything. It bounds what converting the TIGER loop would
//! gain.

use std::time::Instant;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Distribution;

use tiger_core::options::tiger::TigerOptions;
use tiger_models::train::tiger_loop::{model_config, new_optim};

/// Steps per second of the eager step and of its replays.
#[derive(Debug, Clone)]
pub struct ReplayProbe {
    /// Eager steps per second.
    pub eager: f64,
    /// Replays per second, or why the step could not be recorded.
    pub replay: Result<f64, String>,
}

fn ints(shape: [usize; 2], high: usize, device: &Device) -> Tensor<2, Int> {
    Tensor::<2>::random(shape, Distribution::Uniform(0.0, high as f64), device).int()
}

/// Times `steps` eager steps, then `steps` replays, of the TIGER model with `opts`' shapes on a
/// batch of `batch` histories of `src_len` tokens and `tgt_len` target tokens over `vocab` tokens.
pub fn tiger(
    device: &Device,
    opts: &TigerOptions,
    vocab: usize,
    src_len: usize,
    tgt_len: usize,
    batch: usize,
    steps: usize,
) -> Result<ReplayProbe, String> {
    let ad = device.clone().autodiff();
    let model = model_config(opts, vocab).init(&ad);
    let src = ints([batch, src_len], vocab, device);
    let mask = Tensor::<2, Int>::ones([batch, src_len], device);
    let tgt_in = ints([batch, tgt_len], vocab, device);
    let labels = ints([batch, tgt_len], vocab, device);
    let optim = new_optim(opts);
    let loss_fn = CrossEntropyLossConfig::new().init(&ad);
    let mut state = Some((model, optim));
    let mut step = move || -> Tensor<1> {
        let Some((model, mut optim)) = state.take() else {
            unreachable!("the state is put back at the end of every step")
        };
        let logits = model.forward(src.clone(), mask.clone(), tgt_in.clone());
        let v = logits.dims()[2];
        let loss = loss_fn.forward(
            logits.reshape([batch * tgt_len, v]),
            labels.clone().reshape([batch * tgt_len]),
        );
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = optim.step(1e-3, model, grads);
        state = Some((model, optim));
        loss.inner()
    };
    let read = |t: Tensor<1>| t.try_into_vec_as::<f32>().map_err(|e| format!("{e:?}"));
    for _ in 0..10 {
        step();
    }
    read(step())?;
    let t = Instant::now();
    let mut last = None;
    for _ in 0..steps {
        last = Some(step());
    }
    read(last.ok_or("no steps")?)?;
    let eager = steps as f64 / t.elapsed().as_secs_f64();
    let recorded = tiger_models::train::graph_capture::prepare(device).and_then(|()| {
        for _ in 0..3 {
            read(step())?;
        }
        tiger_models::train::graph_capture::record(device, &mut step)
    });
    let (recorded, out) = match recorded {
        Ok(r) => r,
        Err(why) => {
            return Ok(ReplayProbe {
                eager,
                replay: Err(why),
            });
        }
    };
    let t = Instant::now();
    for _ in 0..steps {
        // SAFETY: `step` owns every tensor the recording reads and writes and outlives the
        // replays; nothing else runs on this stream meanwhile.
        unsafe { recorded.replay() }?;
    }
    read(out)?;
    Ok(ReplayProbe {
        eager,
        replay: Ok(steps as f64 / t.elapsed().as_secs_f64()),
    })
}
