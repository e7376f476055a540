//! Ctrl-C during `train` and `baseline sasrec` through the built binary: the loop stops at the next
//! step, saves its resumable state, says where, and `--resume` goes on from there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support;
use support::{bin, ok};

/// Starts `cmd`, sends SIGINT once it has logged a loss, and returns its stderr and exit status.
fn interrupt_after_first_loss(mut cmd: Command) -> (String, std::process::ExitStatus) {
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("loss") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("no loss logged within two minutes");
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    (reader.join().unwrap(), status)
}

/// The step recorded in `run/last/state.json`.
fn saved_step(run: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(run.join("last/state.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["step"].as_u64().unwrap()
}

#[test]
fn ctrl_c_saves_a_resumable_state_and_resume_goes_on() {
    let (data, q) = support::tiny_quantized("cli-interrupt");
    let run = data.join("tiger");
    let train = |steps: &str| {
        let mut c = bin();
        c.args(["train", "--device", "cpu", "--data"])
            .arg(&data)
            .arg("--ids")
            .arg(q.join("semantic_ids.csv"))
            .arg("--out")
            .arg(&run)
            .args(["--steps", steps, "--batch-size", "4", "--eval-every"])
            .args(["100000", "--log-every", "1", "--user-buckets", "10"])
            .args(support::TINY_T5_SHAPE);
        c
    };
    let (err, status) = interrupt_after_first_loss(train("1000000"));
    assert!(!status.success(), "{err}");
    assert!(err.contains("interrupted at step"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let step = saved_step(&run);
    assert!(step >= 1, "{err}");
    assert!(
        err.contains(&format!("interrupted at step {step};")),
        "the message names the saved step {step}: {err}"
    );
    // Resuming goes on from the saved step to a later one.
    let target = (step + 2).to_string();
    let mut resumed = train(&target);
    let log = ok(resumed.arg("--resume"));
    assert!(log.contains(&format!("trained to step {target}")), "{log}");

    let sas = data.join("sas");
    let mut c = bin();
    c.args(["baseline", "sasrec", "--device", "cpu", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&sas)
        .args([
            "--steps",
            "1000000",
            "--log-every",
            "1",
            "--eval-every",
            "100000",
        ]);
    let (err, status) = interrupt_after_first_loss(c);
    assert!(
        !status.success() && err.contains("interrupted at step"),
        "{err}"
    );
    assert!(saved_step(&sas) >= 1, "{err}");
}
