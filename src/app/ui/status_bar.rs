//! The status bar: device, running job with progress and Cancel, last error, frame time.

use crate::app::TigerApp;

/// Draws the bottom status bar.
pub fn status_bar_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    egui::Panel::bottom("status").show(ui, |ui| {
        ui.horizontal(|ui| {
            let device = app
                .state
                .device
                .clone()
                .unwrap_or_else(|| "starting device...".into());
            ui.label(format!("Device: {device}"));
            if let Some(note) = &app.state.device_note {
                ui.colored_label(egui::Color32::YELLOW, note);
            }
            ui.separator();
            if let Some(job) = app.state.busy {
                ui.spinner();
                let frac = app
                    .state
                    .progress
                    .map(|(d, t)| d as f32 / t.max(1) as f32)
                    .unwrap_or(0.0);
                ui.add(
                    egui::ProgressBar::new(frac)
                        .desired_width(160.0)
                        .show_percentage(),
                );
                ui.label(format!("{job:?}: {}", app.state.phase));
                if ui.button("Cancel").clicked() {
                    app.cancel();
                }
            } else if !app.state.phase.is_empty() {
                ui.label(&app.state.phase);
            } else {
                ui.label("idle");
            }
            if let Some((p50, p99)) = app.frames.percentiles() {
                ui.separator();
                ui.label(format!("frame p50 {p50:.2} ms | p99 {p99:.2} ms"));
            }
        });
        if let Some(err) = &app.state.last_error {
            ui.colored_label(
                egui::Color32::from_rgb(230, 80, 80),
                format!("Error: {err}"),
            );
        }
    });
}
