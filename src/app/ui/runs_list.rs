//! The runs list beside the tabs: every run in the runs folder, the bundled demo runs and every
//! run opened, with kind, dataset, date and headline figures; a click opens one.

use crate::app::{DialogPurpose, TigerApp};
use tiger_core::run::layout::date_text;

/// Draws the runs list (in the navigation panel, below the tabs).
pub fn runs_list_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.strong("Runs");
        if ui
            .small_button("Open run...")
            .on_hover_text(
                "Open a run folder made by the window or the command line, or list every run \
                 in a folder of runs (a sweep)",
            )
            .clicked()
        {
            app.open_dialog(DialogPurpose::OpenRun);
        }
        if ui
            .small_button("Refresh")
            .on_hover_text("Look for new runs in the runs folder")
            .clicked()
        {
            app.refresh_runs();
        }
    });
    if app.state.run_list.is_empty() {
        ui.weak("No runs yet. Runs made on the Quantize and Train tabs, or with the command line in ./runs, appear here.");
        return;
    }
    let idle = app.state.busy.is_none();
    let mut clicked = None;
    egui::ScrollArea::vertical()
        .id_salt("runs-list")
        .show(ui, |ui| {
            for run in &app.state.run_list {
                let open = app.state.open.get(&run.header.kind) == Some(&run.path);
                let text = format!("{} · {}", run.header.kind.label(), run.name());
                let row = ui
                    .add_enabled(idle, egui::Button::selectable(open, text))
                    .on_hover_text(format!(
                        "{}\ndataset {} · {}\n{}",
                        run.path.display(),
                        run.dataset_name(),
                        date_text(run.header.created),
                        run.headline()
                    ));
                ui.weak(format!(
                    "{} · {} · {}",
                    run.dataset_name(),
                    date_text(run.header.created),
                    run.headline()
                ));
                if row.clicked() && !open {
                    clicked = Some(run.path.clone());
                }
            }
        });
    if let Some(path) = clicked {
        app.open_run(path);
    }
}
