//! The paper's ablations from the command line: training on random IDs of the same shape, and
//! beam search against exact scoring of every item's full ID (`eval --exact`; its widening is
//! tested on the sample in `tests/pipeline/exact_scoring.rs`).

use crate::support;

use std::path::Path;
use support::{ok, temp_dir, tiny_quantized, tiny_train};

/// A semantic_ids.csv as `item → codes and collision token`.
fn rows(path: &Path) -> Vec<(String, Vec<u32>)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let mut f = l.split(',');
            let item = f.next().unwrap().to_string();
            (item, f.map(|v| v.parse().unwrap()).collect())
        })
        .collect()
}

#[test]
fn random_ids_train_on_the_same_ids_moved_between_items() {
    let (data, q) = tiny_quantized("ablation-random");
    let run = temp_dir("ablation-random-run").join("t");
    let mut train = tiny_train(&data, &q, &run, "6", 3);
    let out = train.arg("--random-ids").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("random IDs of the same shape"),
        "the run does not say it is the ablation"
    );

    let semantic = rows(&q.join("semantic_ids.csv"));
    let random = rows(&run.join("semantic_ids.csv"));
    let items = |r: &[(String, Vec<u32>)]| r.iter().map(|(i, _)| i.clone()).collect::<Vec<_>>();
    assert_eq!(
        items(&random),
        items(&semantic),
        "the same catalogue in order"
    );
    let sorted = |r: &[(String, Vec<u32>)]| {
        let mut v: Vec<Vec<u32>> = r.iter().map(|(_, c)| c.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(
        sorted(&random),
        sorted(&semantic),
        "the same set of full IDs"
    );
    assert_ne!(random, semantic, "no item changed its ID");

    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["options"]["random_ids"], true, "{config}");

    // eval --exact: a beam as wide as this 6-item catalogue prunes nothing, so it is exact.
    let eval: serde_json::Value = serde_json::from_str(&ok(support::bin()
        .args(["eval", "--device", "cpu", "--exact", "--run"])
        .arg(&run)))
    .unwrap();
    assert_eq!(eval["beam_exact_share"], 1.0, "{eval}");
    assert_eq!(eval["exact"]["ndcg@10"], eval["ndcg@10"], "{eval}");
    assert_eq!(eval["exact"]["queries"], eval["queries"], "{eval}");

    // The run recommends with its own (shuffled) IDs: each recommended item is printed with the
    // ID the run's file gives it.
    let rec = ok(support::bin()
        .args([
            "recommend",
            "--device",
            "cpu",
            "--k",
            "3",
            "--history",
            "Toy Story",
            "--run",
        ])
        .arg(&run));
    support::recommended_items(&rec, 3, &data, &run);
}

#[test]
fn adafactor_trains_and_a_run_resumes_only_with_its_own_optimiser() {
    let (data, q) = tiny_quantized("optimiser");
    let run = temp_dir("optimiser-run").join("t");
    ok(tiny_train(&data, &q, &run, "4", 2).args(["--optimizer", "adafactor"]));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["options"]["optimizer"], "adafactor", "{config}");
    for (flags, says) in [
        (
            &["--optimizer", "adamw"][..],
            "trained with --optimizer adafactor",
        ),
        (
            &["--optimizer", "adafactor", "--random-ids"][..],
            "without --random-ids",
        ),
    ] {
        let out = tiny_train(&data, &q, &run, "8", 2)
            .arg("--resume")
            .args(flags)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(says), "{stderr}");
    }
    ok(tiny_train(&data, &q, &run, "8", 2).args(["--resume", "--optimizer", "adafactor"]));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("last/state.json")).unwrap())
            .unwrap();
    assert_eq!(state["step"], 8, "{state}");
}
