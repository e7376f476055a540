//! Crash safety: the real binary is killed with SIGKILL over and over while it writes checkpoints
//! (TIGER training that validates and saves `best` and `last` after every step, with weights large
//! enough that writing takes most of each step) and while it rewrites a quantize run's outputs.
//! After every kill the previous files must be intact and loadable: `eval` reads `best`, `train
//! --resume` reads `last` (weights, optimiser, state), and the semantic-ID CSV and statistics parse
//! whole.

use crate::support;

use support::{bin, ok};

use std::path::Path;
use std::process::{Command, Stdio};
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

/// Spawns `cmd`, lets it run `ms` milliseconds, kills it with SIGKILL and reaps it.
fn run_and_kill(cmd: &mut Command, ms: u64) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(ms));
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
}

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

#[test]
fn killed_while_rewriting_a_quantize_run_keeps_the_old_files_whole() {
    let _rng = support::device_rng();
    let (data, q) = support::tiny_quantized("kill-quantize");
    let catalogue: Vec<String> = (1..=6).map(|i| i.to_string()).collect();
    let check = || {
        let ids = SemanticIds::read_csv(&q.join("semantic_ids.csv"), &catalogue).unwrap();
        assert_eq!(ids.len(), 6);
        let stats: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(q.join("rqvae_stats.json")).unwrap())
                .unwrap();
        assert!(stats["levels"].is_array());
    };
    check();
    for i in 0..12u64 {
        let mut c = bin();
        c.args(support::QUANTIZE)
            .args(["--steps", "400", "--seed", &i.to_string(), "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&q);
        run_and_kill(&mut c, 150 + 41 * i);
        check();
    }
}
