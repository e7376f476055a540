//! Quantize panel: the ID scheme and every RQ-VAE option, Train/Cancel, live loss curves, the
//! quality report (usage, perplexity, entropy, Gini, dead codes, collisions), a collapse warning,
//! and the collapse lab's buttons (`collapse_lab.rs`).

use egui_plot::{Bar, BarChart, Heatmap, Legend, Line, Plot, PlotPoints};

use crate::app::TigerApp;
use crate::app::protocol::{Command, Job};
use tiger_core::config::{IdScheme, OptimizerChoice, QuantizeOptions};
use tiger_core::run::RunKind;

/// Usage below this share of codes (any level) is flagged as collapse.
pub const COLLAPSE_USAGE_PCT: f64 = 50.0;
/// Perplexity below this share of the codebook size (any level) is flagged as collapse.
pub const COLLAPSE_PERPLEXITY_FRAC: f64 = 0.25;

/// View state: the options being edited and the level whose codes are inspected.
#[derive(Debug, Default)]
pub struct QuantizeView {
    /// Options for the next run.
    pub options: QuantizeOptions,
    /// Level shown in the histogram and heatmap (0-based).
    pub level: usize,
}

/// Whether the figures show codebook collapse, with the reason.
pub fn collapse_reason(stats: &tiger_core::ids::QuantizeStats, codebook: usize) -> Option<String> {
    stats.levels.iter().enumerate().find_map(|(l, s)| {
        if s.usage_pct < COLLAPSE_USAGE_PCT {
            Some(format!(
                "level {} uses only {:.0}% of its codes",
                l + 1,
                s.usage_pct
            ))
        } else if s.perplexity < COLLAPSE_PERPLEXITY_FRAC * codebook as f64 {
            Some(format!(
                "level {} perplexity {:.0} of {codebook}",
                l + 1,
                s.perplexity
            ))
        } else {
            None
        }
    })
}

/// What each scheme is, for its menu entry's hover text.
fn scheme_explained(scheme: IdScheme) -> &'static str {
    match scheme {
        IdScheme::Rqvae => {
            "The paper's RQ-VAE: an encoder trained with the straight-through gradient"
        }
        IdScheme::RqvaeRotation => {
            "RQ-VAE trained with the rotation trick: the encoder's gradient goes through the rotation \
             of each residual onto its codeword"
        }
        IdScheme::ResidualKmeans => {
            "k-means on the embeddings, then on what each centroid leaves, level by level; nothing \
             is trained"
        }
        IdScheme::Random => {
            "Random codes of the same shape: IDs without meaning (the paper's ablation)"
        }
    }
}

fn options_ui(o: &mut QuantizeOptions, ui: &mut egui::Ui) {
    egui::Grid::new("rq-options").num_columns(4).show(ui, |ui| {
        ui.label("scheme");
        egui::ComboBox::from_id_salt("scheme")
            .selected_text(o.scheme.name())
            .show_ui(ui, |ui| {
                for scheme in IdScheme::ALL {
                    ui.selectable_value(&mut o.scheme, scheme, scheme.name())
                        .on_hover_text(scheme_explained(scheme));
                }
            });
        ui.add_enabled(
            o.scheme != IdScheme::Random,
            egui::Checkbox::new(&mut o.sinkhorn, "Sinkhorn last level"),
        )
        .on_hover_text(
            "Assign the last level so that every code receives about as many items: items that \
             would share all their codes are spread apart",
        );
        if o.scheme == IdScheme::Random {
            o.sinkhorn = false;
        }
        ui.end_row();
        ui.label("levels");
        ui.add(egui::DragValue::new(&mut o.levels).range(1..=8));
        ui.label("codebook size");
        ui.add(egui::DragValue::new(&mut o.codebook_size).range(2..=4096));
        ui.end_row();
        ui.label("latent dim");
        ui.add(egui::DragValue::new(&mut o.latent_dim).range(1..=512));
        ui.label("beta");
        ui.add(
            egui::DragValue::new(&mut o.beta)
                .range(0.0..=10.0)
                .speed(0.01),
        );
        ui.end_row();
        ui.label("steps");
        ui.add(egui::DragValue::new(&mut o.steps).range(1..=1_000_000));
        ui.label("batch size");
        ui.add(egui::DragValue::new(&mut o.batch_size).range(1..=65_536));
        ui.end_row();
        ui.label("learning rate");
        ui.add(
            egui::DragValue::new(&mut o.lr)
                .range(1e-6..=10.0)
                .speed(1e-4),
        );
        ui.label("optimizer");
        egui::ComboBox::from_id_salt("optim")
            .selected_text(format!("{:?}", o.optimizer))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut o.optimizer, OptimizerChoice::Adam, "Adam");
                ui.selectable_value(
                    &mut o.optimizer,
                    OptimizerChoice::Adagrad,
                    "Adagrad (paper)",
                );
            });
        ui.end_row();
        ui.checkbox(&mut o.kmeans_init, "k-means init");
        ui.checkbox(&mut o.standardize, "standardize inputs");
        ui.label("dead-code restart every");
        ui.add(egui::DragValue::new(&mut o.dead_code_restart).range(0..=100_000));
        ui.end_row();
        ui.label("log every");
        ui.add(egui::DragValue::new(&mut o.log_every).range(1..=100_000));
        ui.label("seed");
        ui.add(egui::DragValue::new(&mut o.seed));
        ui.end_row();
    });
}

/// Draws the quantize panel.
pub fn quantize_panel_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.heading("Quantize: embeddings -> semantic IDs");
    options_ui(&mut app.views.quantize.options, ui);
    ui.horizontal(|ui| {
        let running = app.state.busy == Some(Job::Quantize);
        if ui
            .add_enabled(
                app.state.busy.is_none(),
                egui::Button::new(if app.views.quantize.options.scheme.trains_rqvae() {
                    "Train RQ-VAE"
                } else {
                    "Make IDs"
                }),
            )
            .clicked()
        {
            match app.views.quantize.options.validate() {
                Ok(()) => app.command(Command::Quantize(app.views.quantize.options.clone())),
                Err(e) => app.state.last_error = Some(e),
            }
        }
        if ui
            .add_enabled(running, egui::Button::new("Cancel"))
            .clicked()
        {
            app.cancel();
        }
        if ui.button("Paper defaults").clicked() {
            app.views.quantize.options = QuantizeOptions::default();
        }
        if ui
            .add_enabled(
                app.state.busy.is_none() && app.state.open.contains_key(&RunKind::Rqvae),
                egui::Button::new("Export RQ-VAE checkpoint..."),
            )
            .on_hover_text(
                "Copy the open run (weights, standardiser, IDs, stats, curves) into a folder",
            )
            .clicked()
        {
            app.open_dialog(crate::app::DialogPurpose::ExportCheckpoint(Job::Quantize));
        }
    });
    super::collapse_lab::collapse_lab_ui(app, ui);
    if let Some(path) = app.state.open.get(&RunKind::Rqvae) {
        ui.label(format!("Showing run {}", path.display()));
    }
    let history = &app.state.quant_history;
    let Some(last) = history.last() else {
        ui.label(
            "No RQ-VAE run yet: press Train RQ-VAE (about 3 minutes on a laptop CPU with the defaults; lower the steps for a quicker look), or open an RQ-VAE run from the runs list on the left.",
        );
        return;
    };
    let codebook = app
        .state
        .quant_options
        .as_ref()
        .map_or(app.views.quantize.options.codebook_size, |o| {
            o.codebook_size
        });
    match collapse_reason(last, codebook) {
        Some(why) => ui.colored_label(
            egui::Color32::from_rgb(230, 80, 80),
            format!("WARNING: codebook collapse: {why}"),
        ),
        None => ui.colored_label(egui::Color32::from_rgb(90, 190, 90), "Codebooks healthy"),
    };
    ui.label(format!(
        "step {} | recon {:.4} | unique {}-code prefix {:.2}% | largest collision group {}",
        last.step,
        last.recon_loss,
        last.levels.len(),
        last.unique_prefix_pct,
        last.largest_collision_group
    ));
    egui::Grid::new("levels").striped(true).show(ui, |ui| {
        for h in [
            "level",
            "usage",
            "perplexity",
            "entropy",
            "Gini",
            "dead codes",
            "quant loss",
        ] {
            ui.strong(h);
        }
        ui.end_row();
        for (l, s) in last.levels.iter().enumerate() {
            ui.label((l + 1).to_string());
            ui.label(format!("{:.1}%", s.usage_pct));
            ui.label(format!("{:.1}", s.perplexity));
            ui.label(format!("{:.2} bits", s.entropy_bits))
                .on_hover_text(format!("at most {:.2} bits", (codebook as f64).log2()));
            ui.label(format!("{:.3}", s.gini)).on_hover_text(
                "0 = every code holds as many items; near 1 = a few codes hold them all",
            );
            ui.label(s.dead_codes.to_string());
            ui.label(
                last.quant_loss
                    .get(l)
                    .map_or("-".into(), |q| format!("{q:.4}")),
            );
            ui.end_row();
        }
    });
    if !last.collision_groups.is_empty() {
        ui.label(format!(
            "collision groups (size × groups): {}",
            last.collision_histogram()
        ));
    }
    if !app.state.hierarchy.coherence.is_empty() {
        ui.label("Is it semantic?")
            .on_hover_text(super::coherence_view::EXPLAIN);
        super::coherence_view::table(ui, "quantize", &app.state.hierarchy.coherence);
    }
    let mut rects = [egui::Rect::NOTHING; 2];
    ui.columns(2, |cols| {
        rects[0] = Plot::new("rq-loss")
            .height(220.0)
            .legend(Legend::default())
            .show(&mut cols[0], |p| {
                let pts: Vec<[f64; 2]> = history
                    .iter()
                    .map(|s| [s.step as f64, s.recon_loss])
                    .collect();
                p.line(Line::new("reconstruction", PlotPoints::from(pts)));
                for l in 0..last.quant_loss.len() {
                    let pts: Vec<[f64; 2]> = history
                        .iter()
                        .filter_map(|s| s.quant_loss.get(l).map(|q| [s.step as f64, *q]))
                        .collect();
                    p.line(Line::new(
                        format!("quant L{}", l + 1),
                        PlotPoints::from(pts),
                    ));
                }
            })
            .response
            .rect;
        rects[1] = Plot::new("rq-usage")
            .height(220.0)
            .legend(Legend::default())
            .show(&mut cols[1], |p| {
                for l in 0..last.levels.len() {
                    let pts: Vec<[f64; 2]> = history
                        .iter()
                        .filter_map(|s| s.levels.get(l).map(|v| [s.step as f64, v.usage_pct]))
                        .collect();
                    p.line(Line::new(
                        format!("usage % L{}", l + 1),
                        PlotPoints::from(pts),
                    ));
                }
            })
            .response
            .rect;
    });
    ui.horizontal(|ui| {
        super::png_button(app, ui, rects[0], "rqvae_losses.png");
        super::png_button(app, ui, rects[1], "codebook_usage.png");
    });
    codes_ui(app, ui);
}

/// Per-code usage of one level: a histogram now and a heatmap over time (rows = log intervals).
fn codes_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    let history = &app.state.quant_history;
    let Some(last) = history.last() else { return };
    let levels = last.code_counts.len();
    if levels == 0 {
        return;
    }
    let view = &mut app.views.quantize;
    view.level = view.level.min(levels - 1);
    ui.horizontal(|ui| {
        ui.label("Codes of level");
        for l in 0..levels {
            ui.selectable_value(&mut view.level, l, (l + 1).to_string());
        }
        ui.weak("(histogram: items per code now; heatmap: items per code at each log step, brighter = more)");
    });
    let level = view.level;
    let counts = &last.code_counts[level];
    let mut rects = [egui::Rect::NOTHING; 2];
    ui.columns(2, |cols| {
        rects[0] = Plot::new("rq-hist")
            .height(200.0)
            .show(&mut cols[0], |p| {
                let bars: Vec<Bar> = counts
                    .iter()
                    .enumerate()
                    .map(|(c, &n)| Bar::new(c as f64, n as f64).width(0.9))
                    .collect();
                p.bar_chart(BarChart::new("items per code", bars));
            })
            .response
            .rect;
        let rows: Vec<&Vec<u32>> = history
            .iter()
            .filter_map(|s| s.code_counts.get(level))
            .collect();
        let k = counts.len();
        let values: Vec<f64> = rows
            .iter()
            .flat_map(|r| r.iter().map(|&n| (n as f64).ln_1p()))
            .collect();
        if k > 0 && values.len() == rows.len() * k {
            rects[1] = Plot::new("rq-heat")
                .height(200.0)
                .show(&mut cols[1], |p| {
                    p.heatmap(Heatmap::new(values, k).show_labels(false));
                })
                .response
                .rect;
        }
    });
    ui.horizontal(|ui| {
        super::png_button(app, ui, rects[0], "code_histogram.png");
        if rects[1] != egui::Rect::NOTHING {
            super::png_button(app, ui, rects[1], "code_heatmap.png");
        }
    });
}
