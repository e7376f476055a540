//! `tiger-bench` end to end through the real binary with tiny shapes on the CPU (and the map on the
//! wgpu adapter when one exists): every workload reports a positive rate, scaling reports every
//! size, bad arguments are refused with a message.

/// The built `tiger-bench` binary, run from the repository root (where the sample is).
fn bin() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tiger-bench"));
    cmd.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    cmd
}

/// A fresh empty folder under the system temp dir, unique to this test.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tiger-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// `tiger-bench run` on the CPU with tiny shapes and a short timed window.
const TINY_RUN: [&str; 10] = [
    "run", "--device", "cpu", "--tiny", "--warmup", "2", "--items", "300", "--dim", "16",
];

#[test]
fn bench_run_reports_every_workload() {
    let out = bin()
        .args(TINY_RUN)
        .args([
            "--steps",
            "4",
            "--json",
            "--only",
            "rqvae,tiger,beam,eval",
            "--queries",
            "3",
            "--eval-users",
            "30",
            "--beam",
            "5",
        ])
        .output()
        .unwrap();
    let rows = json_lines(&out);
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["workload"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["rqvae", "tiger", "beam", "eval"]);
    for r in &rows {
        assert!(r["rate"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["peak_host_mib"].as_f64().unwrap() > 0.0, "{r}");
    }
    assert!(rows[0]["first_step_s"].as_f64().is_some());
    assert!(rows[2]["latency_ms"].as_f64().unwrap() > 0.0);
    // The training rows say which threads the timed steps kept busy; four tiny steps are too
    // short for the kernel's 10 ms ticks, and the row says so.
    for r in &rows[..2] {
        let shape = r["shape"].as_str().unwrap();
        assert!(shape.contains("; threads busy: not measured"), "{shape}");
    }
    assert!(
        rows[3]["shape"]
            .as_str()
            .unwrap()
            .contains("30 test histories")
    );
}

#[test]
fn bench_scaling_reports_each_size_and_refuses_tiny_catalogues() {
    let out = bin()
        .args([
            "scaling",
            "--device",
            "cpu",
            "--tiny",
            "--json",
            "--items",
            "500,2000",
            "--dim",
            "16",
            "--steps",
            "5",
            "--queries",
            "4",
            "--beam",
            "5",
        ])
        .output()
        .unwrap();
    let rows = json_lines(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["items"], 2000);
    // Every item is a trie leaf, so the trie has more nodes than items.
    assert!(rows[1]["trie_nodes"].as_u64().unwrap() > 2000);
    assert!(rows[1]["beam_ms_per_query"].as_f64().unwrap() > 0.0);

    let bad = bin()
        .args(["scaling", "--device", "cpu", "--tiny", "--items", "10"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--items 10"));
}

#[test]
fn bench_map_draws_points_or_says_why_not() {
    let out = bin()
        .args([
            "map", "--json", "--points", "500", "--frames", "5", "--width", "64", "--height", "32",
        ])
        .output()
        .unwrap();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            std::env::var("TIGER_REQUIRE_WGPU").is_err(),
            "TIGER_REQUIRE_WGPU is set but: {err}"
        );
        assert!(err.contains("no usable GPU adapter"), "{err}");
        return;
    }
    let rows = json_lines(&out);
    assert_eq!(rows[0]["points"], 500);
    assert!(rows[0]["lit_pixels"].as_u64().unwrap() > 0);
    assert!(rows[0]["fps"].as_f64().unwrap() > 0.0);
    // The window's CPU work per focus change and per hovered frame is reported beside.
    assert!(rows[0]["focus_ms"].as_f64().unwrap() > 0.0);
    assert!(rows[0]["hover_ms"].as_f64().unwrap() >= 0.0);
}

#[test]
fn bench_cycles_samples_every_cancel() {
    let out = bin()
        .args([
            "cycles", "--device", "cpu", "--tiny", "--cycles", "2", "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = json_lines(&out);
    // A warm-up cycle and two measured ones, each cancelling quantize and TIGER training.
    assert_eq!(rows.len(), 6, "{rows:?}");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["cycle"].as_u64(), Some(i as u64 / 2), "{row}");
        assert_eq!(row["job"], if i % 2 == 0 { "quantize" } else { "tiger" });
        let ms = row["cancel_ms"].as_f64().unwrap();
        assert!(ms >= 0.0 && ms < 5_000.0, "{row}");
        assert!(row["threads"].as_u64().unwrap() >= 2, "{row}");
        assert!(row["host_rss_mib"].as_f64().unwrap() > 1.0, "{row}");
        // The CPU backend keeps no device pool.
        assert!(row["device_in_use_mib"].is_null(), "{row}");
    }
}

/// `tiger-bench ratio` pairs a real `tiger-bench run --json` output with PyTorch's JSON lines by
/// workload, and names the file that is missing.
#[test]
fn bench_ratio_divides_burn_by_each_torch_variant() {
    let dir = temp_dir("bench-ratio");
    let burn_out = bin()
        .args([
            "run",
            "--device",
            "cpu",
            "--tiny",
            "--json",
            "--only",
            "rqvae,tiger",
            "--warmup",
            "2",
            "--steps",
            "4",
            "--items",
            "300",
            "--dim",
            "16",
        ])
        .output()
        .unwrap();
    let burn_rows = json_lines(&burn_out);
    let rate = |w: &str| {
        burn_rows
            .iter()
            .find(|r| r["workload"] == w)
            .and_then(|r| r["rate"].as_f64())
            .unwrap()
    };
    let burn = dir.join("burn.json");
    std::fs::write(&burn, &burn_out.stdout).unwrap();
    let torch = dir.join("torch.json");
    std::fs::write(
        &torch,
        "# torch header\n\
         {\"workload\":\"tiger\",\"variant\":\"eager\",\"steps_per_s\":10.0}\n\
         {\"workload\":\"tiger\",\"variant\":\"sdpa\",\"steps_per_s\":20.0}\n\
         {\"workload\":\"rqvae\",\"variant\":\"eager\",\"steps_per_s\":50.0}\n",
    )
    .unwrap();
    let out = bin()
        .args(["ratio", "--json", "--burn"])
        .arg(&burn)
        .arg("--torch")
        .arg(&torch)
        .output()
        .unwrap();
    let rows = json_lines(&out);
    let got: Vec<(String, String, f64)> = rows
        .iter()
        .map(|r| {
            (
                r["workload"].as_str().unwrap().to_string(),
                r["variant"].as_str().unwrap().to_string(),
                r["ratio"].as_f64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("rqvae", "eager", rate("rqvae") / 50.0),
        ("tiger", "eager", rate("tiger") / 10.0),
        ("tiger", "sdpa", rate("tiger") / 20.0),
    ];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((w, v, r), (ww, wv, wr)) in got.iter().zip(want) {
        assert_eq!((w.as_str(), v.as_str()), (ww, wv));
        assert!((r - wr).abs() <= 1e-9 * wr, "{w} {v}: {r} against {wr}");
    }

    let missing = dir.join("absent.json");
    let out = bin()
        .args(["ratio", "--burn"])
        .arg(&burn)
        .arg("--torch")
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("absent.json") && err.contains("cannot read"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tiger-bench run --profile DIR` writes a CPU profile of each training workload's timed window
/// when the build has the sampler (cargo feature `profile`), and otherwise refuses with how to get
/// it, before any work and without creating the folder.
#[test]
fn bench_run_profile_writes_profiles_or_says_which_build_can() {
    let dir = temp_dir("bench-profile");
    let profiles = dir.join("profiles");
    let out = bin()
        .args(TINY_RUN)
        // Long enough a window (about a second) for the sampler to catch the training loop.
        .args([
            "--steps",
            if cfg!(feature = "profile") {
                "4000"
            } else {
                "4"
            },
        ])
        .args(["--only", "rqvae", "--profile"])
        .arg(&profiles)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if cfg!(feature = "profile") {
        assert!(out.status.success(), "{err}");
        let text = std::fs::read_to_string(profiles.join("rqvae.txt")).unwrap();
        assert!(text.starts_with("rqvae: "), "{text}");
        assert!(!text.starts_with("rqvae: 0 samples"), "{text}");
        let folded = std::fs::read_to_string(profiles.join("rqvae.folded")).unwrap();
        assert!(folded.contains("rqvae_loop::train"), "{folded}");
        let first = std::fs::read_to_string(profiles.join("rqvae-first.txt")).unwrap();
        assert!(first.starts_with("rqvae-first: "), "{first}");
        assert!(
            folded.lines().all(|l| l
                .rsplit_once(' ')
                .is_some_and(|(_, n)| n.parse::<u64>().is_ok())),
            "{folded}"
        );
    } else {
        assert!(!out.status.success());
        assert!(err.contains("--features profile"), "{err}");
        assert!(!profiles.exists());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_run_with_dead_code_restarts_and_the_replay_probe_run_on_the_cpu() {
    let rows = json_lines(
        &bin()
            .args(TINY_RUN)
            .args(["--steps", "6", "--json", "--only", "rqvae"])
            .args(["--dead-code-restart", "3"])
            .output()
            .unwrap(),
    );
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["rate"].as_f64().unwrap() > 0.0, "{:?}", rows[0]);
    // The row says which path the steps took: the CPU cannot record, so plain training.
    let shape = rows[0]["shape"].as_str().unwrap();
    assert!(shape.contains("; training;"), "{shape}");

    let out = bin()
        .args([
            "replay-probe",
            "--device",
            "cpu",
            "--batch",
            "2",
            "--steps",
            "1",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // burn's CPU backend cannot record: the probe says so instead of timing replays.
    assert!(
        text.contains("eager") && text.contains("not supported"),
        "{text}"
    );
}

#[test]
fn bench_attention_times_each_shape_both_ways_and_refuses_empty_shapes() {
    let out = bin()
        .args(["attention", "--device", "cpu", "--batch", "2"])
        .args(["--src", "9", "--tgt", "3", "--reps", "1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for case in [
        "encoder self [2x6x9x9x64]",
        "decoder self [2x6x3x3x64]",
        "cross [2x6x3x9x64]",
    ] {
        for pass in ["forward ", "forward + backward "] {
            let line = text
                .lines()
                .find(|l| l.starts_with(&format!("{case} {pass}")))
                .unwrap_or_else(|| panic!("no '{case} {pass}' row in\n{text}"));
            assert!(line.contains(" ms "), "{line}");
        }
    }
    let out = bin()
        .args(["attention", "--device", "cpu", "--src", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--src"), "{err}");
}
