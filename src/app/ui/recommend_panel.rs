//! Recommend panel: build a history (search, add, reorder, remove), pick beam width, K and
//! constrained decoding, then watch beam search step by step (one column per ID position, kept
//! hypotheses linked to their parents, pruned ones faded, invalid prefixes in red) and read the
//! top-K items with the codes they share with the history.

use crate::app::TigerApp;
use crate::app::protocol::{Command, Job};

/// View state of the recommend panel.
#[derive(Debug)]
pub struct RecommendView {
    /// Search text.
    pub query: String,
    /// History being built (item indices, oldest first).
    pub history: Vec<u32>,
    /// Beam width.
    pub beam: usize,
    /// Results wanted.
    pub k: usize,
    /// Constrained decoding.
    pub constrained: bool,
    /// Beam steps revealed so far.
    pub shown: usize,
    /// Animation running.
    pub playing: bool,
    /// Steps revealed per second.
    pub speed: f32,
    /// Time of the last reveal.
    pub last_tick: f64,
    /// Result generation the animation belongs to.
    pub generation: u64,
}

impl RecommendView {
    /// Beam search for the history with the chosen width, K and constraint (the width is at
    /// least K).
    pub fn command(&self) -> Command {
        Command::Recommend {
            history: self.history.clone(),
            beam: self.beam.max(self.k),
            k: self.k,
            constrained: self.constrained,
        }
    }
}

impl Default for RecommendView {
    fn default() -> Self {
        Self {
            query: String::new(),
            history: Vec::new(),
            beam: 20,
            k: 10,
            constrained: true,
            shown: 0,
            playing: false,
            speed: 1.5,
            last_tick: 0.0,
            generation: 0,
        }
    }
}

/// Draws the recommend panel.
pub fn recommend_panel_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.heading("Recommend");
    history_ui(app, ui);
    ui.separator();
    let v = &mut app.views.recommend;
    ui.horizontal(|ui| {
        ui.label("beam width");
        ui.add(egui::DragValue::new(&mut v.beam).range(1..=200));
        ui.label("K");
        ui.add(egui::DragValue::new(&mut v.k).range(1..=100));
        ui.checkbox(&mut v.constrained, "constrained to real items");
    });
    let can = app.state.model_ready
        && app.state.busy.is_none()
        && !app.views.recommend.history.is_empty();
    ui.horizontal(|ui| {
        if ui
            .add_enabled(can, egui::Button::new("Run beam search"))
            .clicked()
        {
            let cmd = app.views.recommend.command();
            app.command(cmd);
        }
        if !app.state.model_ready {
            ui.label(
                "No recommender is open: open a TIGER run from the runs list on the left, or train one on the Train tab.",
            );
        } else if app.views.recommend.history.is_empty() {
            ui.label("Add a few items to the history (search above), then run beam search.");
        }
    });
    if app.state.busy == Some(Job::Recommend) {
        ui.label("searching...");
    }
    animation_ui(app, ui);
    beam_ui(app, ui);
    results_ui(app, ui);
}

fn history_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        let label = ui.label("Search items");
        ui.text_edit_singleline(&mut app.views.recommend.query)
            .labelled_by(label.id);
    });
    let hits = super::search_items(app, &app.views.recommend.query, 8);
    ui.horizontal_wrapped(|ui| {
        for i in hits {
            if ui.button(format!("+ {}", app.state.title(i))).clicked() {
                app.views.recommend.history.push(i);
            }
        }
    });
    ui.label(format!(
        "History ({} items, oldest first):",
        app.views.recommend.history.len()
    ));
    let mut action: Option<(usize, i32)> = None;
    for (pos, &i) in app.views.recommend.history.iter().enumerate() {
        ui.horizontal(|ui| {
            if ui.small_button("Up").on_hover_text("move up").clicked() {
                action = Some((pos, -1));
            }
            if ui.small_button("Down").on_hover_text("move down").clicked() {
                action = Some((pos, 1));
            }
            if ui.small_button("Remove").on_hover_text("remove").clicked() {
                action = Some((pos, 0));
            }
            ui.label(format!("{} {}", app.state.title(i), super::id_text(app, i)));
        });
    }
    let h = &mut app.views.recommend.history;
    match action {
        Some((pos, 0)) => {
            h.remove(pos);
        }
        Some((pos, d)) => {
            let to = pos as i64 + d as i64;
            if (0..h.len() as i64).contains(&to) {
                h.swap(pos, to as usize);
            }
        }
        None => {}
    }
}

fn animation_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    let total = app.state.beam_steps.len();
    let v = &mut app.views.recommend;
    let now = ui.input(|i| i.time);
    if v.generation != app.state.beam_generation {
        v.generation = app.state.beam_generation;
        v.shown = 1.min(total);
        v.playing = total > 1;
        v.last_tick = now;
    }
    if total == 0 {
        return;
    }
    if v.playing && now - v.last_tick >= 1.0 / v.speed.max(0.1) as f64 {
        v.shown = (v.shown + 1).min(total);
        v.last_tick = now;
        if v.shown == total {
            v.playing = false;
        }
    }
    ui.horizontal(|ui| {
        if ui
            .button(if v.playing { "Pause" } else { "Play" })
            .clicked()
        {
            if v.shown == total {
                v.shown = 1;
            }
            v.playing = !v.playing;
            v.last_tick = now;
        }
        if ui.button("Step").clicked() {
            v.playing = false;
            v.shown = (v.shown + 1).min(total);
        }
        if ui.button("Show all").clicked() {
            v.playing = false;
            v.shown = total;
        }
        ui.add(egui::Slider::new(&mut v.speed, 0.2..=10.0).text("steps/s"));
        ui.label(format!("step {}/{}", v.shown, total));
    });
}

fn beam_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    let shown = app.views.recommend.shown.min(app.state.beam_steps.len());
    if shown == 0 {
        return;
    }
    let levels = app.state.ids.as_ref().map_or(3, |i| i.levels);
    let mut kept_rects: Vec<Vec<egui::Rect>> = Vec::new();
    let mut links: Vec<(usize, usize, egui::Rect)> = Vec::new();
    let area = egui::ScrollArea::both()
        .max_height(320.0)
        .id_salt("beam")
        .show(ui, |ui| {
            ui.horizontal_top(|ui| {
                // The code prefix of each hypothesis kept at the previous step, for labels.
                let mut kept_prefixes: Vec<Vec<u32>> = vec![Vec::new()];
                for step in &app.state.beam_steps[..shown] {
                    let mut next_prefixes = Vec::new();
                    ui.vertical(|ui| {
                        ui.strong(if step.pos < levels {
                            format!("level {} code", step.pos + 1)
                        } else {
                            "collision".into()
                        });
                        let mut rects = Vec::new();
                        for c in &step.candidates {
                            let mut prefix = kept_prefixes
                                .get(if step.pos > 0 { c.parent } else { 0 })
                                .cloned()
                                .unwrap_or_default();
                            prefix.push(c.value);
                            let words = if c.kept && step.pos < levels {
                                app.state.hierarchy.labels.words(&prefix)
                            } else {
                                String::new()
                            };
                            let text = format!("{:>3}  {:.2}  {words}", c.value, c.score);
                            let color = if !c.valid {
                                egui::Color32::from_rgb(230, 80, 80)
                            } else if c.kept {
                                ui.visuals().strong_text_color()
                            } else {
                                ui.visuals().weak_text_color()
                            };
                            let r = ui.label(egui::RichText::new(text).monospace().color(color));
                            if c.kept {
                                next_prefixes.push(prefix);
                                rects.push(r.rect);
                                if step.pos > 0 {
                                    links.push((step.pos - 1, c.parent, r.rect));
                                }
                            }
                        }
                        kept_rects.push(rects);
                    });
                    kept_prefixes = next_prefixes;
                    ui.add_space(24.0);
                }
            });
            let painter = ui.painter();
            let stroke = egui::Stroke::new(1.0, ui.visuals().weak_text_color());
            for (col, parent, rect) in links {
                if let Some(p) = kept_rects.get(col).and_then(|r| r.get(parent)) {
                    painter.line_segment([p.right_center(), rect.left_center()], stroke);
                }
            }
        });
    super::png_button(app, ui, area.inner_rect, "beam_search.png");
}

fn results_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    if app.state.recommendations.is_empty() {
        return;
    }
    ui.separator();
    ui.strong(format!("Top {}", app.state.recommendations.len()));
    let ids = app.state.ids.as_ref();
    let history = &app.views.recommend.history;
    for (rank, r) in app.state.recommendations.iter().enumerate() {
        match r.item {
            Some(i) => {
                let shared = ids
                    .map(|ids| {
                        history
                            .iter()
                            .map(|&h| {
                                let (a, b) = (ids.codes_of(h as usize), ids.codes_of(i as usize));
                                (tiger_core::ids::shared_prefix(a, b), h)
                            })
                            .max_by_key(|x| x.0)
                            .unwrap_or((0, 0))
                    })
                    .unwrap_or((0, 0));
                let why = if shared.0 > 0 {
                    format!(
                        "  shares {} code(s) with {}",
                        shared.0,
                        app.state.title(shared.1)
                    )
                } else {
                    String::new()
                };
                ui.label(format!(
                    "{:>2}. {} {}  log p {:.2}{why}",
                    rank + 1,
                    app.state.title(i),
                    super::id_text(app, i),
                    r.score
                ));
                let meaning = super::meaning(app, i);
                if !meaning.is_empty() {
                    ui.weak(format!("      {meaning}"));
                }
            }
            None => {
                ui.colored_label(
                    egui::Color32::from_rgb(230, 80, 80),
                    format!(
                        "{:>2}. invalid ID {:?}  log p {:.2}",
                        rank + 1,
                        r.values,
                        r.score
                    ),
                );
            }
        }
    }
}
