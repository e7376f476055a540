//! Every ID scheme of `quantize` (the RQ-VAE, with the rotation trick, residual k-means, random
//! codes, each with and without a Sinkhorn-balanced last level): the run it writes gives exactly
//! its `semantic_ids.csv` again when read back, and the same seed gives the same IDs.

use crate::support;

use std::path::{Path, PathBuf};

use support::{bin, ok};
use tiger_core::ids::SemanticIds;

/// A catalogue of 240 films (ratings by 40 users) with 16-wide synthetic embeddings in 64
/// clusters.
fn catalogue(name: &str) -> PathBuf {
    let mut movies = String::from("movieId,title,genres\n");
    for m in 1..=240 {
        movies.push_str(&format!("{m},Film {m} (2000),Drama\n"));
    }
    let mut ratings = String::from("userId,movieId,rating,timestamp\n");
    for u in 1..=40 {
        for k in 0..12 {
            let m = (u * 7 + k * 13) % 240 + 1;
            ratings.push_str(&format!("{u},{m},4.0,{}\n", 1000 + k));
        }
    }
    let data = support::dataset(name, &[("movies.csv", &movies), ("ratings.csv", &ratings)]);
    let emb = tiger_core::embeddings::synthetic::synthetic_embeddings(240, 16, 5);
    tiger_core::embeddings::store::write(&data.join("embeddings.npy"), &emb).unwrap();
    data
}

fn quantize(data: &Path, out: &Path, extra: &[&str]) {
    ok(bin()
        .args([
            "quantize",
            "--device",
            "cpu",
            "--levels",
            "3",
            "--codebook-size",
            "8",
            "--latent-dim",
            "4",
            "--hidden-dims",
            "16",
            "--batch-size",
            "64",
            "--steps",
            "40",
            "--log-every",
            "20",
            "--kmeans-iters",
            "5",
            "--data",
        ])
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(extra));
}

fn written(data: &Path, run: &Path) -> SemanticIds {
    let dataset = tiger_core::data::load(data).unwrap();
    let items: Vec<String> = dataset.items.iter().map(|i| i.id.clone()).collect();
    SemanticIds::read_csv(&run.join("semantic_ids.csv"), &items).unwrap()
}

const SCHEMES: [&[&str]; 6] = [
    &["--scheme", "rqvae"],
    &["--scheme", "rqvae", "--sinkhorn"],
    &["--scheme", "rqvae-rotation"],
    &["--scheme", "residual-kmeans"],
    &["--scheme", "residual-kmeans", "--sinkhorn"],
    &["--scheme", "random"],
];

#[test]
fn every_scheme_gives_its_ids_again_from_its_folder_and_from_its_seed() {
    let _rng = support::device_rng();
    let data = catalogue("id-schemes");
    let emb = tiger_core::embeddings::store::read(&data.join("embeddings.npy")).unwrap();
    let device = burn::prelude::Device::flex();
    let mut all = Vec::new();
    for (i, scheme) in SCHEMES.iter().enumerate() {
        let run = data.join(format!("run{i}"));
        quantize(&data, &run, scheme);
        let ids = written(&data, &run);
        let saved = tiger_models::run::quantize_run::load_quantize_run(&run, &device).unwrap();
        assert_eq!(
            saved.assign(&emb, &device).unwrap(),
            ids.codes,
            "{scheme:?}: the saved run assigns other codes"
        );
        let again = data.join(format!("again{i}"));
        quantize(&data, &again, scheme);
        assert_eq!(
            std::fs::read(run.join("semantic_ids.csv")).unwrap(),
            std::fs::read(again.join("semantic_ids.csv")).unwrap(),
            "{scheme:?}: the same seed made other IDs"
        );
        let what = if scheme.contains(&"residual-kmeans") {
            "codebooks.npy"
        } else if scheme.contains(&"random") {
            "semantic_ids.csv"
        } else {
            "rqvae.safetensors"
        };
        assert!(run.join(what).is_file(), "{scheme:?}: no {what}");
        all.push(ids);
    }
    // The schemes make different IDs of one shape.
    for (i, a) in all.iter().enumerate() {
        assert_eq!((a.levels, a.len()), (3, 240));
        for b in &all[i + 1..] {
            assert_ne!(a.codes, b.codes);
        }
    }
}

#[test]
fn a_balanced_last_level_evens_out_its_codes_and_the_report_says_so() {
    let _rng = support::device_rng();
    let data = catalogue("id-sinkhorn");
    let report = |extra: &[&str], name: &str| -> serde_json::Value {
        let run = data.join(name);
        let out = ok(bin()
            .args([
                "quantize",
                "--device",
                "cpu",
                "--levels",
                "2",
                "--codebook-size",
                "8",
                "--kmeans-iters",
                "5",
                "--json",
                "--scheme",
                "residual-kmeans",
                "--data",
            ])
            .arg(&data)
            .arg("--out")
            .arg(&run)
            .args(extra));
        serde_json::from_str(out.lines().last().unwrap()).unwrap()
    };
    let plain = report(&[], "plain");
    let balanced = report(&["--sinkhorn"], "balanced");
    let gini = |r: &serde_json::Value| r["levels"][1]["gini"].as_f64().unwrap();
    let counts = |r: &serde_json::Value| -> Vec<u64> {
        r["code_counts"][1]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .collect()
    };
    // 240 items over 8 codes: 30 each when perfectly even.
    let spread = counts(&balanced);
    assert!(
        spread.iter().all(|&c| (25..=35).contains(&c)),
        "the balanced level's counts {spread:?}"
    );
    assert!(
        gini(&balanced) < gini(&plain),
        "Gini {} balanced against {} plain",
        gini(&balanced),
        gini(&plain)
    );
    // The first level is the same k-means in both.
    assert_eq!(plain["code_counts"][0], balanced["code_counts"][0]);
    assert_eq!(balanced["scheme"], "residual-kmeans");
    assert_eq!(balanced["sinkhorn"], true);
    // Random codes have no codewords to balance.
    let refused = bin()
        .args(["quantize", "--scheme", "random", "--sinkhorn", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(data.join("refused"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("--sinkhorn"), "{err}");
    assert!(!data.join("refused").exists());
}
