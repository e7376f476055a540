//! The guided walk for a class: one item from its text to its place on the map, its ID level by
//! level with each code's label and siblings, and finally what TIGER recommends after it, with the
//! prefixes the recommendations share with it. Next and Back move through the steps.

use crate::app::TigerApp;

/// The steps, in order.
const STEPS: [&str; 4] = [
    "1. The item and its text",
    "2. Its vector on the map",
    "3. Its semantic ID, level by level",
    "4. What TIGER recommends after it",
];

/// Siblings listed per level.
const SIBLINGS: usize = 5;

/// View state of the walk.
#[derive(Debug, Default)]
pub struct WalkView {
    /// The item walked through.
    pub item: Option<u32>,
    /// The step shown (index into the steps).
    pub step: usize,
    /// Search text for picking the item.
    pub query: String,
}

/// Draws the walk.
pub fn walk_panel_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.heading("Guided walk");
    let items = app.state.dataset.as_ref().map_or(0, |d| d.items.len());
    if items == 0 || app.state.ids.is_none() {
        ui.label(
            "The walk needs a dataset with semantic IDs: open an RQ-VAE or TIGER run from the \
             runs list on the left (the bundled runs open on a first launch).",
        );
        return;
    }
    pick_ui(app, ui, items);
    let Some(item) = app.views.walk.item else {
        return;
    };
    ui.separator();
    ui.horizontal(|ui| {
        let w = &mut app.views.walk;
        if ui
            .add_enabled(w.step > 0, egui::Button::new("Back"))
            .clicked()
        {
            w.step -= 1;
        }
        if ui
            .add_enabled(w.step + 1 < STEPS.len(), egui::Button::new("Next"))
            .clicked()
        {
            w.step += 1;
        }
        ui.strong(STEPS[w.step.min(STEPS.len() - 1)]);
    });
    ui.add_space(6.0);
    match app.views.walk.step {
        0 => text_step(app, ui, item),
        1 => map_step(app, ui, item),
        2 => id_step(app, ui, item),
        _ => recommend_step(app, ui, item),
    }
}

/// Picking the item: a search, or a random one.
fn pick_ui(app: &mut TigerApp, ui: &mut egui::Ui, items: usize) {
    ui.horizontal(|ui| {
        let label = ui.label("Item");
        ui.text_edit_singleline(&mut app.views.walk.query)
            .labelled_by(label.id);
        if ui.button("Any item").clicked() {
            // A different item each click, spread over the catalogue.
            let next = app.views.walk.item.map_or(0, |i| i as usize + 7_919) % items;
            choose(app, next as u32);
        }
    });
    let hits = super::search_items(app, &app.views.walk.query, 6);
    ui.horizontal_wrapped(|ui| {
        for i in hits {
            if ui.button(app.state.title(i)).clicked() {
                choose(app, i);
            }
        }
    });
}

fn choose(app: &mut TigerApp, item: u32) {
    app.views.walk.item = Some(item);
    app.views.walk.step = 0;
    app.views.tree.selected = Some(item);
}

fn text_step(app: &TigerApp, ui: &mut egui::Ui, item: u32) {
    let row = app
        .state
        .dataset
        .as_ref()
        .and_then(|d| d.items.get(item as usize));
    ui.label(format!("\"{}\"", app.state.title(item)));
    if let Some(row) = row {
        ui.label("The sentence the encoder reads (all-MiniLM-L6-v2 turns it into 384 numbers):");
        ui.monospace(&row.text);
    }
}

fn map_step(app: &mut TigerApp, ui: &mut egui::Ui, item: u32) {
    // Focus the map on the item's level-1 code: its neighbours there share its first code.
    let first = app
        .state
        .ids
        .as_ref()
        .map(|ids| ids.codes_of(item as usize)[..1].to_vec())
        .unwrap_or_default();
    app.views.tree.focus = first;
    app.views.tree.selected = Some(item);
    ui.label(
        "Its vector, projected to 2-D, is the ringed point. The points in colour share its \
         first code, coloured by their second; the rest of the catalogue is dimmed.",
    );
    if let Some(i) = super::map_view::map_ui(app, ui) {
        ui.label(super::hovered_line(app, i));
    }
}

fn id_step(app: &TigerApp, ui: &mut egui::Ui, item: u32) {
    let Some(ids) = app.state.ids.as_ref() else {
        return;
    };
    let codes = ids.codes_of(item as usize);
    ui.label(format!(
        "\"{}\" has the semantic ID {}: coarse to fine, each code narrows the one before.",
        app.state.title(item),
        super::id_text(app, item)
    ));
    egui::Grid::new("walk-levels").striped(true).show(ui, |ui| {
        for h in [
            "level",
            "code",
            "what it means",
            "items",
            "siblings (same prefix)",
        ] {
            ui.strong(h);
        }
        ui.end_row();
        for level in 1..=codes.len() {
            let prefix = &codes[..level];
            let label = app.state.hierarchy.labels.text(prefix);
            let siblings: Vec<u32> = (0..ids.len() as u32)
                .filter(|&j| j != item && ids.codes_of(j as usize).starts_with(prefix))
                .collect();
            let names: Vec<&str> = siblings
                .iter()
                .take(SIBLINGS)
                .map(|&j| app.state.title(j))
                .collect();
            ui.label(level.to_string());
            ui.label(codes[level - 1].to_string());
            ui.label(if label.is_empty() { "-".into() } else { label });
            ui.label((siblings.len() + 1).to_string());
            ui.label(names.join("; "));
            ui.end_row();
        }
        ui.label("collision");
        ui.label(format!("#{}", ids.collision[item as usize]));
        ui.label("tells apart items whose codes are all equal");
        ui.label("");
        ui.label("");
        ui.end_row();
    });
}

fn recommend_step(app: &mut TigerApp, ui: &mut egui::Ui, item: u32) {
    if !app.state.model_ready {
        ui.label(
            "No recommender is open: open a TIGER run from the runs list on the left (the bundled \
             one opens on a first launch).",
        );
        return;
    }
    let asked = app.views.recommend.history == [item];
    if ui
        .add_enabled(
            app.state.busy.is_none(),
            egui::Button::new(format!(
                "Recommend after \"{}\" (beam search)",
                app.state.title(item)
            )),
        )
        .clicked()
    {
        app.views.recommend.history = vec![item];
        let cmd = app.views.recommend.command();
        app.command(cmd);
    }
    if !asked || app.state.recommendations.is_empty() {
        ui.weak("TIGER reads the item's ID tokens and generates the next item's ID, code by code.");
        return;
    }
    let Some(ids) = app.state.ids.as_ref() else {
        return;
    };
    let mine = ids.codes_of(item as usize);
    for (rank, r) in app.state.recommendations.iter().enumerate() {
        let Some(i) = r.item else {
            continue;
        };
        let shared = tiger_core::ids::shared_prefix(mine, ids.codes_of(i as usize));
        let common = if shared == 0 {
            "no common prefix".to_string()
        } else {
            let words = app.state.hierarchy.labels.words(&mine[..shared]);
            format!("shares {shared} code(s): {words}")
        };
        ui.label(format!(
            "{:>2}. {} {}  {common}",
            rank + 1,
            app.state.title(i),
            super::id_text(app, i)
        ));
    }
}
