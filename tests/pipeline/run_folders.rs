//! Run folders as documents: `quantize`, `train` and `baseline sasrec` write one layout (config
//! with kind, layout version and dataset stamp; curves; test metrics) that the runs list reads, and
//! `pack` writes a half-precision copy whose recorded test metrics `eval` reproduces.

use crate::support;

use std::path::Path;

use support::{bin, ok};
use tiger_core::run::summary::{Figures, find_runs, summarize};
use tiger_core::run::{RunKind, TestRecord};

fn config(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap()
}

fn recorded(run: &Path) -> TestRecord {
    serde_json::from_str(&std::fs::read_to_string(run.join("test_metrics.json")).unwrap()).unwrap()
}

fn eval_ndcg(run: &Path) -> (f64, f64) {
    let v: serde_json::Value = serde_json::from_str(&ok(bin()
        .args(["eval", "--device", "cpu", "--split", "test", "--run"])
        .arg(run)))
    .unwrap();
    (
        v["ndcg@10"].as_f64().unwrap(),
        v["recall@10"].as_f64().unwrap(),
    )
}

#[test]
fn every_kind_of_run_writes_one_layout_that_lists_packs_and_evaluates_back() {
    let _rng = support::device_rng();
    let (data, q, tiger, sasrec) = support::three_runs("runs-layout");
    for (run, kind) in [(&q, "rqvae"), (&tiger, "tiger"), (&sasrec, "sasrec")] {
        let c = config(run);
        assert_eq!(c["kind"], kind);
        assert_eq!(c["format"], 1);
        assert!(c["created"].as_u64().unwrap() > 1_700_000_000);
        assert_eq!(c["dataset"]["items"], 6);
        assert!(run.join("curves.json").is_file(), "{kind} curves");
    }
    // The RQ-VAE's curves hold every log interval (20 steps, every 50: only the last) and the
    // recommenders' every report and validation.
    let curves: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(q.join("curves.json")).unwrap()).unwrap();
    assert_eq!(curves.len(), 1);
    assert_eq!(curves[0]["step"], 20);
    let tc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tiger.join("curves.json")).unwrap()).unwrap();
    assert_eq!(tc["valid"].as_array().unwrap().len(), 2);
    assert_eq!(tc["step"], 12);

    // The recorded test metrics are what `eval` computes from the same best weights.
    for run in [&tiger, &sasrec] {
        let r = recorded(run);
        assert_eq!(r.split, "test");
        assert_eq!(r.model.queries, 6);
        let (ndcg, recall) = eval_ndcg(run);
        assert_eq!(r.ndcg10(), ndcg, "{}", run.display());
        assert_eq!(r.model.recall_at(10), Some(recall));
    }

    // The runs list finds all three with their headline figures.
    let found = find_runs(&data);
    assert_eq!(found, vec![q.clone(), sasrec.clone(), tiger.clone()]);
    let s = summarize(&q).unwrap();
    assert_eq!(s.header.kind, RunKind::Rqvae);
    assert!(matches!(&s.figures, Figures::Rqvae { stats, .. } if stats.levels.len() == 2));
    assert!(s.headline().starts_with("usage "), "{}", s.headline());
    let t = summarize(&tiger).unwrap();
    assert_eq!(
        t.headline(),
        format!("test NDCG@10 {:.4}", recorded(&tiger).ndcg10())
    );
    // The TIGER run is matched to the ID run it was trained on (Compare shows its NDCG@10 there);
    // the SASRec run has no IDs.
    assert!(
        matches!(&t.figures, Figures::Recommender { ids_from: Some(f), .. } if f == &s.resolved),
        "{:?}",
        t.figures
    );
    let all: Vec<_> = found.iter().map(|r| summarize(r).unwrap()).collect();
    assert_eq!(
        tiger_explorer::app::ui::compare_panel::tiger_on(&s, &all),
        Some((recorded(&tiger).ndcg10(), 1))
    );
    let other = summarize(&sasrec).unwrap();
    assert_eq!(
        tiger_explorer::app::ui::compare_panel::tiger_on(&other, &all),
        None
    );

    // Packed: half-precision best weights, no resumable state, the test metrics of the packed
    // weights recorded again and reproduced by `eval`, the dataset named from the packed folder.
    let shared = support::temp_dir("runs-packed");
    for (run, name) in [(&tiger, "tiger"), (&sasrec, "sasrec"), (&q, "q")] {
        let out = shared.join("bundle").join(name);
        ok(bin()
            .args(["pack", "--device", "cpu", "--run"])
            .arg(run)
            .arg("--out")
            .arg(&out));
        assert!(!out.join("last").exists());
        let c = config(&out);
        let rel = Path::new(c["data"].as_str().unwrap());
        assert!(
            rel.is_relative() && out.join(rel).join("movies.csv").is_file(),
            "{rel:?}"
        );
        if name == "q" {
            let bytes = std::fs::read(out.join("rqvae.safetensors")).unwrap();
            let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            assert!(st.len() > 0);
            for (t, view) in st.tensors() {
                assert_eq!(view.dtype(), safetensors::Dtype::F16, "{t}");
            }
            continue;
        }
        let tensors = burn_pack::Reader::from_file(out.join("best/model.bpk"))
            .unwrap()
            .into_tensors()
            .unwrap();
        assert!(!tensors.is_empty());
        for t in &tensors {
            assert_eq!(t.dtype, burn_pack::DType::F16, "{name}: {}", t.name);
        }
        let r = recorded(&out);
        assert_eq!(r.ndcg10(), eval_ndcg(&out).0, "{name}");
    }
    // An RQ-VAE run can leave its weights behind; a recommender cannot.
    let ids_only = shared.join("bundle/q-ids");
    ok(bin()
        .args(["pack", "--no-weights", "--run"])
        .arg(&q)
        .arg("--out")
        .arg(&ids_only));
    assert!(!ids_only.join("rqvae.safetensors").exists());
    assert!(ids_only.join("semantic_ids.csv").is_file() && ids_only.join("curves.json").is_file());
    assert!(summarize(&ids_only).is_ok());
    let refused = bin()
        .args(["pack", "--no-weights", "--run"])
        .arg(&tiger)
        .arg("--out")
        .arg(shared.join("bundle/tiger-none"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(!shared.join("bundle/tiger-none").exists());
    // Packing into an existing folder is refused and leaves it as it was.
    let again = bin()
        .args(["pack", "--device", "cpu", "--run"])
        .arg(&tiger)
        .arg("--out")
        .arg(shared.join("bundle/tiger"))
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn a_quantize_run_read_back_assigns_the_same_ids() {
    let _rng = support::device_rng();
    let (data, run) = support::tiny_quantized("reload-rqvae");
    let device = burn::prelude::Device::flex();
    let saved = tiger_models::run::quantize_run::load_quantize_run(&run, &device).unwrap();
    let emb = tiger_core::embeddings::store::read(&data.join("embeddings.npy")).unwrap();
    let codes = saved.assign(&emb, &device).unwrap();
    let dataset = tiger_core::data::load(&data).unwrap();
    let catalogue: Vec<String> = dataset.items.iter().map(|i| i.id.clone()).collect();
    let written =
        tiger_core::ids::SemanticIds::read_csv(&run.join("semantic_ids.csv"), &catalogue).unwrap();
    assert_eq!(
        codes, written.codes,
        "weights and standardizer.json give the run's IDs"
    );
    // A standardisation of the wrong width is refused, naming the file.
    std::fs::write(
        run.join("standardizer.json"),
        r#"{"mean":[0.0],"std":[1.0]}"#,
    )
    .unwrap();
    let err = tiger_models::run::quantize_run::load_quantize_run(&run, &device)
        .err()
        .unwrap();
    assert!(
        err.contains("standardizer.json") && err.contains("1 means"),
        "{err}"
    );
}
