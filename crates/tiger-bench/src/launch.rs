//! What a launch and a read-back cost on their own: a small upload and read-back, then the same
//! with a chain of small operations that fusion cannot merge (row gathers, matrix products), so
//! that the difference per operation is the fixed cost of preparing, launching and finishing one
//! kernel. Beam search for one query is a chain of such small steps.

use std::time::Instant;

use burn::prelude::*;
use serde::Serialize;

/// One timed case.
#[derive(Debug, Clone, Serialize)]
pub struct LaunchRow {
    /// What was timed.
    pub case: String,
    /// Median microseconds per repetition.
    pub us: f64,
    /// Median microseconds per chained operation beyond the upload and read-back (chains only).
    pub per_op_us: Option<f64>,
}

/// Median of `f`'s wall time over `reps` repetitions after 5 warm-up ones, in µs.
fn median(reps: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<f64, String> {
    for _ in 0..5 {
        f()?;
    }
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

fn read(t: Tensor<2>) -> Result<(), String> {
    t.into_data()
        .try_to_vec::<f32>()
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// Times the cases on `device`, `reps` repetitions each, chains of `chain` operations.
pub fn run(device: &Device, reps: usize, chain: usize) -> Result<Vec<LaunchRow>, String> {
    let reps = reps.max(1);
    let chain = chain.max(1);
    let data: Vec<f32> = (0..64).map(|i| i as f32 / 64.0).collect();
    let upload = || Tensor::<2>::from_data(TensorData::new(data.clone(), [8, 8]), device);
    let idx = Tensor::<1, Int>::from_data(
        TensorData::new((0..8i64).rev().collect::<Vec<_>>(), [8]),
        device,
    );
    let sync = median(reps, || device.sync().map_err(|e| e.to_string()))?;
    let round = median(reps, || read(upload()))?;
    let up_sync = median(reps, || {
        let _t = upload();
        device.sync().map_err(|e| e.to_string())
    })?;
    let gathers = median(reps, || {
        let mut x = upload();
        for _ in 0..chain {
            x = x.select(0, idx.clone());
        }
        read(x)
    })?;
    let products = median(reps, || {
        let w = upload();
        let mut x = upload();
        for _ in 0..chain {
            x = x.matmul(w.clone());
        }
        read(x)
    })?;
    let per = |total: f64| Some((total - round) / chain as f64);
    Ok(vec![
        LaunchRow {
            case: "device sync, nothing queued".into(),
            us: sync,
            per_op_us: None,
        },
        LaunchRow {
            case: "upload 8×8 floats, sync".into(),
            us: up_sync,
            per_op_us: None,
        },
        LaunchRow {
            case: "upload 8×8 floats, read back".into(),
            us: round,
            per_op_us: None,
        },
        LaunchRow {
            case: format!("upload, {chain} row gathers (select), read back"),
            us: gathers,
            per_op_us: per(gathers),
        },
        LaunchRow {
            case: format!("upload twice, {chain} 8×8 matrix products, read back"),
            us: products,
            per_op_us: per(products),
        },
    ])
}
