//! The 2-D map of item embeddings (PCA), coloured by level-1 code, with hover showing the item and
//! its semantic ID. Drawn on the GPU by `shaders/points.wgsl` ([`super::point_cloud`]) when the
//! window renders with wgpu; otherwise (UI tests, GL) with egui_plot point series.
//! Drag pans, the scroll wheel zooms around the pointer, a double click fits all points.

use std::sync::Arc;

use egui_plot::{Plot, PlotPoints, Points};

use super::point_cloud::{self, PointInstance, PointSet, ViewUniform};
use crate::app::TigerApp;

/// Colour groups of the egui_plot fallback (level-1 codes are folded onto this many hues).
const GROUPS: usize = 12;
/// Height of the map in points.
const HEIGHT: f32 = 320.0;
/// Dot radius in points.
const RADIUS: f32 = 2.0;
/// Hover reach in points.
const REACH: f32 = 6.0;

/// View state of the map: pan, zoom and the uploaded point set.
#[derive(Debug)]
pub struct MapView {
    /// Data-space centre, or `None` to fit all points.
    pub center: Option<[f32; 2]>,
    /// Zoom factor over the fitted view.
    pub zoom: f32,
    cache: Option<Cached>,
}

impl Default for MapView {
    fn default() -> Self {
        Self {
            center: None,
            zoom: 1.0,
            cache: None,
        }
    }
}

/// Points with colours and their bounding box, rebuilt when the map or the IDs change.
#[derive(Debug)]
struct Cached {
    set: PointSet,
    min: [f32; 2],
    max: [f32; 2],
}

/// Colour of a level-1 code: hues spread by the golden ratio so neighbouring codes differ.
pub fn code_color(code: u32) -> [u8; 4] {
    let hue = (code as f32 * 0.618_034).fract();
    let c: egui::Color32 = egui::ecolor::Hsva::new(hue, 0.75, 0.95, 1.0).into();
    [c.r(), c.g(), c.b(), 230]
}

/// Builds the instance list from the app state.
fn build(app: &TigerApp) -> Cached {
    let ids = app.state.ids.as_ref();
    let points: Vec<PointInstance> = app
        .state
        .map
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let color = match ids.filter(|ids| i < ids.len()) {
                Some(ids) => code_color(ids.codes_of(i)[0]),
                None => [170, 170, 190, 200],
            };
            PointInstance {
                position: *p,
                color,
            }
        })
        .collect();
    let (min, max) = point_cloud::bounds(&points);
    Cached {
        set: PointSet {
            generation: app.state.map_generation,
            points: Arc::new(points),
        },
        min,
        max,
    }
}

/// Draws the map; returns the hovered item, if any.
pub fn map_ui(app: &mut TigerApp, ui: &mut egui::Ui) -> Option<u32> {
    if app.state.map.is_empty() {
        ui.label("No embedding map (the dataset has no embeddings).");
        return None;
    }
    if !app.gpu_points {
        return plot_fallback(app, ui);
    }
    let generation = app.state.map_generation;
    if app
        .views
        .map
        .cache
        .as_ref()
        .is_none_or(|c| c.set.generation != generation)
    {
        app.views.map.cache = Some(build(app));
    }
    let highlight_default = app.views.tree.selected;
    let view = &mut app.views.map;
    let cache = view.cache.as_ref()?;
    let (rect, response) = ui.allocate_exact_size(
        egui::vec2(ui.available_width().max(100.0), HEIGHT),
        egui::Sense::click_and_drag(),
    );
    let mid = [
        (cache.min[0] + cache.max[0]) / 2.0,
        (cache.min[1] + cache.max[1]) / 2.0,
    ];
    let fit = point_cloud::fit_units(cache.min, cache.max, rect.width(), rect.height());
    if response.double_clicked() {
        view.center = None;
        view.zoom = 1.0;
    }
    let mut center = view.center.unwrap_or(mid);
    let mut upp = fit / view.zoom; // data units per point
    if response.dragged() {
        let d = response.drag_delta();
        center[0] -= d.x * upp;
        center[1] += d.y * upp;
        view.center = Some(center);
    }
    let pointer = response.hover_pos();
    if let Some(p) = pointer {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            // Keep the data point under the pointer where it is.
            let off = p - rect.center();
            let under = [center[0] + off.x * upp, center[1] - off.y * upp];
            view.zoom = (view.zoom * (scroll * 0.003).exp()).clamp(0.5, 2000.0);
            upp = fit / view.zoom;
            center = [under[0] - off.x * upp, under[1] + off.y * upp];
            view.center = Some(center);
        }
    }
    let hovered = pointer.and_then(|p| {
        let off = p - rect.center();
        let at = [center[0] + off.x * upp, center[1] - off.y * upp];
        let reach = (REACH * upp).powi(2);
        cache
            .set
            .points
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let d = (q.position[0] - at[0]).powi(2) + (q.position[1] - at[1]).powi(2);
                (i, d)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .filter(|(_, d)| *d <= reach)
            .map(|(i, _)| i as u32)
    });
    let uniform = ViewUniform::new(
        center,
        upp,
        (rect.width(), rect.height()),
        RADIUS,
        hovered.or(highlight_default),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, egui::Color32::from_gray(18));
    painter.add(egui::Shape::Callback(point_cloud::paint_callback(
        rect,
        cache.set.clone(),
        uniform,
    )));
    painter.text(
        rect.left_bottom() + egui::vec2(6.0, -4.0),
        egui::Align2::LEFT_BOTTOM,
        format!(
            "{} points (GPU) - drag to pan, scroll to zoom, double-click to fit",
            cache.set.points.len()
        ),
        egui::FontId::proportional(11.0),
        egui::Color32::from_gray(150),
    );
    super::png_button(app, ui, rect, "embedding_map.png");
    hovered.filter(|&i| (i as usize) < app.state.dataset.as_ref().map_or(0, |d| d.items.len()))
}

/// The map drawn with egui_plot (no wgpu renderer).
fn plot_fallback(app: &TigerApp, ui: &mut egui::Ui) -> Option<u32> {
    let map = &app.state.map;
    let ids = app.state.ids.as_ref();
    let mut groups: Vec<Vec<[f64; 2]>> = vec![Vec::new(); GROUPS];
    for (i, p) in map.iter().enumerate() {
        let g = ids
            .filter(|ids| i < ids.len())
            .map_or(0, |ids| ids.codes_of(i)[0] as usize % GROUPS);
        groups[g].push([p[0] as f64, p[1] as f64]);
    }
    let response = Plot::new("embedding-map")
        .height(HEIGHT)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_codes_get_distinct_colours() {
        for c in 0..255u32 {
            let (a, b) = (code_color(c), code_color(c + 1));
            let diff: i32 = (0..3).map(|k| (a[k] as i32 - b[k] as i32).abs()).sum();
            assert!(diff > 40, "codes {c} and {} look alike: {a:?} {b:?}", c + 1);
        }
    }

    #[test]
    fn instances_are_twelve_bytes() {
        assert_eq!(std::mem::size_of::<PointInstance>(), 12);
        assert_eq!(std::mem::size_of::<ViewUniform>(), 32);
    }
}
