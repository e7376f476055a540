//! Ctrl-C during `train`, `baseline sasrec` and `quantize` through the built binary: the loop stops
//! at the next step, saves its resumable state, says where, and `--resume` goes on from there (for
//! `quantize`, to the IDs of an uninterrupted run).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support;
use support::{bin, ok};

/// Starts `cmd`, sends SIGINT once it has logged a loss, and returns its stderr and exit status.
fn interrupt_after_first_loss(cmd: Command) -> (String, std::process::ExitStatus) {
    interrupt_after(cmd, "loss")
}

/// Starts `cmd`, sends SIGINT once a line of its stderr contains `marker`, and returns its stderr
/// and exit status.
fn interrupt_after(mut cmd: Command, marker: &'static str) -> (String, std::process::ExitStatus) {
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(marker) {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("no '{marker}' logged within two minutes"));
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
    let train = |steps: &str| support::tiny_train(&data, &q, &run, steps, 100_000);
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

#[test]
fn ctrl_c_in_quantize_saves_its_state_and_resume_reaches_the_uninterrupted_ids() {
    let data = support::tiny_embedded("cli-interrupt-quantize");
    let quantize = |out: &str| {
        let mut c = bin();
        c.args(support::QUANTIZE)
            .args(["--steps", "4000", "--dead-code-restart", "30"])
            .arg("--data")
            .arg(&data)
            .arg("--out")
            .arg(data.join(out));
        c
    };
    let (err, status) = interrupt_after(quantize("stopped"), "recon");
    assert!(!status.success(), "{err}");
    assert!(err.contains("interrupted at step"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let state = data.join("stopped/resume");
    assert!(state.join("state.json").is_file(), "{err}");
    assert!(
        !data.join("stopped/semantic_ids.csv").exists(),
        "an interrupted run writes no IDs: {err}"
    );

    let log = ok(quantize("stopped").arg("--resume"));
    assert!(
        !state.exists(),
        "the state goes once the run is written: {log}"
    );
    ok(&mut quantize("whole"));
    let read =
        |out: &str| std::fs::read_to_string(data.join(out).join("semantic_ids.csv")).unwrap();
    assert_eq!(read("stopped"), read("whole"));
    let json = |out: &str, file: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(data.join(out).join(file)).unwrap()).unwrap()
    };
    assert_eq!(
        json("stopped", "rqvae_stats.json"),
        json("whole", "rqvae_stats.json")
    );
    // The curves before the stop were read back from JSON text, to the last bit.
    assert!(support::json_close(
        &json("stopped", "curves.json"),
        &json("whole", "curves.json")
    ));

    // Resuming with other options is refused, naming the folder and the option.
    let (err, _) = interrupt_after(quantize("stopped2"), "recon");
    assert!(err.contains("interrupted at step"), "{err}");
    let out = quantize("stopped2")
        .args(["--seed", "9", "--resume"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("stopped2/resume") && err.contains("seed 42 (now 9)"),
        "{err}"
    );
}
