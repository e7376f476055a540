//! Device faults: no GPU adapter falls back to the CPU and says so (CLI and app), settings that
//! would need a tensor bigger than any device buffer are refused before allocation, and a real
//! allocation failure inside burn-wgpu reads as "out of memory" with advice.

use crate::support;

use std::process::Command;

use egui_kittest::kittest::Queryable;
use support::{bin, ok, sample_dir, temp_dir};

/// Hides every GPU adapter from wgpu: the Vulkan loader finds no driver and EGL no vendor.
fn without_gpu(cmd: &mut Command) -> &mut Command {
    cmd.env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("__EGL_VENDOR_LIBRARY_FILENAMES", "/nonexistent/egl.json")
}

/// A resumed run loads its optimiser state through burn, which creates it on burn's default
/// device: the binary makes that the CPU backend, so resuming on the CPU needs no GPU adapter (it
/// used to stop on an internal error there).
#[test]
fn resuming_on_the_cpu_needs_no_gpu_adapter() {
    let (data, q) = support::tiny_quantized("nogpu-resume");
    let run = data.join("tiger");
    let train = |steps: &str| support::tiny_train(&data, &q, &run, steps, 2);
    ok(&mut train("2"));
    let log = ok(without_gpu(train("4").arg("--resume")));
    assert!(log.contains("trained to step 4"), "{log}");
}

#[test]
fn without_an_adapter_the_cli_falls_back_to_the_cpu_and_says_so() {
    let _rng = support::device_rng();
    let out_dir = temp_dir("nogpu-quantize").join("run");
    let out = without_gpu(bin().args([
        "quantize",
        "--data",
        sample_dir().to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--steps",
        "2",
        "--hidden-dims",
        "16",
        "--latent-dim",
        "8",
        "--codebook-size",
        "8",
        "--batch-size",
        "64",
        "--kmeans-iters",
        "1",
        "--device",
        "gpu",
    ]))
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: no usable GPU adapter")
            && stderr.contains("using the CPU backend"),
        "{stderr}"
    );
    assert!(
        stderr.contains("device: cpu (burn flex)") || stdout.contains("device: cpu (burn flex)"),
        "{stdout}{stderr}"
    );
    assert!(out_dir.join("semantic_ids.csv").is_file());
}

#[test]
fn devices_lists_the_adapters_and_auto_never_picks_a_software_one() {
    let _rng = support::device_rng();
    let out = without_gpu(bin().args(["devices", "--json"]))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["adapters"].as_array().map(Vec::len), Some(0), "{v}");
    assert_eq!(v["auto"]["backend"], "cpu");
    assert!(
        v["auto"]["reason"]
            .as_str()
            .unwrap()
            .contains("no GPU adapter"),
        "{v}"
    );

    // On this machine as it is: auto computes on the CPU exactly when every adapter is software.
    let out = bin().args(["devices", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let adapters = v["adapters"].as_array().unwrap();
    let all_software = adapters.iter().all(|a| a["software"] == true);
    assert_eq!(v["auto"]["backend"] == "cpu", all_software, "{v}");
    if std::env::var_os("TIGER_REQUIRE_WGPU").is_some() {
        assert!(
            !adapters.is_empty(),
            "CI installs Mesa's software Vulkan: {v}"
        );
    }
    let text = ok(bin().args(["devices"]));
    assert!(text.contains("--device auto computes on the"), "{text}");
}

/// Run by [`without_an_adapter_the_app_status_bar_says_so`] in a child process whose environment
/// hides the GPU (the environment must be set before wgpu starts).
#[test]
#[ignore = "run as a child process by without_an_adapter_the_app_status_bar_says_so"]
fn app_child_without_gpu() {
    let _rng = support::device_rng();
    use tiger_explorer::app::{AppConfig, TigerApp};
    let app = TigerApp::new(
        AppConfig {
            data: sample_dir(),
            device: tiger_core::device_choice::DeviceChoice::Gpu.into(),
            runs: temp_dir("nogpu-app-runs"),
            open: Vec::new(),
            listed: Vec::new(),
        },
        egui::Context::default(),
    );
    let mut h = egui_kittest::Harness::builder()
        .with_size([1280.0, 900.0])
        .build_ui_state(|ui, app: &mut TigerApp| app.show(ui), app);
    assert!(
        support::wait(&mut h, 60, |a| a.state.device.is_some()),
        "no device event"
    );
    h.run_steps(2);
    let device = h.state().state.device.clone().unwrap_or_default();
    assert!(device.starts_with("cpu"), "{device}");
    let note = h.state().state.device_note.clone().unwrap_or_default();
    assert!(note.contains("no usable GPU adapter"), "{note}");
    // The status bar shows both: the device and, beside it, why it is not the GPU.
    assert!(h.query_by_label_contains("Device: cpu").is_some());
    assert!(h.query_by_label_contains("no usable GPU adapter").is_some());
    println!("CHILD-OK");
}

#[test]
fn without_an_adapter_the_app_status_bar_says_so() {
    let _rng = support::device_rng();
    let out = without_gpu(&mut Command::new(std::env::current_exe().unwrap()))
        .args([
            "--exact",
            "device_faults::app_child_without_gpu",
            "--ignored",
            "--nocapture",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD-OK"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `args` and returns the single `error:` line (asserting exit code 1, no panic, fast).
fn refused(args: &[&str]) -> String {
    let t = std::time::Instant::now();
    let out = bin().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Refused before any training: well under the time one real step at these sizes would take.
    assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default()
        .to_string();
    assert!(!line.is_empty(), "{stderr}");
    line
}

#[test]
fn settings_needing_a_tensor_over_two_gib_are_refused_before_allocation() {
    let _rng = support::device_rng();
    let data = sample_dir();
    let data = data.to_str().unwrap();
    let dir = temp_dir("huge-settings");
    // RQ-VAE: batch 262,144 × hidden 16,384 passes each bound alone but needs a 16 GiB activation.
    let out = dir.join("q");
    let e = refused(&[
        "quantize",
        "--data",
        data,
        "--out",
        out.to_str().unwrap(),
        "--device",
        "cpu",
        "--batch-size",
        "262144",
        "--hidden-dims",
        "16384",
    ]);
    assert!(
        e.contains("--batch-size 262144")
            && e.contains("16.0 GiB")
            && e.contains("lower --batch-size"),
        "{e}"
    );
    assert!(!out.exists(), "no output folder for a refused run");
    // SASRec: the logits of one step are batch × length × items (16,384 × 1,000 × 9,125 × 4 B).
    let out = dir.join("s");
    let e = refused(&[
        "baseline",
        "sasrec",
        "--data",
        data,
        "--out",
        out.to_str().unwrap(),
        "--device",
        "cpu",
        "--batch-size",
        "16384",
        "--max-len",
        "1000",
    ]);
    assert!(
        e.contains("the logits") && e.contains("lower --batch-size or --max-len"),
        "{e}"
    );
}

#[test]
fn a_real_allocation_failure_in_burn_wgpu_reads_as_out_of_memory() {
    let _rng = support::device_rng();
    use burn::prelude::*;
    let Some(device) = support::gpu_or_skip() else {
        return;
    };
    // 2^38 f32 = 1 TiB in one buffer: more than any adapter has, so the backend refuses it
    // (without allocating) by panicking, as it does for a real out-of-memory.
    let caught = std::panic::catch_unwind(|| {
        let t = Tensor::<1>::zeros([1usize << 38], &device);
        t.into_data()
    });
    let payload = caught.expect_err("a 1 TiB buffer must not be allocated");
    let text = tiger_kernels::device::panic_text(payload.as_ref());
    let message = tiger_kernels::device::backend_failure(&text);
    eprintln!("backend said: {text:.300}\nuser sees: {message}");
    assert!(
        message.starts_with("the GPU ran out of memory"),
        "{message}"
    );
    assert!(message.contains("--batch-size"), "{message}");
    // One line naming the failed request, not the backend's error chain.
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("1099511627776"), "{message}");
    assert!(message.len() < 600, "{message}");
}
