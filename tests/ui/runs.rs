//! Opening runs in the window (kittest, CPU worker): a run made by the command line gives
//! recommendations at once; Compare reads any number of ID runs from disk; the runs open at the end of a
//! launch come back at the next; a broken run folder gives one message naming it and changes
//! nothing else.

use crate::support;

use std::path::{Path, PathBuf};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use support::{harness, harness_opening, wait};
use tiger_core::run::RunKind;
use tiger_explorer::app::TigerApp;
use tiger_explorer::app::settings::launch_plan;

type H = egui_kittest::Harness<'static, TigerApp>;

fn listed(h: &mut H, n: usize) {
    assert!(
        wait(h, 30, |a| a.state.run_list.len() >= n
            && a.state.busy.is_none()),
        "runs listed: {:?} (error {:?})",
        h.state()
            .state
            .run_list
            .iter()
            .map(|r| r.path.clone())
            .collect::<Vec<_>>(),
        h.state().state.last_error
    );
    h.step();
}

fn open_is(h: &H, kind: RunKind, path: &Path) -> bool {
    h.state().state.open.get(&kind).map(PathBuf::as_path) == Some(path)
}

#[test]
fn a_cli_run_opened_from_the_runs_list_recommends_at_once() {
    let (data, _q, tiger, sasrec) = support::three_runs("ui-open-cli");
    // The runs folder is the dataset folder here: its three runs are listed.
    let mut h = harness(support::sample_dir(), data.clone());
    listed(&mut h, 3);
    h.get_by_label("TIGER · tiger").click();
    assert!(
        wait(&mut h, 60, |a| a.state.model_ready
            && a.state.busy.is_none()),
        "{:?}",
        h.state().state.last_error
    );
    // Opening it loaded its own dataset (the tiny one, not the sample the window started on).
    assert_eq!(h.state().state.dataset.as_ref().unwrap().items.len(), 6);
    assert!(open_is(&h, RunKind::Tiger, &tiger));
    assert!(h.state().state.ids.is_some(), "the run's IDs are shown");
    assert_eq!(h.state().state.train_valid.len(), 2, "recorded curves");
    let models: Vec<&str> = h
        .state()
        .state
        .comparison
        .iter()
        .map(|c| c.0.as_str())
        .collect();
    assert_eq!(models, ["popularity", "TIGER"]);

    h.get_by_label("SASRec · sasrec").click();
    assert!(wait(&mut h, 60, |a| a
        .state
        .open
        .contains_key(&RunKind::Sasrec)));
    assert!(open_is(&h, RunKind::Sasrec, &sasrec));
    assert!(
        h.state().state.model_ready,
        "TIGER stays open beside SASRec"
    );
    assert!(!h.state().state.sasrec_valid.is_empty());
    h.get_by_label("Train").click();
    h.step();
    h.get_by_label_contains("Test split");

    h.get_by_label("Recommend").click();
    h.step();
    h.get_by_role(Role::TextInput).focus();
    h.step();
    h.get_by_role(Role::TextInput).type_text("heat");
    h.run_steps(2);
    h.get_by_label("+ Heat (1995)").click();
    h.state_mut().views.recommend.k = 3;
    h.state_mut().views.recommend.beam = 4;
    h.remove_cursor();
    h.run_steps(2);
    h.get_by_label("Run beam search").click();
    assert!(
        wait(&mut h, 60, |a| a.state.recommendations.len() == 3),
        "{:?}",
        h.state().state.last_error
    );
}

#[test]
fn compare_reads_any_number_of_id_runs_from_disk() {
    let (data, q) = support::tiny_quantized("ui-compare");
    let q2 = data.join("q2");
    support::ok(
        support::bin()
            .args(support::QUANTIZE)
            .args(["--steps", "20", "--dead-code-restart", "0", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&q2),
    );
    let q3 = data.join("q3");
    support::ok(
        support::bin()
            .args(support::QUANTIZE)
            .args(["--scheme", "residual-kmeans", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(&q3),
    );
    // A folder of runs (a CLI sweep) opened like a run lists them all.
    let mut h = harness(data.clone(), support::temp_dir("ui-compare-empty-runs"));
    listed(&mut h, 0);
    h.state_mut().open_run(data.clone());
    listed(&mut h, 3);
    assert!(
        h.state().state.phase.contains("listed the 3 runs under"),
        "{}",
        h.state().state.phase
    );
    h.get_by_label("Compare").click();
    h.run_steps(2);
    h.get_by_label("figure");
    // All three runs head a column; every level has its rows, the report's included.
    for name in ["q", "q2", "q3"] {
        assert!(
            h.query_all_by_label(name).count() >= 2,
            "column and box of {name}"
        );
    }
    h.get_by_label("residual-kmeans");
    h.get_by_label("L2 dead codes");
    h.get_by_label("L2 Gini");
    h.get_by_label("unique prefix");
    h.get_by_label("collision groups (size×groups)");
    h.get_by_label("TIGER test NDCG@10");
    let mut chosen = h.state().views.compare.chosen.clone();
    chosen.sort();
    assert_eq!(chosen, [q.clone(), q2.clone(), q3.clone()]);
    // Unticking a run takes its column away.
    h.get_all_by_role_and_label(Role::CheckBox, "q2")
        .next()
        .unwrap()
        .click();
    h.run_steps(2);
    let mut chosen = h.state().views.compare.chosen.clone();
    chosen.sort();
    assert_eq!(chosen, [q, q3]);
    assert_eq!(
        h.query_all_by_label("q2").count(),
        1,
        "only its box is left"
    );
}

#[test]
fn the_runs_open_at_the_end_of_a_launch_come_back_at_the_next() {
    let (data, q, tiger, _sasrec) = support::three_runs("ui-restore");
    let mut h = harness(support::sample_dir(), data.clone());
    listed(&mut h, 3);
    h.get_by_label("RQ-VAE · q").click();
    assert!(wait(&mut h, 60, |a| a
        .state
        .open
        .contains_key(&RunKind::Rqvae)
        && a.state.busy.is_none()));
    h.get_by_label("TIGER · tiger").click();
    assert!(wait(&mut h, 60, |a| a.state.model_ready
        && a.state.busy.is_none()));
    assert!(
        open_is(&h, RunKind::Rqvae, &q),
        "the RQ-VAE run stays: same IDs"
    );
    let text = serde_json::to_string(&h.state().settings()).unwrap();
    drop(h);

    let saved = serde_json::from_str(&text).unwrap();
    let (start_data, open) = launch_plan(
        Vec::new(),
        None,
        Some(&saved),
        support::sample_dir(),
        Vec::new(),
    );
    assert_eq!(open, vec![q.clone(), tiger.clone()]);
    let mut next = harness_opening(start_data, data.clone(), open);
    assert!(
        wait(&mut next, 60, |a| a.state.model_ready
            && a.state.open.len() == 2
            && a.state.busy.is_none()),
        "{:?}",
        next.state().state.last_error
    );
    assert!(open_is(&next, RunKind::Rqvae, &q) && open_is(&next, RunKind::Tiger, &tiger));
    assert!(
        !next.state().state.quant_history.is_empty(),
        "the Quantize tab has its curves"
    );
    next.get_by_label("Quantize").click();
    next.step();
    next.get_by_label_contains(&format!("Showing run {}", q.display()));
    // A first launch opens the bundled runs; runs named on the command line win over both.
    let first = launch_plan(Vec::new(), None, None, data.clone(), vec![tiger.clone()]);
    assert_eq!(first, (data.clone(), vec![tiger.clone()]));
    let named = launch_plan(
        vec![q.clone()],
        None,
        Some(&saved),
        data.clone(),
        vec![tiger],
    );
    assert_eq!(named.1, vec![q]);
}

#[test]
fn a_broken_run_folder_gives_one_message_and_changes_nothing() {
    let (data, q, tiger, _sasrec) = support::three_runs("ui-broken-run");
    let broken = support::temp_dir("ui-broken-run-copies");
    let copy = |name: &str| {
        let dir = broken.join(name);
        std::fs::create_dir_all(dir.join("best")).unwrap();
        for f in [
            "config.json",
            "semantic_ids.csv",
            "curves.json",
            "test_metrics.json",
        ] {
            std::fs::copy(tiger.join(f), dir.join(f)).unwrap();
        }
        std::fs::copy(tiger.join("best/model.bpk"), dir.join("best/model.bpk")).unwrap();
        dir
    };
    let edit_config = |dir: &Path, edit: &dyn Fn(&mut serde_json::Value)| {
        let path = dir.join("config.json");
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut v);
        // The dataset is named absolutely so that the copies find it.
        if v["data"]
            .as_str()
            .is_some_and(|d| !Path::new(d).is_absolute())
        {
            v["data"] = serde_json::Value::String(data.to_string_lossy().into_owned());
        }
        std::fs::write(&path, v.to_string()).unwrap();
    };
    let incomplete = copy("incomplete");
    edit_config(&incomplete, &|_| {});
    std::fs::remove_file(incomplete.join("semantic_ids.csv")).unwrap();
    let corrupt = copy("corrupt");
    edit_config(&corrupt, &|_| {});
    std::fs::write(corrupt.join("best/model.bpk"), b"not weights").unwrap();
    let older = copy("older");
    edit_config(&older, &|v| {
        v.as_object_mut().unwrap().remove("format");
    });
    let other = copy("other-dataset");
    edit_config(&other, &|v| {
        v["dataset"]["fingerprint"] = "0123456789abcdef".into()
    });
    let damaged = copy("damaged");
    std::fs::write(damaged.join("config.json"), "{\"kind\": \"tig").unwrap();

    let mut h = harness(data.clone(), data.clone());
    listed(&mut h, 3);
    h.get_by_label("RQ-VAE · q").click();
    assert!(wait(&mut h, 60, |a| a
        .state
        .open
        .contains_key(&RunKind::Rqvae)
        && a.state.busy.is_none()));
    let before_open = h.state().state.open.clone();
    let before_ids = h.state().state.ids.clone();
    for (dir, problem) in [
        (
            &incomplete,
            "semantic_ids.csv: missing (the run folder is incomplete)",
        ),
        (&corrupt, "model.bpk"),
        (&older, "written by an older version"),
        (&other, "trained on another dataset"),
        (&damaged, "not valid JSON"),
    ] {
        h.state_mut().state.last_error = None;
        h.state_mut().open_run(dir.clone());
        assert!(
            wait(&mut h, 30, |a| a.state.last_error.is_some()
                && a.state.busy.is_none()),
            "{}: no message",
            dir.display()
        );
        let err = h.state().state.last_error.clone().unwrap();
        assert!(err.contains(&dir.display().to_string()), "{err}");
        assert!(err.contains(problem), "{err}");
        h.step();
        h.get_by_label_contains(&format!("Error: {}", dir.display()));
        assert_eq!(h.state().state.open, before_open, "{err}");
        assert_eq!(h.state().state.ids, before_ids);
        assert!(!h.state().state.model_ready);
        assert_eq!(h.state().state.dataset.as_ref().unwrap().items.len(), 6);
    }
    assert!(open_is(&h, RunKind::Rqvae, &q));

    // A run whose dataset moved opens on the loaded dataset when that is the run's (by its
    // stamp); else it asks for the folder, then opens on the one given.
    let moved = copy("moved");
    edit_config(&moved, &|v| v["data"] = "/nonexistent/ml-moved".into());
    h.state_mut()
        .command(tiger_explorer::app::protocol::Command::LoadDataset(
            support::sample_dir(),
        ));
    assert!(wait(&mut h, 60, |a| a
        .state
        .dataset
        .as_ref()
        .is_some_and(|d| d.items.len() == 9125)
        && a.state.busy.is_none()));
    h.state_mut().state.last_error = None;
    h.state_mut().open_run(moved.clone());
    assert!(wait(&mut h, 30, |a| a
        .state
        .phase
        .contains("/nonexistent/ml-moved")
        && a.state.busy.is_none()));
    assert!(h.state().state.phase.contains("pick its folder"));
    assert!(h.state().state.last_error.is_none());
    h.state_mut()
        .command(tiger_explorer::app::protocol::Command::OpenRun {
            run: moved.clone(),
            data: Some(data.clone()),
        });
    assert!(
        wait(&mut h, 60, |a| a.state.model_ready
            && a.state.busy.is_none()),
        "{:?}",
        h.state().state.last_error
    );
    assert!(open_is(&h, RunKind::Tiger, &moved));
}
