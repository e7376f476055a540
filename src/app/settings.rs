//! Settings kept between launches (in eframe's storage): the last dataset and the options of
//! every panel.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::TigerApp;
use crate::config::QuantizeOptions;
use crate::train::options::Seq2SeqOptions;

/// What is remembered between launches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The dataset folder last loaded.
    pub data: Option<PathBuf>,
    /// RQ-VAE options.
    pub quantize: QuantizeOptions,
    /// Recommender options.
    pub train: Seq2SeqOptions,
    /// Beam width on the Recommend tab.
    pub beam: usize,
    /// K on the Recommend tab.
    pub k: usize,
    /// Constrained decoding on the Recommend tab.
    pub constrained: bool,
}

impl TigerApp {
    /// The settings to remember now.
    pub fn settings(&self) -> Settings {
        let r = &self.views.recommend;
        Settings {
            data: self.state.dataset.as_ref().map(|d| d.path.clone()),
            quantize: self.views.quantize.options.clone(),
            train: self.views.train.options.clone(),
            beam: r.beam,
            k: r.k,
            constrained: r.constrained,
        }
    }

    /// Restores remembered options (the dataset is chosen before the app starts).
    pub fn apply_settings(&mut self, s: Settings) {
        if s.quantize.validate().is_ok() {
            self.views.quantize.options = s.quantize;
        }
        if s.train.validate().is_ok() {
            self.views.train.options = s.train;
        }
        let r = &mut self.views.recommend;
        r.beam = s.beam.clamp(1, 200);
        r.k = s.k.clamp(1, 100);
        r.constrained = s.constrained;
    }
}

impl eframe::App for TigerApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.settings());
    }
}
