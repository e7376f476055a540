//! Compare panel: any number of ID runs of the runs list side by side, whether the window, an
//! earlier launch or a CLI sweep made them: the quality report of each (usage, perplexity,
//! entropy, Gini and dead codes per level; unique IDs, collision groups; coherence), the test
//! NDCG@10 of a TIGER trained on its IDs, and every run's usage curve of one level overlaid.

use std::path::PathBuf;

use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::app::TigerApp;
use tiger_core::ids::coherence::LevelCoherence;
use tiger_core::ids::{LevelStats, QuantizeStats};
use tiger_core::run::summary::{Figures, RunSummary};

/// View state: which runs are compared (by folder, so a refreshed list keeps the choice) and the
/// level whose usage curves are drawn.
#[derive(Debug, Default)]
pub struct CompareView {
    /// The runs ticked, in the list's order.
    pub chosen: Vec<PathBuf>,
    /// Whether the choice was made (else the newest runs are shown).
    pub touched: bool,
    /// Level of the usage curves (0-based).
    pub level: usize,
}

/// Runs ticked when nothing was chosen yet.
const FIRST_CHOICE: usize = 4;

fn stats_of(run: &RunSummary) -> Option<&QuantizeStats> {
    match &run.figures {
        Figures::Rqvae { stats, .. } => Some(stats),
        Figures::Recommender { .. } => None,
    }
}

fn coherence_of(run: &RunSummary) -> &[LevelCoherence] {
    match &run.figures {
        Figures::Rqvae { coherence, .. } => coherence,
        Figures::Recommender { .. } => &[],
    }
}

fn scheme_of(run: &RunSummary) -> String {
    match &run.figures {
        Figures::Rqvae { options, .. } => {
            let balanced = if options.sinkhorn { " + Sinkhorn" } else { "" };
            format!("{}{balanced}", options.scheme.name())
        }
        Figures::Recommender { .. } => String::new(),
    }
}

/// The best test NDCG@10 of the TIGER runs in `all` trained on `ids_run`'s IDs, with their count.
pub fn tiger_on(ids_run: &RunSummary, all: &[RunSummary]) -> Option<(f64, usize)> {
    let scores: Vec<f64> = all
        .iter()
        .filter_map(|r| match &r.figures {
            Figures::Recommender {
                test: Some(t),
                ids_from: Some(from),
                ..
            } if from == &ids_run.resolved => Some(t.ndcg10()),
            _ => None,
        })
        .collect();
    let best = scores
        .iter()
        .copied()
        .fold(None, |b: Option<f64>, x| Some(b.map_or(x, |b| b.max(x))))?;
    Some((best, scores.len()))
}

/// Items per code of `level`, largest first, as shares of the catalogue in percent.
pub fn usage_curve(stats: &QuantizeStats, level: usize) -> Vec<[f64; 2]> {
    let Some(counts) = stats.code_counts.get(level) else {
        return Vec::new();
    };
    let mut sorted = counts.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let total = stats.items.max(1) as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(rank, &c)| [rank as f64, 100.0 * c as f64 / total])
        .collect()
}

/// Draws the compare panel.
pub fn compare_panel_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.heading("Compare ID runs");
    let all = &app.state.run_list;
    let runs: Vec<&RunSummary> = all.iter().filter(|r| stats_of(r).is_some()).collect();
    if runs.len() < 2 {
        ui.label(
            "Compare needs two ID runs or more. Make them on the Quantize tab (for example each \
             scheme, or with and without dead-code restart), or with `tiger-explorer quantize --out \
             runs/NAME`: every run in the runs folder is listed here.",
        );
        return;
    }
    let v = &mut app.views.compare;
    v.chosen.retain(|p| runs.iter().any(|r| &r.path == p));
    if !v.touched && v.chosen.len() < 2 {
        v.chosen = runs
            .iter()
            .take(FIRST_CHOICE)
            .map(|r| r.path.clone())
            .collect();
    }
    ui.horizontal_wrapped(|ui| {
        for r in &runs {
            let mut on = v.chosen.contains(&r.path);
            let label = format!("{} ({})", r.name(), r.headline());
            if ui
                .checkbox(&mut on, r.name())
                .on_hover_text(label)
                .changed()
            {
                v.touched = true;
                if on {
                    v.chosen.push(r.path.clone());
                } else {
                    v.chosen.retain(|p| p != &r.path);
                }
            }
        }
    });
    let shown: Vec<&RunSummary> = runs
        .iter()
        .filter(|r| v.chosen.contains(&r.path))
        .copied()
        .collect();
    if shown.is_empty() {
        ui.label("Tick the runs to compare.");
        return;
    }
    let stats: Vec<&QuantizeStats> = shown.iter().filter_map(|r| stats_of(r)).collect();
    let levels = stats.iter().map(|s| s.levels.len()).max().unwrap_or(0);
    egui::ScrollArea::both()
        .max_height(ui.available_height() * 0.6)
        .show(ui, |ui| {
            egui::Grid::new("compare").striped(true).show(ui, |ui| {
                ui.strong("figure");
                for r in &shown {
                    ui.strong(r.name());
                }
                ui.end_row();
                ui.label("scheme");
                for r in &shown {
                    ui.label(scheme_of(r));
                }
                ui.end_row();
                let rows: [(&str, fn(&LevelStats) -> String); 5] = [
                    ("usage", |x| format!("{:.1}%", x.usage_pct)),
                    ("perplexity", |x| format!("{:.1}", x.perplexity)),
                    ("entropy", |x| format!("{:.2} bits", x.entropy_bits)),
                    ("Gini", |x| format!("{:.3}", x.gini)),
                    ("dead codes", |x| x.dead_codes.to_string()),
                ];
                for l in 0..levels {
                    for (name, f) in rows {
                        ui.label(format!("L{} {name}", l + 1));
                        for s in &stats {
                            ui.label(s.levels.get(l).map_or("-".into(), f));
                        }
                        ui.end_row();
                    }
                }
                let totals: [(&str, fn(&QuantizeStats) -> String); 4] = [
                    ("unique prefix", |s| format!("{:.2}%", s.unique_prefix_pct)),
                    ("largest collision group", |s| {
                        s.largest_collision_group.to_string()
                    }),
                    ("collision groups (size×groups)", |s| {
                        s.collision_histogram()
                    }),
                    ("reconstruction loss", |s| format!("{:.4}", s.recon_loss)),
                ];
                for (name, f) in totals {
                    ui.label(name);
                    for s in &stats {
                        ui.label(f(s));
                    }
                    ui.end_row();
                }
                let coherence: Vec<&[LevelCoherence]> =
                    shown.iter().map(|r| coherence_of(r)).collect();
                for l in 0..coherence.iter().map(|c| c.len()).max().unwrap_or(0) {
                    ui.label(format!("L{} shared metadata (× chance)", l + 1))
                        .on_hover_text(super::coherence_view::EXPLAIN);
                    for c in &coherence {
                        ui.label(c.get(l).map_or("-".into(), |c| {
                            let lift = c.feature_lift().map_or("-".into(), |x| format!("{x:.1}×"));
                            format!("{:.2} ({lift})", c.shared_features)
                        }));
                    }
                    ui.end_row();
                }
                ui.label("TIGER test NDCG@10").on_hover_text(
                    "The best test NDCG@10 of the TIGER runs in the list trained on these IDs",
                );
                for r in &shown {
                    ui.label(match tiger_on(r, all) {
                        Some((best, 1)) => format!("{best:.4}"),
                        Some((best, n)) => format!("{best:.4} (best of {n})"),
                        None => "no TIGER run".into(),
                    });
                }
                ui.end_row();
            });
        });
    ui.horizontal(|ui| {
        ui.label("usage curve of level");
        let top = levels.max(1);
        ui.add(
            egui::DragValue::new(&mut v.level)
                .range(0..=top - 1)
                .custom_formatter(|n, _| format!("{}", n as usize + 1)),
        );
        ui.label("(items per code, largest first, % of the catalogue)");
    });
    let level = v.level;
    Plot::new("usage-curves")
        .height(220.0)
        .legend(Legend::default())
        .x_axis_label("code rank")
        .y_axis_label("% of items")
        .show(ui, |p| {
            for (r, s) in shown.iter().zip(&stats) {
                p.line(Line::new(r.name(), PlotPoints::from(usage_curve(s, level))));
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usage_curve_sorts_codes_by_share() {
        let stats = QuantizeStats {
            items: 8,
            code_counts: vec![vec![1, 0, 5, 2]],
            ..Default::default()
        };
        assert_eq!(
            usage_curve(&stats, 0),
            vec![[0.0, 62.5], [1.0, 25.0], [2.0, 12.5], [3.0, 0.0]]
        );
        assert!(usage_curve(&stats, 1).is_empty());
    }
}
