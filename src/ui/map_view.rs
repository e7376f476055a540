//! The 2-D map of item embeddings (PCA), coloured by level-1 code, with hover showing the item and
//! its semantic ID. Drawn with egui_plot point series (one per colour group).

use egui_plot::{Plot, PlotPoints, Points};

use crate::app::TigerApp;

/// Colour groups (level-1 codes are folded onto this many hues).
const GROUPS: usize = 12;

/// Draws the map; returns the hovered item, if any.
pub fn map_ui(app: &TigerApp, ui: &mut egui::Ui) -> Option<u32> {
    let map = &app.state.map;
    if map.is_empty() {
        ui.label("No embedding map (the dataset has no embeddings).");
        return None;
    }
    let ids = app.state.ids.as_ref();
    let mut groups: Vec<Vec<[f64; 2]>> = vec![Vec::new(); GROUPS];
    for (i, p) in map.iter().enumerate() {
        let g = ids.map_or(0, |ids| ids.codes_of(i)[0] as usize % GROUPS);
        groups[g].push([p[0] as f64, p[1] as f64]);
    }
    let response = Plot::new("embedding-map")
        .height(320.0)
        .data_aspect(1.0)
        .show(ui, |p| {
            for (g, pts) in groups.into_iter().enumerate() {
                if pts.is_empty() {
                    continue;
                }
                let hue = g as f32 / GROUPS as f32;
                let color: egui::Color32 = egui::ecolor::Hsva::new(hue, 0.8, 0.9, 1.0).into();
                p.points(
                    Points::new(format!("group {g}"), PlotPoints::from(pts))
                        .radius(1.5)
                        .color(color),
                );
            }
            p.pointer_coordinate()
        });
    let pointer = response.inner?;
    let (best, d2) = map
        .iter()
        .enumerate()
        .map(|(i, q)| {
            (
                i,
                (q[0] as f64 - pointer.x).powi(2) + (q[1] as f64 - pointer.y).powi(2),
            )
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    let bounds = response.transform.bounds();
    let scale = bounds.width().max(bounds.height()) * 0.02;
    (d2.sqrt() <= scale).then_some(best as u32)
}
