//! A run whose loss stops being finite ends within `LOSS_READ_EVERY` (50) steps whatever
//! `--log-every` says: the training loops read their loss back from the device at least that
//! often, which also keeps the host from running far ahead of the device.

use crate::support;
use support::bin;

/// The step named by "training diverged at step N" in `stderr`.
fn diverged_step(stderr: &str) -> usize {
    let rest = stderr
        .split("diverged at step ")
        .nth(1)
        .unwrap_or_else(|| panic!("no divergence reported: {stderr}"));
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().unwrap()
}

#[test]
fn a_diverging_run_stops_within_fifty_steps_whatever_log_every_says() {
    let (data, q) = support::tiny_quantized("cli-diverge");
    let out = bin()
        .args(["train", "--device", "cpu", "--data"])
        .arg(&data)
        .arg("--ids")
        .arg(q.join("semantic_ids.csv"))
        .arg("--out")
        .arg(data.join("tiger"))
        .args(["--steps", "300", "--batch-size", "4", "--lr", "1e30"])
        .args(["--log-every", "100000", "--eval-every", "100000"])
        .args(["--user-buckets", "10"])
        .args(support::TINY_T5_SHAPE)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(diverged_step(&err) <= 50, "{err}");

    let out = bin()
        .args(["baseline", "sasrec", "--device", "cpu", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(data.join("sas"))
        .args(["--steps", "300", "--lr", "1e30"])
        .args(["--log-every", "100000", "--eval-every", "100000"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(diverged_step(&err) <= 50, "{err}");
}
