//! The `quantize` and `info` commands end to end through the real binary (CPU, tiny settings).

use crate::support;

use support::bin;

use tiger_core::embeddings::{Embeddings, store};

fn tiny_embeddings(rows: usize, dim: usize) -> Embeddings {
    Embeddings::new(
        rows,
        dim,
        (0..rows * dim)
            .map(|i| ((i * 31 % 17) as f32) / 17.0)
            .collect(),
    )
    .unwrap()
}

const TINY: &[&str] = &[
    "--device",
    "cpu",
    "--steps",
    "30",
    "--batch-size",
    "4",
    "--levels",
    "2",
    "--codebook-size",
    "4",
    "--latent-dim",
    "4",
    "--hidden-dims",
    "16",
    "--log-every",
    "10",
    "--kmeans-iters",
    "2",
];

#[test]
fn quantize_writes_a_complete_run() {
    let data = support::tiny_movielens("cli-quantize");
    store::write(&data.join("embeddings.npy"), &tiny_embeddings(6, 8)).unwrap();
    let out = data.join("run");
    let res = bin()
        .args(["quantize", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .args(TINY)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let stats: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(stats["items"], 6);
    assert_eq!(stats["levels"].as_array().unwrap().len(), 2);
    for f in [
        "semantic_ids.csv",
        "rqvae_stats.json",
        "config.json",
        "rqvae.safetensors",
        "standardizer.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let csv = std::fs::read_to_string(out.join("semantic_ids.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("item_id,c1,c2,collision"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0][0], "1");
    // Each row's collision token counts the earlier rows with the same codes.
    for (i, r) in rows.iter().enumerate() {
        let earlier = rows[..i].iter().filter(|e| e[1..3] == r[1..3]).count();
        assert_eq!(r[3], earlier.to_string(), "row {i}: {r:?}");
    }
    // No temporary files are left behind.
    for entry in std::fs::read_dir(&out).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(!name.contains(".tmp-"), "leftover {name}");
    }
}

#[test]
fn wrong_embedding_rows_and_nan_are_clear_errors() {
    let data = support::tiny_movielens("cli-bad-emb");
    let bad = data.join("bad.npy");
    store::write(&bad, &tiny_embeddings(5, 8)).unwrap();
    let res = bin()
        .args(["quantize", "--data"])
        .arg(&data)
        .arg("--embeddings")
        .arg(&bad)
        .args(["--out", "/tmp/never-written"])
        .args(TINY)
        .output()
        .unwrap();
    assert!(!res.status.success());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("bad.npy") && err.contains("5 rows") && err.contains("6 items"),
        "{err}"
    );
    assert!(!std::path::Path::new("/tmp/never-written").exists());

    let mut nan = tiny_embeddings(6, 8);
    nan.data[13] = f32::NAN;
    store::write(&bad, &nan).unwrap();
    let res = bin()
        .args(["quantize", "--data"])
        .arg(&data)
        .arg("--embeddings")
        .arg(&bad)
        .args(["--out", "/tmp/never-written"])
        .args(TINY)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        !res.status.success() && err.contains("row 1, column 5") && err.contains("bad.npy"),
        "{err}"
    );
}

#[test]
fn missing_embeddings_say_how_to_make_them() {
    let data = support::tiny_movielens("cli-no-emb");
    let res = bin()
        .args(["quantize", "--data"])
        .arg(&data)
        .args(["--out", "/tmp/never-written"])
        .args(TINY)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        !res.status.success()
            && err.contains("embeddings.npy")
            && err.contains("tiger-explorer embed"),
        "{err}"
    );
}

#[test]
fn info_reports_counts_after_k_core() {
    let data = support::tiny_movielens("cli-info");
    let res = bin()
        .args(["info", "--json", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&res.stdout).unwrap();
    assert_eq!(v["items"], 6);
    assert_eq!(v["items_after_k_core"], 5);
    assert_eq!(v["users_after_k_core"], 6);
    assert_eq!(v["interactions_after_k_core"], 30);
}

#[test]
fn embed_writes_unit_vectors_in_both_formats() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2");
    let data = support::tiny_movielens("cli-embed");
    for name in ["emb.safetensors", "emb.npy"] {
        let out = data.join(name);
        let res = bin()
            .args(["embed", "--device", "cpu", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .arg("--model")
            .arg(&model)
            .output()
            .unwrap();
        assert!(
            res.status.success(),
            "{}",
            String::from_utf8_lossy(&res.stderr)
        );
        let emb = store::read(&out).unwrap();
        assert_eq!((emb.rows, emb.dim), (6, 384));
        for i in 0..6 {
            let norm: f32 = emb.row(i).iter().map(|v| v * v).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "row {i} norm {norm}");
        }
    }
    let a = store::read(&data.join("emb.npy")).unwrap();
    let b = store::read(&data.join("emb.safetensors")).unwrap();
    assert_eq!(a, b, "same texts, same vectors in both formats");
}

#[test]
fn embed_without_model_says_how_to_get_it() {
    let data = support::tiny_movielens("cli-embed-missing");
    let res = bin()
        .args([
            "embed",
            "--device",
            "cpu",
            "--model",
            "/nonexistent",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(data.join("e.npy"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        !res.status.success() && err.contains("fetch-model.sh"),
        "{err}"
    );
    assert!(!data.join("e.npy").exists());
}
