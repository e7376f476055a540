//! Data panel: what was loaded (counts before and after the 5-core filter), the items with their
//! text, a search box, and opening another dataset.

use crate::app::TigerApp;

/// View state of the data panel.
#[derive(Debug, Default)]
pub struct DataView {
    /// Filter text.
    pub filter: String,
    /// Rows matching `filter`, computed when the filter or the catalogue changes (not every frame):
    /// (filter, catalogue size, matching rows).
    matches: Option<(String, usize, Vec<usize>)>,
}

/// Draws the data panel.
pub fn data_panel_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.heading("Data");
        if ui.button("Open folder...").clicked() {
            app.open_dialog(crate::app::DialogPurpose::OpenDataset);
        }
    });
    let Some(d) = &app.state.dataset else {
        ui.label("Loading the dataset...");
        return;
    };
    ui.label(format!("{} ({})", d.path.display(), d.format));
    egui::Grid::new("counts").striped(true).show(ui, |ui| {
        ui.label("");
        ui.label("in the files");
        ui.label("after 5-core");
        ui.end_row();
        for (name, all, core) in [
            ("items", d.items.len(), d.core_items),
            ("users", d.users, d.core_users),
            ("interactions", d.interactions, d.core_interactions),
        ] {
            ui.label(name);
            ui.label(all.to_string());
            ui.label(core.to_string());
            ui.end_row();
        }
    });
    let model = app.encoder_dir.clone();
    let mut embed = false;
    ui.horizontal(|ui| {
        match &d.embeddings {
            Some((path, dim)) => ui.label(format!("Embeddings: {} ({dim}-d)", path.display())),
            None => ui.label("No embeddings.npy in this folder yet."),
        };
        if model.is_some() {
            embed = ui
                .add_enabled(
                    app.state.busy.is_none(),
                    egui::Button::new("Embed with all-MiniLM-L6-v2"),
                )
                .on_hover_text("writes embeddings.npy into the dataset folder")
                .clicked();
        } else {
            ui.weak("(to embed a new catalogue, fetch the encoder first: scripts/fetch-model.sh)");
        }
    });
    if embed && let Some(dir) = model {
        app.command(crate::app::protocol::Command::Embed(dir));
        return;
    }
    ui.separator();
    ui.horizontal(|ui| {
        let label = ui.label("Search");
        ui.text_edit_singleline(&mut app.views.data.filter)
            .labelled_by(label.id);
    });
    let view = &mut app.views.data;
    let stale = view
        .matches
        .as_ref()
        .is_none_or(|(f, n, _)| *f != view.filter || *n != d.items.len());
    if stale {
        let q = view.filter.to_lowercase();
        let rows: Vec<usize> = d
            .items
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                q.is_empty()
                    || r.title.to_lowercase().contains(&q)
                    || r.text.to_lowercase().contains(&q)
            })
            .map(|(i, _)| i)
            .collect();
        view.matches = Some((view.filter.clone(), d.items.len(), rows));
    }
    let rows: &[usize] = view.matches.as_ref().map_or(&[], |m| m.2.as_slice());
    ui.label(format!("{} items", rows.len()));
    let height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    egui::ScrollArea::vertical().auto_shrink(false).show_rows(
        ui,
        height,
        rows.len(),
        |ui, range| {
            for &i in &rows[range] {
                let r = &d.items[i];
                ui.horizontal(|ui| {
                    ui.monospace(format!("{:>7}", r.id));
                    ui.label(&r.title).on_hover_text(&r.text);
                    if !r.in_training {
                        ui.weak("cold start");
                    }
                });
            }
        },
    );
}
