//! Compare panel: two finished RQ-VAE runs side by side (usage, perplexity, dead codes, collisions).

use crate::app::TigerApp;

/// View state: which two runs are compared.
#[derive(Debug, Default)]
pub struct CompareView {
    /// Left run index.
    pub left: usize,
    /// Right run index.
    pub right: usize,
}

/// Draws the compare panel.
pub fn compare_panel_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.heading("Compare RQ-VAE runs");
    let runs = &app.state.runs;
    if runs.is_empty() {
        ui.label("Train the RQ-VAE at least once (twice to compare, e.g. with and without dead-code restart).");
        return;
    }
    let v = &mut app.views.compare;
    if runs.len() >= 2 && v.left == v.right {
        v.left = runs.len() - 2;
        v.right = runs.len() - 1;
    }
    v.left = v.left.min(runs.len() - 1);
    v.right = v.right.min(runs.len() - 1);
    ui.horizontal(|ui| {
        for (side, idx) in [("left", &mut v.left), ("right", &mut v.right)] {
            egui::ComboBox::from_id_salt(side)
                .selected_text(runs[*idx].name.clone())
                .show_ui(ui, |ui| {
                    for (i, r) in runs.iter().enumerate() {
                        ui.selectable_value(idx, i, &r.name);
                    }
                });
        }
    });
    let (a, b) = (&runs[v.left], &runs[v.right]);
    let (Some(sa), Some(sb)) = (a.history.last(), b.history.last()) else {
        return;
    };
    egui::Grid::new("compare").striped(true).show(ui, |ui| {
        ui.strong("figure");
        ui.strong(&a.name);
        ui.strong(&b.name);
        ui.end_row();
        for l in 0..sa.levels.len().max(sb.levels.len()) {
            let get = |s: &crate::rqvae::QuantizeStats,
                       f: &dyn Fn(&crate::rqvae::LevelStats) -> String| {
                s.levels.get(l).map_or("-".into(), f)
            };
            for (name, f) in [
                (
                    "usage",
                    &(|x: &crate::rqvae::LevelStats| format!("{:.1}%", x.usage_pct))
                        as &dyn Fn(&crate::rqvae::LevelStats) -> String,
                ),
                ("perplexity", &|x: &crate::rqvae::LevelStats| {
                    format!("{:.1}", x.perplexity)
                }),
                ("dead codes", &|x: &crate::rqvae::LevelStats| {
                    x.dead_codes.to_string()
                }),
            ] {
                ui.label(format!("L{} {name}", l + 1));
                ui.label(get(sa, f));
                ui.label(get(sb, f));
                ui.end_row();
            }
        }
        ui.label("unique prefix");
        ui.label(format!("{:.2}%", sa.unique_prefix_pct));
        ui.label(format!("{:.2}%", sb.unique_prefix_pct));
        ui.end_row();
        ui.label("largest collision group");
        ui.label(sa.largest_collision_group.to_string());
        ui.label(sb.largest_collision_group.to_string());
        ui.end_row();
        ui.label("reconstruction loss");
        ui.label(format!("{:.4}", sa.recon_loss));
        ui.label(format!("{:.4}", sb.recon_loss));
        ui.end_row();
    });
}
