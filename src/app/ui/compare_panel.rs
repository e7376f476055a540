//! Compare panel: any two RQ-VAE runs of the runs list side by side (usage, perplexity, dead
//! codes, collisions, coherence), whether the window, an earlier launch or a CLI sweep made them.

use std::path::PathBuf;

use crate::app::TigerApp;
use tiger_core::ids::coherence::LevelCoherence;
use tiger_core::ids::{LevelStats, QuantizeStats};
use tiger_core::run::summary::{Figures, RunSummary};

/// View state: which two runs are compared (by folder, so a refreshed list keeps the choice).
#[derive(Debug, Default)]
pub struct CompareView {
    /// Left run.
    pub left: Option<PathBuf>,
    /// Right run.
    pub right: Option<PathBuf>,
}

fn stats_of(run: &RunSummary) -> Option<&QuantizeStats> {
    match &run.figures {
        Figures::Rqvae { stats, .. } => Some(stats),
        Figures::Recommender { .. } => None,
    }
}

/// Draws the compare panel.
pub fn compare_panel_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.heading("Compare RQ-VAE runs");
    let runs: Vec<&RunSummary> = app
        .state
        .run_list
        .iter()
        .filter(|r| stats_of(r).is_some())
        .collect();
    if runs.len() < 2 {
        ui.label(
            "Compare needs two RQ-VAE runs. Train one on the Quantize tab (for example with and \
             without dead-code restart), or make them with `tiger-explorer quantize --out runs/NAME`: \
             every run in the runs folder is listed here.",
        );
        return;
    }
    let v = &mut app.views.compare;
    let known = |p: &Option<PathBuf>| {
        p.as_ref()
            .is_some_and(|p| runs.iter().any(|r| &r.path == p))
    };
    if !known(&v.left) {
        v.left = Some(runs[1].path.clone());
    }
    if !known(&v.right) {
        v.right = Some(runs[0].path.clone());
    }
    ui.horizontal(|ui| {
        for (side, pick) in [("left", &mut v.left), ("right", &mut v.right)] {
            let shown = runs
                .iter()
                .find(|r| Some(&r.path) == pick.as_ref())
                .map_or(String::new(), |r| r.name());
            egui::ComboBox::from_id_salt(side)
                .selected_text(shown)
                .width(260.0)
                .show_ui(ui, |ui| {
                    for r in &runs {
                        let label = format!("{} ({})", r.name(), r.headline());
                        ui.selectable_value(pick, Some(r.path.clone()), label);
                    }
                });
        }
    });
    let find = |p: &Option<PathBuf>| runs.iter().find(|r| Some(&r.path) == p.as_ref()).copied();
    let (Some(a), Some(b)) = (find(&v.left), find(&v.right)) else {
        return;
    };
    let (Some(sa), Some(sb)) = (stats_of(a), stats_of(b)) else {
        return;
    };
    egui::Grid::new("compare").striped(true).show(ui, |ui| {
        ui.strong("figure");
        ui.strong(a.name());
        ui.strong(b.name());
        ui.end_row();
        let rows: [(&str, fn(&LevelStats) -> String); 3] = [
            ("usage", |x| format!("{:.1}%", x.usage_pct)),
            ("perplexity", |x| format!("{:.1}", x.perplexity)),
            ("dead codes", |x| x.dead_codes.to_string()),
        ];
        for l in 0..sa.levels.len().max(sb.levels.len()) {
            for (name, f) in rows {
                ui.label(format!("L{} {name}", l + 1));
                for s in [sa, sb] {
                    ui.label(s.levels.get(l).map_or("-".into(), f));
                }
                ui.end_row();
            }
        }
        let totals: [(&str, fn(&QuantizeStats) -> String); 3] = [
            ("unique prefix", |s| format!("{:.2}%", s.unique_prefix_pct)),
            ("largest collision group", |s| {
                s.largest_collision_group.to_string()
            }),
            ("reconstruction loss", |s| format!("{:.4}", s.recon_loss)),
        ];
        for (name, f) in totals {
            ui.label(name);
            ui.label(f(sa));
            ui.label(f(sb));
            ui.end_row();
        }
        let (ca, cb) = (coherence_of(a), coherence_of(b));
        for l in 0..ca.len().max(cb.len()) {
            ui.label(format!("L{} shared metadata (× chance)", l + 1))
                .on_hover_text(super::coherence_view::EXPLAIN);
            for c in [ca, cb] {
                ui.label(c.get(l).map_or("-".into(), |c| {
                    let lift = c.feature_lift().map_or("-".into(), |x| format!("{x:.1}×"));
                    format!("{:.2} ({lift})", c.shared_features)
                }));
            }
            ui.end_row();
        }
    });
}

fn coherence_of(run: &RunSummary) -> &[LevelCoherence] {
    match &run.figures {
        Figures::Rqvae { coherence, .. } => coherence,
        Figures::Recommender { .. } => &[],
    }
}
