//! "Is it semantic?": each level's coherence against random IDs of the same shape, as a table
//! (the Quantize tab for the current IDs, Compare for each run).

use tiger_core::ids::coherence::LevelCoherence;

/// One line that says what the table shows.
pub const EXPLAIN: &str = "Items that share a code prefix, against random IDs of the same shape: \
     metadata values two of them share on average (genres, tags, decade), and the cosine \
     similarity of their embeddings.";

/// The table, one row per level (nothing when `levels` is empty).
pub fn table(ui: &mut egui::Ui, salt: &str, levels: &[LevelCoherence]) {
    if levels.is_empty() {
        return;
    }
    egui::Grid::new(("coherence", salt))
        .striped(true)
        .show(ui, |ui| {
            for h in [
                "prefix",
                "shared metadata",
                "random IDs",
                "× chance",
                "cosine",
                "random IDs",
            ] {
                ui.strong(h);
            }
            ui.end_row();
            for c in levels {
                ui.label(format!(
                    "{} code{}",
                    c.level,
                    if c.level == 1 { "" } else { "s" }
                ));
                ui.label(format!("{:.2}", c.shared_features));
                ui.label(format!("{:.2}", c.random_shared_features));
                ui.label(c.feature_lift().map_or("-".into(), |l| format!("{l:.1}×")));
                ui.label(c.cosine.map_or("-".into(), |v| format!("{v:.3}")));
                ui.label(c.random_cosine.map_or("-".into(), |v| format!("{v:.3}")));
                ui.end_row();
            }
        });
}
