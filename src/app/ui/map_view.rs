//! The 2-D map of item embeddings (t-SNE, which keeps neighbourhoods, or PCA), coloured by code,
//! with hover showing the item and its semantic ID. With a code selected in the tree (the focus),
//! its items are coloured by their next-level codes and the rest is dimmed; each coloured group's
//! label is drawn at its centroid where it fits. Drawn on the GPU by `shaders/points.wgsl`
//! ([`super::point_cloud`]) when the window renders with wgpu; otherwise (UI tests, GL) with
//! egui_plot point series. Drag pans, the scroll wheel zooms around the pointer, a double click
//! fits all points.

use std::sync::Arc;

use egui_plot::{Plot, PlotPoints, Points};

use super::map_points::{DIMMED, Groups, colour_points, draw_order, nearest};
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

/// Which projection the map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Projection {
    /// t-SNE: neighbours stay neighbours (computed in the background; PCA until it is ready).
    #[default]
    Tsne,
    /// The first two principal components.
    Pca,
}

/// View state of the map: projection, pan, zoom and the uploaded point set.
#[derive(Debug)]
pub struct MapView {
    /// Data-space centre, or `None` to fit all points.
    pub center: Option<[f32; 2]>,
    /// Zoom factor over the fitted view.
    pub zoom: f32,
    /// The projection asked for.
    pub projection: Projection,
    cache: Option<Cached>,
}

impl Default for MapView {
    fn default() -> Self {
        Self {
            center: None,
            zoom: 1.0,
            projection: Projection::default(),
            cache: None,
        }
    }
}

/// What a built point set depends on.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    generation: u64,
    tsne: bool,
    focus: Vec<u32>,
}

/// Points with colours, their bounding box and the coloured groups' centroids, rebuilt when the
/// map, the IDs, the projection or the focus change.
#[derive(Debug)]
struct Cached {
    key: Key,
    set: PointSet,
    min: [f32; 2],
    max: [f32; 2],
    /// Each coloured group: its code prefix, centroid and size, largest first.
    groups: Groups,
    /// The item drawn by each instance (instances are in drawing order).
    order: Vec<u32>,
    /// The instance of each item.
    slot: Vec<u32>,
}

/// The points the map shows: the t-SNE map when asked for and ready, else PCA.
pub fn shown_points(app: &TigerApp) -> (&[[f32; 2]], bool) {
    let s = &app.state;
    let tsne = app.views.map.projection == Projection::Tsne
        && !s.synthetic_map
        && !s.map_tsne.is_empty()
        && s.map_tsne.len() == s.map.len();
    if tsne {
        (&s.map_tsne, true)
    } else {
        (&s.map, false)
    }
}

/// Builds the instance list for the shown projection and the key's focus.
fn build(app: &TigerApp, key: Key) -> Cached {
    let (map, _) = shown_points(app);
    let (coloured, groups) = colour_points(map, app.state.ids.as_ref(), &key.focus);
    let (order, slot) = draw_order(&coloured);
    let points: Vec<PointInstance> = order.iter().map(|&i| coloured[i as usize]).collect();
    let (min, max) = point_cloud::bounds(&points);
    Cached {
        set: PointSet {
            generation: app
                .state
                .map_generation
                .wrapping_mul(31)
                .wrapping_add(key_salt(&key)),
            points: Arc::new(points),
        },
        key,
        min,
        max,
        groups,
        order,
        slot,
    }
}

/// A number that differs between keys of one generation (the GPU set re-uploads on a change).
fn key_salt(key: &Key) -> u64 {
    key.focus.iter().fold(u64::from(key.tsne) + 1, |h, &c| {
        h.wrapping_mul(1_000_003).wrapping_add(c as u64 + 1)
    })
}

/// Draws the labels of the coloured groups at their centroids, largest first, skipping any that
/// would overlap one already drawn or fall outside the map.
fn draw_labels(
    app: &TigerApp,
    painter: &egui::Painter,
    rect: egui::Rect,
    to_screen: impl Fn([f32; 2]) -> egui::Pos2,
) {
    let labels = &app.state.hierarchy.labels;
    let mut taken: Vec<egui::Rect> = Vec::new();
    let font = egui::FontId::proportional(12.0);
    let Some(cache) = app.views.map.cache.as_ref() else {
        return;
    };
    for (prefix, centroid, _) in cache.groups.iter().take(200) {
        let words = labels.words(prefix);
        if words.is_empty() {
            continue;
        }
        let text = format!("{} {}", prefix.last().copied().unwrap_or(0), words);
        let galley = painter.layout_no_wrap(text, font.clone(), egui::Color32::WHITE);
        let at = to_screen(*centroid);
        // Above the centroid, which keeps a ring, so the label hides none of the group's points.
        let size = galley.size() + egui::vec2(6.0, 2.0);
        let r = egui::Rect::from_center_size(at - egui::vec2(0.0, size.y / 2.0 + 7.0), size);
        if !rect.contains_rect(r) || taken.iter().any(|t| t.intersects(r)) {
            continue;
        }
        painter.circle_stroke(at, 5.0, egui::Stroke::new(1.0, egui::Color32::WHITE));
        painter.line_segment(
            [at - egui::vec2(0.0, 5.0), egui::pos2(at.x, r.max.y)],
            egui::Stroke::new(1.0, egui::Color32::WHITE),
        );
        painter.rect_filled(r, 3.0, egui::Color32::from_black_alpha(170));
        painter.galley(r.min + egui::vec2(3.0, 1.0), galley, egui::Color32::WHITE);
        taken.push(r);
        if taken.len() >= 24 {
            break;
        }
    }
}

/// Draws the map; returns the hovered item, if any.
pub fn map_ui(app: &mut TigerApp, ui: &mut egui::Ui) -> Option<u32> {
    if app.state.map.is_empty() {
        ui.label("No embedding map (the dataset has no embeddings).");
        return None;
    }
    controls_ui(app, ui);
    if !app.gpu_points {
        return plot_fallback(app, ui);
    }
    let key = Key {
        generation: app.state.map_generation,
        tsne: shown_points(app).1,
        focus: app.views.tree.focus.clone(),
    };
    let stale = app.views.map.cache.as_ref().map(|c| c.key.clone());
    if stale.as_ref() != Some(&key) {
        if stale.is_some_and(|s| s.tsne != key.tsne) {
            // Another projection: its coordinates have nothing to do with the old view.
            app.views.map.center = None;
            app.views.map.zoom = 1.0;
        }
        app.views.map.cache = Some(build(app, key));
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
        nearest(&cache.set.points, at, REACH * upp).map(|k| cache.order[k as usize])
    });
    let uniform = ViewUniform::new(
        center,
        upp,
        (rect.width(), rect.height()),
        RADIUS,
        hovered
            .or(highlight_default)
            .and_then(|i| cache.slot.get(i as usize).copied()),
    );
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, egui::Color32::from_gray(18));
    painter.add(egui::Shape::Callback(point_cloud::paint_callback(
        rect,
        cache.set.clone(),
        uniform,
    )));
    let to_screen = move |p: [f32; 2]| {
        rect.center() + egui::vec2((p[0] - center[0]) / upp, -(p[1] - center[1]) / upp)
    };
    let points = cache.set.points.len();
    draw_labels(app, &painter, rect, to_screen);
    painter.text(
        rect.left_bottom() + egui::vec2(6.0, -4.0),
        egui::Align2::LEFT_BOTTOM,
        format!("{points} points (GPU) - drag to pan, scroll to zoom, double-click to fit"),
        egui::FontId::proportional(11.0),
        egui::Color32::from_gray(150),
    );
    super::png_button(app, ui, rect, "embedding_map.png");
    hovered.filter(|&i| (i as usize) < app.state.dataset.as_ref().map_or(0, |d| d.items.len()))
}

/// The projection choice, the t-SNE progress and the focus, above the map.
fn controls_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        let p = &mut app.views.map.projection;
        ui.label("Map:");
        ui.selectable_value(p, Projection::Tsne, "t-SNE")
            .on_hover_text("Neighbouring items stay neighbours (computed in the background)");
        ui.selectable_value(p, Projection::Pca, "PCA")
            .on_hover_text("The two directions of largest variance");
        if app.views.map.projection == Projection::Tsne && !shown_points(app).1 {
            match app.state.map_tsne_progress {
                Some((done, total)) => {
                    ui.weak(format!("t-SNE epoch {done}/{total}; PCA meanwhile"))
                }
                None => ui.weak("t-SNE not ready; PCA meanwhile"),
            };
        }
        let focus = app.views.tree.focus.clone();
        if !focus.is_empty() {
            ui.separator();
            let mut path = Vec::new();
            let mut parts = Vec::new();
            for &c in &focus {
                path.push(c);
                let words = app.state.hierarchy.labels.words(&path);
                parts.push(if words.is_empty() {
                    format!("{c}")
                } else {
                    format!("{c} {words}")
                });
            }
            let items = app
                .state
                .hierarchy
                .labels
                .get(&focus)
                .map_or(0, |l| l.items);
            ui.label(format!("Focus: {} ({items} items)", parts.join(" › ")));
            let levels = app.state.ids.as_ref().map_or(0, |ids| ids.levels);
            if focus.len() < levels {
                ui.weak(format!("coloured by level-{} codes", focus.len() + 1));
            }
            if ui.small_button("Up").clicked() {
                app.views.tree.focus.pop();
            }
            if ui.small_button("Whole catalogue").clicked() {
                app.views.tree.focus.clear();
            }
        }
    });
}

/// The map drawn with egui_plot (no wgpu renderer).
fn plot_fallback(app: &TigerApp, ui: &mut egui::Ui) -> Option<u32> {
    let (map, _) = shown_points(app);
    let ids = app.state.ids.as_ref();
    let focus = &app.views.tree.focus;
    let mut groups: Vec<Vec<[f64; 2]>> = vec![Vec::new(); GROUPS];
    let mut dimmed: Vec<[f64; 2]> = Vec::new();
    for (i, p) in map.iter().enumerate() {
        let codes = ids.filter(|ids| i < ids.len()).map(|ids| ids.codes_of(i));
        if codes.is_some_and(|c| !c.starts_with(focus)) {
            dimmed.push([p[0] as f64, p[1] as f64]);
            continue;
        }
        let g = codes
            .and_then(|c| c.get(focus.len()))
            .map_or(0, |&c| c as usize % GROUPS);
        groups[g].push([p[0] as f64, p[1] as f64]);
    }
    let response = Plot::new("embedding-map")
        .height(HEIGHT)
        .data_aspect(1.0)
        .show(ui, |p| {
            if !dimmed.is_empty() {
                p.points(
                    Points::new("outside the focus", PlotPoints::from(dimmed))
                        .radius(1.0)
                        .color({
                            let [r, g, b, a] = DIMMED;
                            egui::Color32::from_rgba_unmultiplied(r, g, b, a)
                        }),
                );
            }
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
