//! The GPU autotune cache: a second launch reuses the first one's kernel choices instead of tuning
//! again, `TIGER_GPU_CACHE` moves it, and a cache that cannot be written or read (a file in the
//! way, a damaged database) costs nothing but the re-tune. Runs on burn-wgpu (Mesa's software
//! Vulkan in CI); set TIGER_REQUIRE_WGPU=1 to fail rather than skip when no adapter exists.

use crate::support;

use std::path::Path;
use std::process::Output;
use support::{QUANTIZE, bin, temp_dir, tiny_embedded};

/// A tiny quantize run on the GPU in `cwd` (whose cubecl.toml logs autotune decisions), with the
/// cache at `cache`.
fn quantize_on_gpu(cwd: &Path, data: &Path, out: &str, cache: &Path) -> Output {
    let args: Vec<&str> = QUANTIZE
        .iter()
        .map(|a| if *a == "cpu" { "gpu" } else { a })
        .collect();
    bin()
        .current_dir(cwd)
        .env("TIGER_GPU_CACHE", cache)
        .args(&args)
        .args(["--steps", "4", "--data"])
        .arg(data)
        .arg("--out")
        .arg(cwd.join(out))
        .output()
        .unwrap()
}

/// Asserts that the run exited 0, computed on the GPU (a CPU fallback tunes nothing, which would
/// pass for a cache hit) and wrote its run folder `out`.
fn succeeds(run: Output, out: &Path) {
    let (stdout, stderr) = (
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
    );
    assert!(run.status.success(), "{stderr}");
    assert!(
        stdout.contains("on gpu (burn-wgpu"),
        "the run did not compute on the GPU:\n{stdout}\n{stderr}"
    );
    assert!(out.exists(), "{} was not written", out.display());
}

/// How many kernels the run benchmarked to choose between (one "Fastest result" line per choice).
fn tuned(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .matches("Fastest result")
        .count()
}

#[test]
fn a_second_launch_reuses_the_autotune_cache() {
    let _rng = support::device_rng();
    let data = tiny_embedded("gpucache");
    let cwd = temp_dir("gpucache-cwd");
    let cache = cwd.join("cache");
    let (log1, log2) = (cwd.join("tune1.log"), cwd.join("tune2.log"));
    // Every autotuner opens the log file itself; without `append` each handle writes from the
    // file's start over the others' lines, and how many survive depends on thread timing. Each
    // run logs to a fresh file, so appending keeps every decision exactly once.
    let config = |log: &Path| {
        let _ = std::fs::remove_file(log);
        std::fs::write(
            cwd.join("cubecl.toml"),
            format!(
                "[autotune.logger]\nfile = {:?}\nlevel = \"full\"\nappend = true\n",
                log.display().to_string()
            ),
        )
        .unwrap();
    };

    config(&log1);
    let first = quantize_on_gpu(&cwd, &data, "q1", &cache);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    if stderr.contains("no usable GPU adapter") {
        if std::env::var("TIGER_REQUIRE_WGPU").is_ok() {
            panic!("TIGER_REQUIRE_WGPU is set but: {stderr}");
        }
        eprintln!("skipping the GPU cache test: {stderr}");
        return;
    }
    let tuned_first = tuned(&log1);
    assert!(
        tuned_first > 0,
        "the first launch tuned nothing (is the log read?)"
    );
    let files = std::fs::read_dir(&cache).map(|d| d.count()).unwrap_or(0);
    assert!(files > 0, "no cache written under {}", cache.display());

    config(&log2);
    succeeds(quantize_on_gpu(&cwd, &data, "q2", &cache), &cwd.join("q2"));
    let tuned_second = tuned(&log2);
    assert_eq!(
        tuned_second, 0,
        "the second launch tuned {tuned_second} kernels again (the first tuned {tuned_first})"
    );

    // A cache path that cannot be a directory (a file is in the way) costs a re-tune, not the run.
    let blocked = cwd.join("blocked");
    std::fs::write(&blocked, "not a directory").unwrap();
    let log3 = cwd.join("tune3.log");
    config(&log3);
    succeeds(
        quantize_on_gpu(&cwd, &data, "q3", &blocked),
        &cwd.join("q3"),
    );
    assert_eq!(
        tuned(&log3),
        tuned_first,
        "without its cache the run tunes as the first did"
    );

    // A damaged database is read as no cache: the run tunes again and succeeds.
    let damaged = cwd.join("damaged");
    std::fs::create_dir_all(&damaged).unwrap();
    let junk: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for entry in std::fs::read_dir(&cache).unwrap() {
        std::fs::write(damaged.join(entry.unwrap().file_name()), &junk).unwrap();
    }
    let log4 = cwd.join("tune4.log");
    config(&log4);
    succeeds(
        quantize_on_gpu(&cwd, &data, "q4", &damaged),
        &cwd.join("q4"),
    );
    assert_eq!(
        tuned(&log4),
        tuned_first,
        "a damaged cache must not be trusted"
    );
}
