//! Crash safety: the real binary is killed with SIGKILL over and over while it writes checkpoints
//! (TIGER training that validates and saves `best` and `last` after every step, with weights large
//! enough that writing takes most of each step) and while it rewrites a quantize run's outputs.
//! After every kill the previous files must be intact and loadable: `eval` reads `best`, `train
//! --resume` reads `last` (weights, optimiser, state); a quantize run folder is one run (its weights
//! reassign its IDs) or, without its config, unfinished with every file whole.

use crate::support;

use support::{bin, ok};

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tiger_core::ids::SemanticIds;

/// A checkpoint of several MB per save: most of each step is spent writing.
const HEAVY_T5: &[&str] = &[
    "--device",
    "cpu",
    "--batch-size",
    "4",
    "--eval-every",
    "1",
    "--log-every",
    "1",
    "--encoder-layers",
    "2",
    "--decoder-layers",
    "2",
    "--d-model",
    "256",
    "--heads",
    "4",
    "--d-head",
    "64",
    "--d-ff",
    "2048",
    "--user-buckets",
    "10",
];

fn saved_step(run: &Path) -> Option<u64> {
    ["last", "last.old"].iter().find_map(|d| {
        let text = std::fs::read_to_string(run.join(d).join("state.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v["step"].as_u64()
    })
}

#[test]
fn killed_while_saving_checkpoints_leaves_them_loadable() {
    let _rng = support::device_rng();
    let (data, q) = support::tiny_quantized("kill-train");
    let run = data.join("tiger");
    let train = |steps: &str, resume: bool| {
        let mut c = bin();
        c.args(["train", "--data"])
            .arg(&data)
            .arg("--ids")
            .arg(q.join("semantic_ids.csv"))
            .arg("--out")
            .arg(&run)
            .args(HEAVY_T5)
            .args(["--steps", steps]);
        if resume {
            c.arg("--resume");
        }
        c
    };
    let (mut mid_write, mut checked) = (0, 0);
    for i in 0..16u64 {
        // Kill shortly after the run has saved a newer step than before (robust to a slow start on
        // a loaded machine), at varying offsets into the next steps' saves.
        let before = saved_step(&run);
        let mut child = train("100000", i > 0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let end = std::time::Instant::now() + Duration::from_secs(60);
        while saved_step(&run) <= before && std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(17 * (i % 11)));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        // Caught in the middle of a save: a temporary checkpoint folder is left behind.
        if ["last.tmp", "best.tmp", "last.old"]
            .iter()
            .any(|d| run.join(d).exists())
        {
            mid_write += 1;
        }
        let Some(step) = saved_step(&run) else {
            continue;
        };
        checked += 1;
        // `best` (or `last`) loads for evaluation...
        ok(bin()
            .args(["eval", "--device", "cpu", "--beam", "10", "--run"])
            .arg(&run));
        // ...and `last` (weights, optimiser, state) resumes: one more step after the saved one.
        let log = ok(&mut train(&(step + 1).to_string(), true));
        assert!(
            log.contains(&format!("trained to step {}", step + 1)),
            "{log}"
        );
        if mid_write >= 3 && checked >= 3 {
            break;
        }
    }
    eprintln!("kills caught mid-save: {mid_write}, checkpoints verified: {checked}");
    assert!(
        checked >= 3,
        "only {checked} kills left a checkpoint to verify"
    );
    assert!(
        mid_write >= 1,
        "no kill landed during a save; the test proves nothing"
    );
}

/// Whether `dir` holds a file being written by process `pid` (`.NAME.tmp-PID`), or by any process.
fn has_temp_file(dir: &Path, pid: Option<u32>) -> bool {
    let suffix = pid.map(|p| format!(".tmp-{p}"));
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            match &suffix {
                Some(s) => name.ends_with(s.as_str()),
                None => name.contains(".tmp-"),
            }
        })
    })
}

#[test]
fn killed_while_rewriting_a_quantize_run_leaves_one_whole_run_or_an_unfinished_folder() {
    let _rng = support::device_rng();
    let (data, q) = support::tiny_quantized("kill-quantize");
    let catalogue: Vec<String> = (1..=6).map(|i| i.to_string()).collect();
    let device = burn::prelude::Device::flex();
    let emb = tiger_core::embeddings::store::read(&data.join("embeddings.npy")).unwrap();
    // With a config the folder is one run: its weights reassign exactly its IDs. Without one it is
    // unfinished, and every file in it is still whole.
    let check = || -> bool {
        let ids = SemanticIds::read_csv(&q.join("semantic_ids.csv"), &catalogue).unwrap();
        assert_eq!(ids.len(), 6);
        let stats: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(q.join("rqvae_stats.json")).unwrap())
                .unwrap();
        assert!(stats["levels"].is_array());
        if !q.join("config.json").is_file() {
            return false;
        }
        let saved = tiger_models::run::quantize_run::load_quantize_run(&q, &device).unwrap();
        assert_eq!(
            saved.assign(&emb, &device).unwrap(),
            ids.codes,
            "the weights and the IDs under one config come from one run"
        );
        true
    };
    assert!(check());
    let mut after_hidden = false;
    let big: Vec<&str> = support::QUANTIZE
        .iter()
        .map(|a| {
            let arg = if after_hidden { "1024,1024" } else { a };
            after_hidden = *a == "--hidden-dims";
            arg
        })
        .collect();
    let mut mid_write = 0;
    for i in 0..12u64 {
        // Weights of several MB, so that writing the run takes a while.
        let mut child = bin()
            .args(&big)
            .args(["--steps", "20"])
            .args(["--seed", &i.to_string(), "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&q)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill as soon as this writer has begun, a little later each time.
        let pid = Some(child.id());
        let end = std::time::Instant::now() + Duration::from_secs(60);
        while !has_temp_file(&q, pid) && std::time::Instant::now() < end {
            std::hint::spin_loop();
        }
        std::thread::sleep(Duration::from_micros(700 * (i % 6)));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        if has_temp_file(&q, pid) {
            mid_write += 1;
        }
        check();
    }
    eprintln!("kills caught mid-write: {mid_write} of 12");
    assert!(
        mid_write >= 1,
        "no kill landed while the run was being written; the test proves nothing"
    );
    // The next run into the folder completes it and removes what the killed writers left.
    ok(bin()
        .args(support::QUANTIZE)
        .args(["--steps", "5", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&q));
    assert!(check());
    assert!(!has_temp_file(&q, None));
}
