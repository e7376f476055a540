//! Damaged optimiser state in a run's `last/` checkpoint: `train --resume` refuses it with a
//! message naming `optim.bpk` instead of panicking inside burn. The first case is the input the
//! `optim_bpk` fuzz target found (a state tensor without a parameter id made burn's loader panic).

use crate::support;

use std::path::Path;

use support::{bin, ok};

const TINY_T5: &[&str] = &[
    "--device",
    "cpu",
    "--batch-size",
    "4",
    "--eval-every",
    "100",
    "--log-every",
    "1",
    "--user-buckets",
    "0",
];

fn train(data: &Path, ids: &Path, run: &Path, extra: &[&str]) -> std::process::Command {
    let mut c = bin();
    c.args(["train", "--data"])
        .arg(data)
        .arg("--ids")
        .arg(ids)
        .arg("--out")
        .arg(run)
        .args(TINY_T5)
        .args(support::TINY_T5_SHAPE)
        .args(extra);
    c
}

/// `train --resume` on `run` must fail with one `error:` line naming optim.bpk and `reason`.
fn refuses_resume(data: &Path, ids: &Path, run: &Path, reason: &str) {
    let out = train(data, ids, run, &["--steps", "6", "--resume"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        line.contains("last/optim.bpk") && line.contains(reason),
        "{stderr}"
    );
}

#[test]
fn damaged_optimiser_state_is_refused_with_a_message() {
    let _rng = support::device_rng();
    let (data, q) = support::tiny_quantized("bad-optim");
    let ids = q.join("semantic_ids.csv");
    let run = data.join("tiger");
    ok(&mut train(&data, &ids, &run, &["--steps", "3"]));
    let optim = run.join("last/optim.bpk");
    let good = std::fs::read(&optim).unwrap();

    // The fuzzer's input: a state tensor that names no parameter.
    let fuzzed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fuzz/optim_tensor_without_param_id.bpk");
    std::fs::copy(&fuzzed, &optim).unwrap();
    refuses_resume(&data, &ids, &run, "names no parameter");

    // The optimiser state of another run (other parameter ids) next to these weights.
    let other = data.join("other");
    ok(&mut train(
        &data,
        &ids,
        &other,
        &["--steps", "2", "--seed", "7"],
    ));
    std::fs::copy(other.join("last/optim.bpk"), &optim).unwrap();
    refuses_resume(&data, &ids, &run, "belongs to no parameter of this model");

    // Cut short: burn's reader reports it, the message still names the file.
    std::fs::write(&optim, &good[..good.len() / 2]).unwrap();
    let out = train(&data, &ids, &run, &["--steps", "6", "--resume"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("last/optim.bpk") && !stderr.contains("panicked"),
        "{stderr}"
    );

    // The untouched state still resumes.
    std::fs::write(&optim, &good).unwrap();
    let stdout = ok(&mut train(&data, &ids, &run, &["--steps", "6", "--resume"]));
    assert!(
        stdout.contains("step 6") || stdout.contains("to step 6"),
        "{stdout}"
    );
}

/// The tiny model the fuzz targets load into (`fuzz/src/seq2seq.rs`), on the CPU with autodiff.
fn fuzz_model(device: &burn::prelude::Device) -> tiger_models::tiger::Tiger {
    tiger_models::tiger::TigerConfig::new(21)
        .with_d_model(16)
        .with_heads(2)
        .with_d_head(8)
        .with_d_ff(32)
        .with_encoder_layers(1)
        .with_decoder_layers(1)
        .with_dropout(0.0)
        .init(device)
}

#[test]
fn the_fuzzers_optimiser_states_are_refused_and_its_seed_loads() {
    let _rng = support::device_rng();
    use burn::prelude::*;
    use tiger_core::run::tiger_config::TrainState;
    use tiger_models::train::checkpoint;
    let device = Device::flex().autodiff();
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let optim = || {
        burn::optim::AdamWConfig::new()
            .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(1.0)))
            .init()
    };
    let run = support::temp_dir("fuzz-optim");
    std::fs::create_dir_all(run.join("last")).unwrap();
    std::fs::copy(fuzz.join("tiny_model.bpk"), run.join("last/model.bpk")).unwrap();
    std::fs::write(
        run.join("last/state.json"),
        r#"{"step":3,"best":null,"losses":[],"valid":[],"train_seconds":0.0}"#,
    )
    .unwrap();
    // The model.bpk / optim.bpk pair the fuzzer started from loads.
    std::fs::copy(fuzz.join("tiny_optim.bpk"), run.join("last/optim.bpk")).unwrap();
    let loaded = checkpoint::load_last::<_, TrainState>(&run, fuzz_model(&device), optim());
    assert!(matches!(loaded, Ok(Some(_))), "{:?}", loaded.err());
    // Each crashing input is refused with a message naming the file.
    for (file, reason) in [
        ("optim_tensor_without_param_id.bpk", "names no parameter"),
        (
            "optim_state_disagrees.bpk",
            "carries the id of another parameter",
        ),
    ] {
        std::fs::copy(fuzz.join(file), run.join("last/optim.bpk")).unwrap();
        let loaded = checkpoint::load_last::<_, TrainState>(&run, fuzz_model(&device), optim());
        let err = loaded.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.contains("optim.bpk") && err.contains(reason),
            "{file}: {err}"
        );
        eprintln!("{file}: {err}");
    }
}
