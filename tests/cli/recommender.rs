//! `train`, `eval`, `recommend` and `baseline` end to end through the real binary (CPU, tiny).

use crate::support;

use support::{bin, ok};

const TINY_T5: &[&str] = &[
    "--device",
    "cpu",
    "--steps",
    "12",
    "--batch-size",
    "4",
    "--eval-every",
    "6",
    "--log-every",
    "6",
    "--user-buckets",
    "10",
];

#[test]
fn train_eval_recommend_and_baselines() {
    let (data, q) = support::tiny_quantized("cli-rec");

    let run = data.join("tiger");
    let log = ok(bin()
        .args(["train", "--data"])
        .arg(&data)
        .arg("--ids")
        .arg(q.join("semantic_ids.csv"))
        .arg("--out")
        .arg(&run)
        .args(TINY_T5)
        .args(support::TINY_T5_SHAPE));
    assert!(log.contains("trained to step 12"), "{log}");
    for f in [
        "config.json",
        "semantic_ids.csv",
        "best/model.bpk",
        "last/optim.bpk",
    ] {
        assert!(run.join(f).is_file(), "{f}");
    }

    let json: serde_json::Value = serde_json::from_str(&ok(bin()
        .args(["eval", "--device", "cpu", "--run"])
        .arg(&run)))
    .unwrap();
    assert_eq!(json["model"], "tiger");
    assert_eq!(json["queries"], 6);
    assert_eq!(json["invalid_share"], 0.0);
    // `eval` on the test split reproduces what `train` recorded for the same best weights.
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("test_metrics.json")).unwrap())
            .unwrap();
    for (name, k, key) in [
        ("recall", 5, "recall@5"),
        ("recall", 10, "recall@10"),
        ("ndcg", 5, "ndcg@5"),
        ("ndcg", 10, "ndcg@10"),
    ] {
        let want = recorded["model"][name]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p[0] == k)
            .unwrap()[1]
            .as_f64()
            .unwrap();
        let v = json[key].as_f64().unwrap();
        assert!(
            (v - want).abs() < 1e-9,
            "{key}: eval {v}, train recorded {want}"
        );
        assert!(json["popularity"][key].is_number());
    }

    // Unconstrained, a barely trained model names IDs that no item has, and eval counts them.
    let free: serde_json::Value = serde_json::from_str(&ok(bin()
        .args(["eval", "--device", "cpu", "--unconstrained", "--run"])
        .arg(&run)))
    .unwrap();
    let invalid = free["invalid_share"].as_f64().unwrap();
    assert!(invalid > 0.0 && invalid <= 1.0, "{free}");

    let rec = ok(bin()
        .args([
            "recommend",
            "--device",
            "cpu",
            "--k",
            "3",
            "--trace",
            "--history",
            "Toy Story,American President, The (1995)",
            "--run",
        ])
        .arg(&run));
    assert!(
        rec.contains("Toy Story (1995)") && rec.contains("American President, The (1995)"),
        "{rec}"
    );
    assert!(
        rec.contains("step 1 (level-1 code)") && rec.contains("kept"),
        "{rec}"
    );
    assert!(rec.contains("top 3:") && rec.contains("  1. "), "{rec}");
    // Every recommended item is printed with its ID from the run's semantic_ids.csv, and the
    // prefix it shares with the history item it is closest to.
    let (top, dataset, ids) = support::recommended_items(&rec, 3, &data, &run);
    let history: Vec<usize> = ["Toy Story (1995)", "American President, The (1995)"]
        .iter()
        .map(|t| dataset.items.iter().position(|i| i.title == *t).unwrap())
        .collect();
    for (line, item) in top {
        let c = ids.codes_of(item);
        let shared = |h: usize| {
            c.iter()
                .zip(ids.codes_of(h))
                .take_while(|(a, b)| a == b)
                .count()
        };
        let best = history.iter().map(|&h| shared(h)).max().unwrap_or(0);
        if best > 0 {
            assert!(
                line.contains(&format!("shares {best} code(s) with")),
                "{line:?} shares {best} code(s)"
            );
        }
    }

    let bad = bin()
        .args([
            "recommend",
            "--device",
            "cpu",
            "--history",
            "Casablanca",
            "--run",
        ])
        .arg(&run)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no item matches 'Casablanca'"));

    let sas = data.join("sas");
    ok(bin()
        .args([
            "baseline",
            "sasrec",
            "--device",
            "cpu",
            "--steps",
            "10",
            "--batch-size",
            "4",
            "--eval-every",
            "5",
            "--d-model",
            "8",
            "--max-len",
            "4",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&sas));
    let json: serde_json::Value = serde_json::from_str(&ok(bin()
        .args(["eval", "--device", "cpu", "--split", "valid", "--run"])
        .arg(&sas)))
    .unwrap();
    assert_eq!(json["model"], "sasrec");
    assert_eq!(json["split"], "valid");

    let pop: serde_json::Value = serde_json::from_str(&ok(bin()
        .args(["baseline", "popularity", "--data"])
        .arg(&data)))
    .unwrap();
    assert_eq!(pop["model"], "popularity");
    // Training parts are movies 1–3 for everyone; the test item (movie 5, index 4) ranks 5th after
    // the ties are broken by catalogue order: NDCG@5 = 1 / log2(6).
    assert_eq!(pop["recall@5"], 1.0);
    assert!((pop["ndcg@5"].as_f64().unwrap() - 1.0 / 6f64.log2()).abs() < 1e-9);
}
