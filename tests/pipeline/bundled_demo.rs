//! The bundled demo runs of the sample (trained on a GPU with the default settings, packed in
//! half precision): small enough to ship, whole, and their recorded test metrics reproduced on
//! the CPU; the first launch opens them and recommends without training.

use crate::support;

use std::path::{Path, PathBuf};

use support::{bin, harness_opening, ok, wait};
use tiger_core::run::RunKind;
use tiger_core::run::TestRecord;
use tiger_explorer::app::settings::launch_plan;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/ml-latest-small")
}

fn size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            if e.file_type().unwrap().is_dir() {
                size(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}

#[test]
fn the_bundled_runs_fit_in_12_mib_and_reproduce_their_test_metrics_on_the_cpu() {
    let _rng = support::device_rng();
    let total = size(&demo());
    assert!(total <= 12 << 20, "the demo runs take {total} bytes");
    for kind in ["rqvae", "tiger", "sasrec"] {
        let s = tiger_core::run::summary::summarize(&demo().join(kind)).unwrap();
        assert_eq!(format!("{:?}", s.header.kind).to_lowercase(), kind);
        assert_eq!(s.header.dataset.as_ref().unwrap().items, 9125);
    }
    for kind in ["tiger", "sasrec"] {
        let run = demo().join(kind);
        let recorded: TestRecord =
            serde_json::from_str(&std::fs::read_to_string(run.join("test_metrics.json")).unwrap())
                .unwrap();
        assert!(!run.join("last").exists(), "no optimiser state is bundled");
        let v: serde_json::Value = serde_json::from_str(&ok(bin()
            .args(["eval", "--device", "cpu", "--split", "test", "--run"])
            .arg(&run)))
        .unwrap();
        assert_eq!(v["queries"].as_u64(), Some(recorded.model.queries as u64));
        // One query ranked differently (another CPU's float rounding) moves a metric by at most
        // 1 / queries.
        let slack = 1.0 / recorded.model.queries as f64 + 1e-12;
        for (key, k) in [("ndcg@10", 10), ("recall@10", 10), ("ndcg@5", 5)] {
            let want = if key.starts_with("ndcg") {
                recorded.model.ndcg_at(k)
            } else {
                recorded.model.recall_at(k)
            }
            .unwrap();
            let got = v[key].as_f64().unwrap();
            assert!(
                (got - want).abs() <= slack,
                "{kind} {key}: {got} against {want}"
            );
        }
        // The popularity floor is exact arithmetic on the same split.
        assert_eq!(
            v["popularity"]["ndcg@10"].as_f64(),
            recorded.popularity.ndcg_at(10)
        );
    }
}

#[test]
fn a_first_launch_opens_the_bundled_runs_and_recommends_on_the_cpu() {
    let _rng = support::device_rng();
    let bundled: Vec<PathBuf> = ["rqvae", "tiger", "sasrec"]
        .iter()
        .map(|k| demo().join(k))
        .collect();
    let (data, open) = launch_plan(
        Vec::new(),
        None,
        None,
        support::sample_dir(),
        bundled.clone(),
    );
    assert_eq!(open, bundled);
    let mut h = harness_opening(data, support::temp_dir("demo-runs"), open);
    assert!(
        wait(&mut h, 120, |a| a.state.open.len() == 3
            && a.state.busy.is_none()),
        "{:?} {:?}",
        h.state().state.last_error,
        h.state().state.open
    );
    let st = &h.state().state;
    assert!(st.model_ready && st.ids.is_some() && !st.quant_history.is_empty());
    assert_eq!(
        st.comparison.len(),
        3,
        "popularity, TIGER and SASRec test rows"
    );
    let toy = st
        .dataset
        .as_ref()
        .unwrap()
        .items
        .iter()
        .position(|i| i.title == "Toy Story (1995)")
        .unwrap() as u32;
    h.state_mut().views.recommend.history = vec![toy];
    h.state_mut()
        .command(tiger_explorer::app::protocol::Command::Recommend {
            history: vec![toy],
            beam: 20,
            k: 10,
            constrained: true,
        });
    assert!(wait(&mut h, 60, |a| a.state.recommendations.len() == 10));
    assert!(
        h.state()
            .state
            .recommendations
            .iter()
            .all(|r| r.item.is_some())
    );
    assert_eq!(h.state().state.open.get(&RunKind::Tiger), Some(&bundled[1]));
}

#[test]
fn the_bundled_half_precision_weights_load_and_recommend_on_the_gpu_path() {
    let _rng = support::device_rng();
    let Some(device) = support::gpu_or_skip() else {
        return;
    };
    let run = demo().join("tiger");
    let (cfg, model, data) = support::bundled_tiger(&device);
    let toy = data
        .dataset
        .items
        .iter()
        .position(|i| i.title == "Toy Story (1995)")
        .unwrap() as u32;
    let beam = tiger_models::decode::BeamConfig {
        width: 20,
        constrained: true,
    };
    let hyps = tiger_models::tiger::evaluate::recommend(
        &model,
        &cfg.vocab,
        &data,
        &[toy],
        beam,
        &device,
        &mut |_| {},
    );
    assert_eq!(hyps.len(), 20);
    assert!(hyps.iter().all(|h| h.item.is_some() && h.score.is_finite()));
    // The same history on the CPU ranks the same items first: the half-precision weights were
    // read as the model's f32 on both backends.
    let cpu = burn::prelude::Device::flex();
    let (_, cpu_model) = tiger_models::train::tiger_loop::load_run(&run, &cpu).unwrap();
    let on_cpu = tiger_models::tiger::evaluate::recommend(
        &cpu_model,
        &cfg.vocab,
        &data,
        &[toy],
        beam,
        &cpu,
        &mut |_| {},
    );
    assert_eq!(hyps[0].item, on_cpu[0].item);
}
