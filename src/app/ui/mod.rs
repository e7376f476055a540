//! Panels, one file each; they read `AppState`, keep their own view state and emit commands.

pub mod coherence_view;
pub mod collapse_lab;
pub mod compare_panel;
pub mod data_panel;
pub mod map_points;
pub mod map_view;
pub mod point_cloud;
pub mod point_offscreen;
pub mod quantize_panel;
pub mod recommend_panel;
pub mod runs_list;
pub mod start_panel;
pub mod status_bar;
pub mod train_panel;
pub mod tree_panel;
pub mod walk_panel;

use crate::app::{Tab, TigerApp};

/// View state of every panel.
#[derive(Debug, Default)]
pub struct Views {
    /// Data panel.
    pub data: data_panel::DataView,
    /// Quantize panel.
    pub quantize: quantize_panel::QuantizeView,
    /// Semantic-ID tree.
    pub tree: tree_panel::TreeView,
    /// Embedding map pan/zoom and uploaded points.
    pub map: map_view::MapView,
    /// Train panel.
    pub train: train_panel::TrainView,
    /// Recommend panel.
    pub recommend: recommend_panel::RecommendView,
    /// Compare panel.
    pub compare: compare_panel::CompareView,
    /// The guided walk.
    pub walk: walk_panel::WalkView,
}

/// The left navigation between stages, with the runs list below it.
pub fn nav_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    egui::Panel::left("nav")
        .resizable(true)
        .default_size(250.0)
        .show(ui, |ui| {
            ui.add_space(6.0);
            ui.heading("tiger-explorer");
            ui.separator();
            for tab in Tab::ALL {
                if ui.selectable_label(app.tab == tab, tab.label()).clicked() {
                    app.tab = tab;
                }
            }
            ui.separator();
            runs_list::runs_list_ui(app, ui);
        });
}

/// Items whose title or id contains `query` (case-insensitive), at most `limit`.
pub fn search_items(app: &TigerApp, query: &str, limit: usize) -> Vec<u32> {
    let Some(d) = &app.state.dataset else {
        return Vec::new();
    };
    let q = query.trim().to_lowercase();
    if q.is_empty() {
        return Vec::new();
    }
    d.items
        .iter()
        .enumerate()
        .filter(|(_, r)| r.title.to_lowercase().contains(&q) || r.id == query.trim())
        .take(limit)
        .map(|(i, _)| i as u32)
        .collect()
}

/// The full ID of item `i` as text: `(42, 15, 7, #0)`.
pub fn id_text(app: &TigerApp, i: u32) -> String {
    match &app.state.ids {
        Some(ids) if (i as usize) < ids.len() => {
            let codes: Vec<String> = ids
                .codes_of(i as usize)
                .iter()
                .map(u32::to_string)
                .collect();
            format!("({}, #{})", codes.join(", "), ids.collision[i as usize])
        }
        _ => "(no IDs yet)".into(),
    }
}

/// The line under the map for the hovered item: its title, its ID and what its codes mean.
pub fn hovered_line(app: &TigerApp, i: u32) -> String {
    format!(
        "{} {}  {}",
        app.state.title(i),
        id_text(app, i),
        meaning(app, i)
    )
}

/// What item `i`'s codes mean, coarse to fine: each level's label words, `Horror, 1980s ›
/// Slasher` (empty when no labels are known).
pub fn meaning(app: &TigerApp, i: u32) -> String {
    let Some(ids) = app
        .state
        .ids
        .as_ref()
        .filter(|ids| (i as usize) < ids.len())
    else {
        return String::new();
    };
    let codes = ids.codes_of(i as usize);
    (1..=codes.len())
        .map(|l| app.state.hierarchy.labels.words(&codes[..l]))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" › ")
}

/// A small "Save PNG" button that exports `rect` (a plot drawn just before) as a PNG file.
pub fn png_button(app: &mut TigerApp, ui: &mut egui::Ui, rect: egui::Rect, name: &'static str) {
    let button = ui
        .add_enabled(
            !app.png_pending(),
            egui::Button::new(format!("Save {name}")).small(),
        )
        .on_hover_text("Save this plot, as shown, as a PNG file");
    if button.clicked() {
        app.export_png(ui.ctx(), rect, name, None);
    }
}
