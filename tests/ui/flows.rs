//! UI flows with egui_kittest, headless: the app starts on the sample data; a tiny quantize run
//! started by clicking produces curve points and a populated tree; training the recommender, then
//! searching and clicking builds a history, and Recommend produces beam steps and K results;
//! Cancel stops a run within a second.

use crate::support;

use support::{harness, wait};

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use tiger_core::config::{IdScheme, OptimizerChoice, QuantizeOptions};
use tiger_core::device_choice::DeviceChoice;
use tiger_core::embeddings::{Embeddings, store};
use tiger_core::options::tiger::TigerOptions;
use tiger_core::run::RunKind;

fn tiny_data(name: &str) -> std::path::PathBuf {
    let data = support::tiny_movielens(name);
    let emb = Embeddings::new(
        6,
        8,
        (0..48).map(|i| ((i * 7 % 13) as f32) / 13.0).collect(),
    )
    .unwrap();
    store::write(&data.join("embeddings.npy"), &emb).unwrap();
    data
}

fn tiny_quantize() -> QuantizeOptions {
    QuantizeOptions {
        levels: 2,
        codebook_size: 4,
        latent_dim: 4,
        hidden_dims: vec![8],
        steps: 40,
        batch_size: 6,
        log_every: 10,
        kmeans_iters: 2,
        device: DeviceChoice::Cpu,
        ..Default::default()
    }
}

/// The folder name of the open run of `kind`.
fn open_name(
    h: &egui_kittest::Harness<'static, tiger_explorer::app::TigerApp>,
    kind: RunKind,
) -> String {
    let path = h
        .state()
        .state
        .open
        .get(&kind)
        .cloned()
        .expect("a run of this kind is open");
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn starts_on_the_sample_data() {
    let mut h = harness(support::sample_dir(), support::temp_dir("ui-sample-runs"));
    assert!(
        wait(&mut h, 60, |a| a.state.dataset.is_some()),
        "dataset never loaded: {:?}",
        h.state().state.last_error
    );
    h.step();
    let d = h.state().state.dataset.as_ref().unwrap();
    assert_eq!(d.items.len(), 9125);
    assert!(d.embeddings.is_some());
    // The first screen explains the pipeline; the Data tab shows the counts.
    h.get_by_label("Generative retrieval, step by step");
    h.get_by_label("Data").click();
    h.step();
    h.get_by_label("9125");
    h.get_by_label_contains("Device: cpu");
}

#[test]
fn quantize_tree_train_history_recommend() {
    let data = tiny_data("ui-flow");
    let mut h = harness(data, support::temp_dir("ui-flow-runs"));
    assert!(wait(&mut h, 30, |a| a.state.dataset.is_some()));

    h.get_by_label("Quantize").click();
    h.step();
    h.state_mut().views.quantize.options = tiny_quantize();
    h.get_by_label("Train RQ-VAE").click();
    assert!(
        wait(&mut h, 60, |a| a.state.open.contains_key(&RunKind::Rqvae)),
        "{:?}",
        h.state().state.last_error
    );
    assert!(
        h.state().state.quant_history.len() >= 4,
        "curve points: {}",
        h.state().state.quant_history.len()
    );
    assert!(!h.state().state.tree.is_empty());
    h.step();
    let verdict = h.query_by_label("Codebooks healthy").is_some()
        || h.query_by_label_contains("codebook collapse").is_some();
    assert!(verdict, "the panel shows a collapse verdict");
    h.get_by_label("Codes of level");

    // Export: the plot area as PNG (screenshot cropped to the rectangle) and the RQ-VAE checkpoint.
    let out = support::temp_dir("ui-flow-exports");
    let png = out.join("losses.png");
    let plot = h.get_by_label("Save rqvae_losses.png").rect();
    let area = egui::Rect::from_min_max(
        egui::pos2(plot.min.x, plot.min.y - 200.0),
        egui::pos2(plot.min.x + 300.0, plot.min.y),
    );
    let ctx = h.ctx.clone();
    h.state_mut()
        .export_png(&ctx, area, "losses.png", Some(png.clone()));
    assert!(
        wait(&mut h, 20, |a| !a.png_pending()),
        "{:?}",
        h.state().state.last_error
    );
    let (w, hgt, rgba) = tiger_explorer::app::image_png::read_rgba(&png).unwrap();
    let ppp = h.ctx.pixels_per_point();
    assert_eq!((w, hgt), ((300.0 * ppp) as u32, (200.0 * ppp) as u32));
    let distinct: std::collections::HashSet<&[u8]> = rgba.chunks(4).collect();
    assert!(distinct.len() > 3, "the exported plot is blank");
    h.state_mut()
        .command(tiger_explorer::app::protocol::Command::ExportCheckpoint(
            tiger_explorer::app::protocol::Job::Quantize,
            out.clone(),
        ));
    let rqvae_name = open_name(&h, RunKind::Rqvae);
    assert!(rqvae_name.starts_with("rqvae-"), "{rqvae_name}");
    assert!(wait(&mut h, 20, |_| out
        .join(&rqvae_name)
        .join("rqvae.safetensors")
        .is_file()));
    for f in ["semantic_ids.csv", "curves.json", "config.json"] {
        assert!(out.join(&rqvae_name).join(f).is_file(), "{f}");
    }

    h.get_by_label("Semantic IDs").click();
    h.step();
    assert!(
        !h.get_all_by_label_contains("L1 code")
            .collect::<Vec<_>>()
            .is_empty()
    );

    h.get_by_label("Train").click();
    h.step();
    h.state_mut().views.train.options = TigerOptions {
        encoder_layers: 1,
        decoder_layers: 1,
        d_model: 16,
        heads: 2,
        d_head: 8,
        d_ff: 32,
        steps: 10,
        batch_size: 4,
        eval_every: 5,
        log_every: 5,
        user_buckets: 0,
        device: DeviceChoice::Cpu,
        ..Default::default()
    };
    h.get_by_label("Train recommender").click();
    assert!(
        wait(&mut h, 120, |a| a.state.model_ready),
        "{:?}",
        h.state().state.last_error
    );
    assert!(!h.state().state.train_losses.is_empty());
    assert_eq!(h.state().state.train_valid.len(), 2);
    let models: Vec<String> = h
        .state()
        .state
        .comparison
        .iter()
        .map(|c| c.0.clone())
        .collect();
    assert_eq!(models, vec!["popularity".to_string(), "TIGER".to_string()]);
    h.step();
    h.get_by_label_contains("Test split");
    // The exact-scoring ablation from its button: a row of its own beside the beam's.
    h.get_by_label("Compare with exact scoring").click();
    assert!(
        wait(&mut h, 60, |a| a
            .state
            .comparison
            .iter()
            .any(|c| c.0 == "TIGER (exact scoring)")
            && a.state.busy.is_none()),
        "{:?}",
        h.state().state.last_error
    );
    assert!(
        h.state().state.phase.contains("exact scoring: NDCG@10"),
        "{}",
        h.state().state.phase
    );
    let tiger_losses = h.state().state.train_losses.clone();
    h.get_by_label("Train SASRec baseline").click();
    assert!(wait(&mut h, 60, |a| a
        .state
        .comparison
        .iter()
        .any(|c| c.0 == "SASRec")
        && a.state.busy.is_none()));
    // SASRec has its own curves; TIGER's stay as they were.
    assert!(!h.state().state.sasrec_losses.is_empty());
    assert!(!h.state().state.sasrec_valid.is_empty());
    assert_eq!(h.state().state.train_losses, tiger_losses);
    // Both validation curves carry their training time: NDCG@10 against time is plotted for both.
    for (valid, secs) in [
        (
            &h.state().state.train_valid,
            &h.state().state.train_valid_secs,
        ),
        (
            &h.state().state.sasrec_valid,
            &h.state().state.sasrec_valid_secs,
        ),
    ] {
        assert_eq!(valid.len(), secs.len());
        assert!(secs.iter().all(Option::is_some), "{secs:?}");
        assert!(secs.windows(2).all(|w| w[0] <= w[1]), "{secs:?}");
    }
    h.step();
    h.get_by_label_contains("ndcg_against_time.png");
    h.get_by_label_contains("SASRec validation at step");
    h.state_mut()
        .command(tiger_explorer::app::protocol::Command::ExportCheckpoint(
            tiger_explorer::app::protocol::Job::TrainTiger,
            out.clone(),
        ));
    let tiger_name = open_name(&h, RunKind::Tiger);
    assert!(wait(&mut h, 20, |_| out.join(&tiger_name).is_dir()));
    assert!(out.join(&tiger_name).join("test_metrics.json").is_file());

    h.get_by_label("Recommend").click();
    h.step();
    h.get_by_role(Role::TextInput).focus();
    h.step();
    h.get_by_role(Role::TextInput).type_text("toy");
    h.step();
    h.step();
    h.get_by_label("+ Toy Story (1995)").click();
    h.step();
    h.get_by_label("+ Toy Story (1995)").click();
    h.step();
    assert_eq!(h.state().views.recommend.history, vec![0, 0]);
    h.get_all_by_label("Remove").next().unwrap().click(); // remove the first entry: history is editable
    h.step();
    assert_eq!(h.state().views.recommend.history, vec![0]);
    h.state_mut().views.recommend.k = 3;
    h.state_mut().views.recommend.beam = 4;
    h.remove_cursor();
    h.run_steps(3);
    h.get_by_label("Run beam search").click();
    let got = wait(&mut h, 60, |a| !a.state.recommendations.is_empty());
    let st = &h.state().state;
    assert!(
        got,
        "error {:?} busy {:?} steps {} ready {} phase {}",
        st.last_error,
        st.busy,
        st.beam_steps.len(),
        st.model_ready,
        st.phase
    );
    assert_eq!(
        h.state().state.beam_steps.len(),
        3,
        "2 code levels + collision token"
    );
    assert_eq!(h.state().state.recommendations.len(), 3);
    assert!(
        h.state()
            .state
            .recommendations
            .iter()
            .all(|r| r.item.is_some())
    );
    h.get_by_label("Show all").click();
    h.step();
    h.get_by_label_contains("Top 3");
}

#[test]
fn cancel_stops_a_run_within_a_second() {
    let data = tiny_data("ui-cancel");
    let mut h = harness(data, support::temp_dir("ui-cancel-runs"));
    assert!(wait(&mut h, 30, |a| a.state.dataset.is_some()));
    h.get_by_label("Quantize").click();
    h.step();
    h.state_mut().views.quantize.options = QuantizeOptions {
        steps: 1_000_000,
        ..tiny_quantize()
    };
    h.get_by_label("Train RQ-VAE").click();
    assert!(wait(&mut h, 30, |a| a
        .state
        .progress
        .is_some_and(|p| p.0 > 10)));
    let start = Instant::now();
    h.get_all_by_label("Cancel").next().unwrap().click();
    assert!(wait(&mut h, 5, |a| a.state.busy.is_none()));
    let took = start.elapsed();
    // Stuck, not slow (the one-second target is measured by `tiger-bench cycles`).
    assert!(took < Duration::from_secs(4), "cancel took {took:?}");
    assert!(h.state().state.phase.contains("cancelled"));
    assert!(
        !h.state().state.open.contains_key(&RunKind::Rqvae),
        "a cancelled run is not kept"
    );
}

#[test]
fn the_collapse_lab_trains_each_preset_and_a_scheme_makes_its_ids() {
    let data = tiny_data("ui-collapse-lab");
    let mut h = harness(data, support::temp_dir("ui-collapse-lab-runs"));
    assert!(wait(&mut h, 30, |a| a.state.dataset.is_some()));
    h.get_by_label("Quantize").click();
    h.step();
    h.state_mut().views.quantize.options = tiny_quantize();
    // One click sets the collapsing setting and trains it, keeping the shape and steps.
    h.get_by_label("1 Collapse it").click();
    assert!(wait(&mut h, 60, |a| a.state.busy.is_none()
        && a.state.quant_options.is_some()));
    let o = h.state().state.quant_options.clone().unwrap();
    assert_eq!(
        (
            o.optimizer,
            o.lr,
            o.standardize,
            o.kmeans_init,
            o.dead_code_restart
        ),
        (OptimizerChoice::Adagrad, 0.4, false, false, 0)
    );
    assert_eq!((o.levels, o.codebook_size, o.steps), (2, 4, 40));
    // The fourth turns every safeguard on, still with Adagrad; the fifth is the defaults.
    h.get_by_label("4 + dead-code restarts").click();
    assert!(wait(&mut h, 60, |a| a.state.busy.is_none()
        && a.state
            .quant_options
            .as_ref()
            .is_some_and(|o| o.dead_code_restart == 100)));
    let o = h.state().state.quant_options.clone().unwrap();
    assert!(o.standardize && o.kmeans_init && o.optimizer == OptimizerChoice::Adagrad);
    h.get_by_label("5 Adam (the defaults)").click();
    assert!(wait(&mut h, 60, |a| a.state.busy.is_none()
        && a.state
            .quant_options
            .as_ref()
            .is_some_and(|o| o.optimizer == OptimizerChoice::Adam)));
    let o = h.state().state.quant_options.clone().unwrap();
    let d = QuantizeOptions::default();
    assert_eq!(
        (o.lr, o.standardize, o.kmeans_init, o.dead_code_restart),
        (d.lr, d.standardize, d.kmeans_init, d.dead_code_restart)
    );
    // Residual k-means makes IDs without training: the button says so and the run opens.
    h.state_mut().views.quantize.options.scheme = IdScheme::ResidualKmeans;
    h.run_steps(2);
    h.get_by_label("Make IDs").click();
    assert!(wait(&mut h, 60, |a| a.state.busy.is_none()
        && a.state
            .quant_options
            .as_ref()
            .is_some_and(|o| o.scheme == IdScheme::ResidualKmeans)));
    assert!(
        h.state().state.phase.contains("residual-kmeans IDs made"),
        "{}",
        h.state().state.phase
    );
    let run = h.state().state.open.get(&RunKind::Rqvae).cloned().unwrap();
    assert!(run.join("codebooks.npy").is_file());
    assert!(!run.join("rqvae.safetensors").exists());
}

#[test]
fn a_broken_dataset_shows_its_file_and_line_in_the_status_bar() {
    let data = support::dataset(
        "ui-broken",
        &[
            ("movies.csv", "movieId,title,genres\n1,A (1999),Drama\n"),
            ("ratings.csv", "userId,movieId,rating,timestamp\n1,9,4,5\n"),
        ],
    );
    let mut h = harness(data, support::temp_dir("ui-broken-runs"));
    assert!(wait(&mut h, 30, |a| a.state.last_error.is_some()));
    h.step();
    h.get_by_label_contains("Error: ");
    h.get_by_label_contains("ratings.csv: line 2: item '9' is not in the catalogue");
}

#[test]
fn settings_round_trip_between_launches() {
    let data = tiny_data("ui-settings");
    let mut h = harness(data.clone(), support::temp_dir("ui-settings-runs"));
    assert!(wait(&mut h, 30, |a| a.state.dataset.is_some()));
    h.state_mut().views.quantize.options.codebook_size = 64;
    h.state_mut().views.recommend.beam = 33;
    let saved = h.state().settings();
    assert_eq!(saved.data.as_deref(), Some(data.as_path()));
    let text = serde_json::to_string(&saved).unwrap();
    let mut next = harness(data, support::temp_dir("ui-settings-runs-2"));
    next.state_mut()
        .apply_settings(serde_json::from_str(&text).unwrap());
    assert_eq!(next.state().views.quantize.options.codebook_size, 64);
    assert_eq!(next.state().views.recommend.beam, 33);
}
