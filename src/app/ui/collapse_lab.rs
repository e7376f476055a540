//! The Quantize tab's collapse lab: presets that train a setting which collapses the codebooks and
//! then each fix in turn, one click each, so that a class can watch usage fall and find what brings
//! it back.

use crate::app::TigerApp;
use crate::app::protocol::Command;
use tiger_core::config::{IdScheme, OptimizerChoice, QuantizeOptions};

/// The collapse lab: one click trains a setting that collapses the codebooks and each fix in
/// turn, so that a class can watch usage fall and find what brings it back.
pub fn collapse_lab_ui(app: &mut TigerApp, ui: &mut egui::Ui) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Collapse lab:")
            .on_hover_text("Each button sets the options above and trains at once");
        for preset in CollapsePreset::ALL {
            let button = ui
                .add_enabled(app.state.busy.is_none(), egui::Button::new(preset.title()))
                .on_hover_text(preset.explained());
            if button.clicked() {
                let o = preset.options(&app.views.quantize.options);
                app.views.quantize.options = o.clone();
                app.command(Command::Quantize(o));
            }
        }
    });
}

/// The collapse lab's settings, from the paper's collapsing one to the defaults. On the sample the
/// first four all collapse (Adagrad's step at lr 0.4 sends every item to one point whatever the
/// safeguards) and the fifth, the defaults' Adam, uses every code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollapsePreset {
    /// The paper's Adagrad (lr 0.4) on the raw embeddings, random codebooks, no restarts.
    Collapse,
    /// The same with standardised inputs.
    Standardize,
    /// Standardised inputs and k-means initialised codebooks.
    KmeansInit,
    /// Everything above and dead-code restarts: the defaults' safeguards, still with Adagrad.
    Restarts,
    /// The defaults: every safeguard and Adam at lr 1e-3.
    Adam,
}

impl CollapsePreset {
    /// In the order a lesson clicks them.
    pub const ALL: [CollapsePreset; 5] = [
        CollapsePreset::Collapse,
        CollapsePreset::Standardize,
        CollapsePreset::KmeansInit,
        CollapsePreset::Restarts,
        CollapsePreset::Adam,
    ];

    /// The button's text.
    pub fn title(self) -> &'static str {
        match self {
            CollapsePreset::Collapse => "1 Collapse it",
            CollapsePreset::Standardize => "2 + standardize",
            CollapsePreset::KmeansInit => "3 + k-means init",
            CollapsePreset::Restarts => "4 + dead-code restarts",
            CollapsePreset::Adam => "5 Adam (the defaults)",
        }
    }

    /// What the setting shows.
    pub fn explained(self) -> &'static str {
        match self {
            CollapsePreset::Collapse => {
                "The paper's Adagrad (lr 0.4) on the raw unit-norm embeddings, codebooks drawn at \
                 random, no restarts: most codes are never chosen"
            }
            CollapsePreset::Standardize => {
                "The same on standardised inputs (zero mean, unit variance per dimension)"
            }
            CollapsePreset::KmeansInit => {
                "And each codebook initialised by k-means on real residuals"
            }
            CollapsePreset::Restarts => "And codes unused for 100 steps re-seeded from residuals",
            CollapsePreset::Adam => {
                "Every safeguard with Adam at lr 1e-3 instead of Adagrad at 0.4: the defaults"
            }
        }
    }

    /// `base` (the scheme, shape, steps, seed and device kept) with this preset's settings: the
    /// RQ-VAE with the paper's optimiser and the safeguards on up to this step, then the defaults'
    /// optimiser.
    pub fn options(self, base: &QuantizeOptions) -> QuantizeOptions {
        let step = CollapsePreset::ALL
            .iter()
            .position(|&p| p == self)
            .unwrap_or(0);
        let defaults = QuantizeOptions::default();
        let (optimizer, lr) = if self == CollapsePreset::Adam {
            (defaults.optimizer, defaults.lr)
        } else {
            (OptimizerChoice::Adagrad, 0.4)
        };
        QuantizeOptions {
            scheme: IdScheme::Rqvae,
            sinkhorn: false,
            optimizer,
            lr,
            standardize: step >= 1,
            kmeans_init: step >= 2,
            dead_code_restart: if step >= 3 { 100 } else { 0 },
            ..base.clone()
        }
    }
}
