//! `labels` and `map` through the built binary: a run's code labels and coherence are printed,
//! written with `--write` and read back by the runs list; `quantize --json` carries the coherence;
//! a t-SNE map is written where the window looks for it, and a catalogue too small for one is
//! refused with a message.

use crate::support;
use support::{bin, ok};

use tiger_core::embeddings::map_file::{read_map, tsne_file_name};
use tiger_core::embeddings::{Embeddings, store};
use tiger_core::run::summary::{Figures, summarize};

#[test]
fn labels_print_write_and_reach_the_runs_list() {
    let _rng = support::device_rng();
    let (data, run) = support::tiny_quantized("cli-labels");
    // The quantize run already recorded them; remove them to see `labels --write` restore them.
    for f in ["code_labels.json", "coherence.json"] {
        assert!(run.join(f).is_file(), "quantize writes {f}");
        std::fs::remove_file(run.join(f)).unwrap();
    }
    let out = ok(bin()
        .args(["labels", "--json", "--write", "--run"])
        .arg(&run)
        .arg("--data")
        .arg(&data));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let levels = v["coherence"].as_array().unwrap();
    assert_eq!(levels.len(), 2);
    assert!(levels[0]["shared_features"].as_f64().unwrap() >= 0.0);
    assert!(
        levels[0]["cosine"].as_f64().is_some(),
        "the tiny dataset has embeddings"
    );
    let labels = v["labels"].as_array().unwrap();
    assert!(!labels.is_empty());
    assert!(
        labels
            .iter()
            .all(|l| l["prefix"].as_array().unwrap().len() == 1)
    );
    // Written, and the runs list reads the coherence back.
    assert!(run.join("code_labels.json").is_file());
    let summary = summarize(&run).unwrap();
    match summary.figures {
        Figures::Rqvae { coherence, .. } => assert_eq!(coherence.len(), 2),
        other => panic!("{other:?}"),
    }
    // Text output names each level and refuses a level the IDs lack.
    let text = ok(bin()
        .args(["labels", "--run"])
        .arg(&run)
        .arg("--data")
        .arg(&data));
    assert!(
        text.contains("level 1: items sharing the prefix share"),
        "{text}"
    );
    let out = bin()
        .args(["labels", "--level", "3", "--run"])
        .arg(&run)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("levels 1 to 2"),
        "{err}"
    );
}

#[test]
fn quantize_json_carries_each_levels_coherence() {
    let _rng = support::device_rng();
    let data = support::tiny_embedded("cli-quantize-coherence");
    let out = ok(bin()
        .args(support::QUANTIZE)
        .args(["--steps", "10", "--json", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(data.join("q")));
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let c = v["coherence"].as_array().unwrap();
    assert_eq!(c.len(), 2);
    assert!(c[1]["random_shared_features"].as_f64().is_some());
    assert!(
        v["unique_prefix_pct"].as_f64().is_some(),
        "the statistics stay at the top"
    );
}

#[test]
fn map_writes_the_tsne_map_beside_the_embeddings() {
    let _rng = support::device_rng();
    let data = support::temp_dir("cli-map");
    // 40 points in two far-apart clusters.
    let values: Vec<f32> = (0..40 * 4)
        .map(|i| if (i / 4) % 2 == 0 { 0.0 } else { 10.0 } + (i % 7) as f32 * 0.01)
        .collect();
    let emb = Embeddings::new(40, 4, values).unwrap();
    store::write(&data.join("embeddings.npy"), &emb).unwrap();
    let text = ok(bin().args(["map", "--data"]).arg(&data));
    let path = data.join(tsne_file_name(&emb));
    assert!(text.contains("40 points"), "{text}");
    let points = read_map(&path, 40).expect("the map is where the window looks");
    assert!(points.iter().all(|p| p[0].is_finite() && p[1].is_finite()));
    // Too few items: refused with the file and the reason.
    let small = support::temp_dir("cli-map-small");
    let few = Embeddings::new(5, 4, vec![0.5; 20]).unwrap();
    store::write(&small.join("embeddings.npy"), &few).unwrap();
    let out = bin().args(["map", "--data"]).arg(&small).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("embeddings.npy") && err.contains("at least 16"),
        "{err}"
    );
}
