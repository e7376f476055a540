//! The first screen: what TIGER does in three steps, what each tab shows, what is open now, and
//! what to try first.

use crate::app::{Tab, TigerApp};
use tiger_core::run::RunKind;

/// Draws the start panel.
pub fn start_panel_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading("Generative retrieval, step by step");
        ui.label(
            "TIGER recommends the next item by writing its name: every item gets a short \
             semantic ID, and a sequence model reads a user's history as IDs and generates the \
             next one, token by token.",
        );
        ui.add_space(6.0);
        for (n, step) in [
            "Embed: each item's text (title, year, genres, tags) becomes a 384-number vector \
             through the sentence encoder all-MiniLM-L6-v2.",
            "Quantize: an RQ-VAE turns each vector into a few codes, coarse to fine, such as \
             (42, 15, 7): items sharing the first code are alike, items sharing two are more \
             alike. A fourth token tells apart items that would share all three.",
            "Generate: a T5-style encoder-decoder reads the history as codes and writes the next \
             item's codes with beam search, allowed only to write IDs that exist.",
        ]
        .iter()
        .enumerate()
        {
            ui.label(format!("{}. {step}", n + 1));
        }
        ui.separator();
        ui.strong("Open now");
        open_now_ui(app, ui);
        if ui
            .button("Start the guided walk: one item from text to ID to recommendations")
            .clicked()
        {
            app.tab = Tab::Walk;
        }
        ui.separator();
        ui.strong("The tabs");
        for (tab, what) in [
            (
                Tab::Data,
                "the catalogue: counts before and after filtering, each item's text",
            ),
            (
                Tab::Quantize,
                "the RQ-VAE: loss curves, codebook usage, collapse warnings",
            ),
            (
                Tab::SemanticIds,
                "the ID tree level by level and a map of the items",
            ),
            (
                Tab::Train,
                "the recommender's curves and the test table against SASRec and popularity",
            ),
            (
                Tab::Recommend,
                "build a history and watch beam search generate IDs",
            ),
            (
                Tab::Compare,
                "any number of ID runs side by side: the quality report and usage curves",
            ),
            (
                Tab::Walk,
                "one item from its text to its ID, its siblings and its recommendations, for a class",
            ),
        ] {
            ui.horizontal(|ui| {
                if ui.link(format!("{} tab", tab.label())).clicked() {
                    app.tab = tab;
                }
                ui.label(format!("— {what}"));
            });
        }
        ui.separator();
        ui.strong("Try first");
        let ready = app.state.model_ready;
        for line in [
            "Semantic IDs: open a first-level code and read its items; then one of its \
             second-level codes: the items get closer.",
            "Recommend: search \"Toy Story\", add it and two more films, press Run beam search \
             and step through the beams.",
            "Train: compare TIGER's test NDCG@10 with SASRec's and the popularity floor.",
            "Quantize: press the collapse lab's 1 Collapse it and watch the codebooks collapse, \
             then 2 to 5 to find the fix that brings usage back; tick the runs on Compare.",
        ] {
            ui.label(format!("• {line}"));
        }
        if !ready {
            ui.weak(
                "No trained recommender is open: open a run from the list on the left (Open \
                 run... for a folder elsewhere), or quantize and train one.",
            );
        }
    });
}

fn open_now_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    let data = app
        .state
        .dataset
        .as_ref()
        .map_or("loading...".to_string(), |d| {
            format!("{} ({} items)", d.path.display(), d.items.len())
        });
    ui.label(format!("Dataset: {data}"));
    for kind in RunKind::ALL {
        let shown = app.state.open.get(&kind).map_or("none".to_string(), |p| {
            let headline = app
                .state
                .run_list
                .iter()
                .find(|r| &r.path == p)
                .map_or(String::new(), |r| format!(" — {}", r.headline()));
            format!("{}{headline}", p.display())
        });
        ui.label(format!("{} run: {shown}", kind.label()));
    }
}
