//! Train panel: the recommender's main options, Train/Cancel, live loss and validation
//! Recall/NDCG curves, and the latest validation figures.

use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::app::TigerApp;
use crate::app::protocol::{Command, Job};
use tiger_core::options::tiger::{TigerOptimizer, TigerOptions};
use tiger_core::run::RunKind;

/// View state: options for the next training run.
#[derive(Debug, Default)]
pub struct TrainView {
    /// Options (defaults = the paper's shapes).
    pub options: TigerOptions,
}

/// Draws the train panel.
pub fn train_panel_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.heading("Train the generative recommender (T5-style)");
    let o = &mut app.views.train.options;
    egui::Grid::new("t5-options").num_columns(4).show(ui, |ui| {
        ui.label("encoder layers");
        ui.add(egui::DragValue::new(&mut o.encoder_layers).range(1..=24));
        ui.label("decoder layers");
        ui.add(egui::DragValue::new(&mut o.decoder_layers).range(1..=24));
        ui.end_row();
        ui.label("d_model");
        ui.add(egui::DragValue::new(&mut o.d_model).range(8..=1024));
        ui.label("heads x d_head");
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(&mut o.heads).range(1..=32));
            ui.add(egui::DragValue::new(&mut o.d_head).range(1..=256));
        });
        ui.end_row();
        ui.label("steps");
        ui.add(egui::DragValue::new(&mut o.steps).range(1..=1_000_000));
        ui.label("batch size");
        ui.add(egui::DragValue::new(&mut o.batch_size).range(1..=4096));
        ui.end_row();
        ui.label("learning rate");
        ui.add(
            egui::DragValue::new(&mut o.lr)
                .range(1e-6..=1.0)
                .speed(1e-4),
        );
        ui.label("validate every");
        ui.add(egui::DragValue::new(&mut o.eval_every).range(1..=100_000));
        ui.end_row();
        ui.label("patience")
            .on_hover_text("Stop after this many validations without a better NDCG@10 (0 = never)");
        ui.add(egui::DragValue::new(&mut o.stop.patience).range(0..=1000));
        ui.label("time budget (min)")
            .on_hover_text("Stop after this many minutes, with a last validation (0 = no limit)");
        ui.add(
            egui::DragValue::new(&mut o.stop.max_minutes)
                .range(0.0..=10_000.0)
                .speed(0.5),
        );
        ui.end_row();
        ui.label("optimiser");
        egui::ComboBox::from_id_salt("tiger-optimizer")
            .selected_text(match o.optimizer {
                TigerOptimizer::Adamw => "AdamW",
                TigerOptimizer::Adafactor => "Adafactor",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut o.optimizer, TigerOptimizer::Adamw, "AdamW");
                ui.selectable_value(&mut o.optimizer, TigerOptimizer::Adafactor, "Adafactor")
                    .on_hover_text(
                        "The paper's optimiser; it trained with a learning rate of 0.01",
                    );
            });
        ui.label("ablation");
        ui.checkbox(&mut o.random_ids, "random IDs").on_hover_text(
            "Train on the semantic IDs shuffled among the items: the same IDs and trie without \
             their meaning. Compare the test NDCG@10 with a run on the semantic IDs (the paper's \
             ablation); the run keeps the shuffled IDs and opens with them.",
        );
        ui.end_row();
    });
    let ready = app.state.ids.is_some();
    ui.horizontal(|ui| {
        let can = ready && app.state.busy.is_none();
        if ui
            .add_enabled(can, egui::Button::new("Train recommender"))
            .clicked()
        {
            match app.views.train.options.validate() {
                Ok(()) => app.command(Command::TrainTiger(app.views.train.options.clone())),
                Err(e) => app.state.last_error = Some(e),
            }
        }
        let idle = app.state.busy.is_none() && app.state.dataset.is_some();
        if ui
            .add_enabled(idle, egui::Button::new("Train SASRec baseline"))
            .clicked()
        {
            let tiger = &app.views.train.options;
            let opts = tiger_core::options::sasrec::SasRecOptions {
                steps: tiger.steps,
                stop: tiger.stop.clone(),
                ..Default::default()
            };
            app.command(Command::TrainSasRec(opts));
        }
        for (job, label) in [
            (Job::TrainTiger, "Export TIGER checkpoint..."),
            (Job::TrainSasRec, "Export SASRec checkpoint..."),
        ] {
            let trained = job
                .run_kind()
                .is_some_and(|k| app.state.open.contains_key(&k));
            if ui
                .add_enabled(
                    app.state.busy.is_none() && trained,
                    egui::Button::new(label),
                )
                .on_hover_text("Copy the run's best and last checkpoints into a folder")
                .clicked()
            {
                app.open_dialog(crate::app::DialogPurpose::ExportCheckpoint(job));
            }
        }
        if ui
            .add_enabled(
                matches!(
                    app.state.busy,
                    Some(Job::TrainTiger | Job::TrainSasRec | Job::ExactScoring)
                ),
                egui::Button::new("Cancel"),
            )
            .clicked()
        {
            app.cancel();
        }
        if !ready {
            ui.label("Quantize first (or open an RQ-VAE run): the recommender reads semantic IDs.");
        } else if app.state.model_ready {
            ui.label("A trained model is ready on the Recommend tab.");
        }
    });
    for (kind, label) in [(RunKind::Tiger, "TIGER"), (RunKind::Sasrec, "SASRec")] {
        if let Some(path) = app.state.open.get(&kind) {
            ui.label(format!("{label} run: {}", path.display()));
        }
    }
    if app.state.train_losses.is_empty() && app.state.sasrec_losses.is_empty() {
        ui.label(
            "No training curves yet: press Train recommender (minutes on a GPU; a laptop CPU is too slow for the default settings), or open a TIGER or SASRec run from the runs list on the left.",
        );
    }
    for (model, valid) in [
        ("TIGER", &app.state.train_valid),
        ("SASRec", &app.state.sasrec_valid),
    ] {
        let Some((step, m)) = valid.last() else {
            continue;
        };
        ui.label(format!(
            "{model} validation at step {step}: Recall@5 {:.4} | Recall@10 {:.4} | NDCG@5 {:.4} | NDCG@10 {:.4}",
            m.recall_at(5).unwrap_or(0.0),
            m.recall_at(10).unwrap_or(0.0),
            m.ndcg_at(5).unwrap_or(0.0),
            m.ndcg_at(10).unwrap_or(0.0)
        ));
    }
    let state = &app.state;
    let mut rects = [egui::Rect::NOTHING; 2];
    ui.columns(2, |cols| {
        rects[0] = Plot::new("t5-loss")
            .height(240.0)
            .legend(Legend::default())
            .x_axis_label("step")
            .show(&mut cols[0], |p| {
                for (name, losses) in [
                    ("TIGER loss", &state.train_losses),
                    ("SASRec loss", &state.sasrec_losses),
                ] {
                    if losses.is_empty() {
                        continue;
                    }
                    let pts: Vec<[f64; 2]> = losses.iter().map(|&(s, l)| [s as f64, l]).collect();
                    p.line(Line::new(name, PlotPoints::from(pts)));
                }
            })
            .response
            .rect;
        rects[1] = Plot::new("t5-valid")
            .height(240.0)
            .legend(Legend::default())
            .x_axis_label("step (validation split)")
            .show(&mut cols[1], |p| {
                for (model, valid) in [
                    ("TIGER", &state.train_valid),
                    ("SASRec", &state.sasrec_valid),
                ] {
                    if valid.is_empty() {
                        continue;
                    }
                    for (metric, f) in [
                        (
                            "Recall@10",
                            (|m: &tiger_core::eval::Metrics| m.recall_at(10))
                                as fn(&tiger_core::eval::Metrics) -> Option<f64>,
                        ),
                        ("NDCG@10", |m: &tiger_core::eval::Metrics| m.ndcg_at(10)),
                    ] {
                        let pts: Vec<[f64; 2]> = valid
                            .iter()
                            .filter_map(|(s, m)| f(m).map(|v| [*s as f64, v]))
                            .collect();
                        p.line(Line::new(
                            format!("{model} {metric}"),
                            PlotPoints::from(pts),
                        ));
                    }
                }
            })
            .response
            .rect;
    });
    let timed = ndcg_against_time(&state.train_valid, &state.train_valid_secs)
        .into_iter()
        .map(|pts| ("TIGER NDCG@10", pts))
        .chain(
            ndcg_against_time(&state.sasrec_valid, &state.sasrec_valid_secs)
                .map(|pts| ("SASRec NDCG@10", pts)),
        )
        .collect::<Vec<_>>();
    let mut time_rect = egui::Rect::NOTHING;
    if !timed.is_empty() {
        time_rect = Plot::new("ndcg-time")
            .height(200.0)
            .legend(Legend::default())
            .x_axis_label("training time, validation excluded (s)")
            .y_axis_label("validation NDCG@10")
            .show(ui, |p| {
                for (name, pts) in timed {
                    p.line(Line::new(name, PlotPoints::from(pts)));
                }
            })
            .response
            .rect;
    }
    ui.horizontal(|ui| {
        super::png_button(app, ui, rects[0], "training_loss.png");
        super::png_button(app, ui, rects[1], "validation_metrics.png");
        if time_rect != egui::Rect::NOTHING {
            super::png_button(app, ui, time_rect, "ndcg_against_time.png");
        }
    });
    comparison_ui(app, ui);
}

/// `[training seconds, NDCG@10]` for every validation that has a recorded time, or `None` when
/// none has (runs recorded before the time was kept).
pub fn ndcg_against_time(
    valid: &[(usize, tiger_core::eval::Metrics)],
    seconds: &[Option<f64>],
) -> Option<Vec<[f64; 2]>> {
    let pts: Vec<[f64; 2]> = valid
        .iter()
        .zip(seconds)
        .filter_map(|((_, m), s)| Some([(*s)?, m.ndcg_at(10)?]))
        .collect();
    (!pts.is_empty()).then_some(pts)
}

/// Test-split comparison of every model trained since the window opened, with the popularity floor.
fn comparison_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    if app.state.comparison.is_empty() {
        return;
    }
    ui.separator();
    ui.horizontal(|ui| {
        ui.strong("Test split (leave-one-out, whole catalogue ranked)");
        let can = app.state.busy.is_none() && app.state.model_ready;
        if ui
            .add_enabled(can, egui::Button::new("Compare with exact scoring"))
            .on_hover_text(
                "Rank the test split by scoring every item's full ID with the open TIGER model, \
                 and see how much beam search loses (the paper's ablation; minutes on a CPU)",
            )
            .clicked()
        {
            app.command(Command::CompareExact);
        }
    });
    egui::Grid::new("comparison").striped(true).show(ui, |ui| {
        for h in ["model", "Recall@5", "Recall@10", "NDCG@5", "NDCG@10"] {
            ui.strong(h);
        }
        ui.end_row();
        for (name, m) in &app.state.comparison {
            ui.label(name);
            for v in [m.recall_at(5), m.recall_at(10), m.ndcg_at(5), m.ndcg_at(10)] {
                ui.label(v.map_or("-".into(), |v| format!("{v:.4}")));
            }
            ui.end_row();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::ndcg_against_time;
    use tiger_core::eval::MetricsAccumulator;

    #[test]
    fn ndcg_is_plotted_against_the_recorded_times_only() {
        let mut acc = MetricsAccumulator::new(&[10]);
        acc.add(Some(0));
        let m = acc.finish();
        let valid = vec![(100, m.clone()), (200, m.clone()), (300, m)];
        assert_eq!(ndcg_against_time(&valid, &[None, None, None]), None);
        let pts = ndcg_against_time(&valid, &[Some(1.5), None, Some(4.0)]).unwrap();
        assert_eq!(pts, vec![[1.5, 1.0], [4.0, 1.0]]);
    }
}
