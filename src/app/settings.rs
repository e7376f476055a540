//! Settings kept between launches (in eframe's storage): the last dataset, the runs that were
//! open and the options of every panel; and what a launch opens.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::TigerApp;
use tiger_core::config::QuantizeOptions;
use tiger_core::options::tiger::TigerOptions;

/// What is remembered between launches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The dataset folder last loaded.
    pub data: Option<PathBuf>,
    /// RQ-VAE options.
    pub quantize: QuantizeOptions,
    /// Recommender options.
    pub train: TigerOptions,
    /// Beam width on the Recommend tab.
    pub beam: usize,
    /// K on the Recommend tab.
    pub k: usize,
    /// Constrained decoding on the Recommend tab.
    pub constrained: bool,
    /// The runs open at the end of the launch, in pipeline order.
    #[serde(default)]
    pub open_runs: Vec<PathBuf>,
}

/// What a launch opens: the dataset folder and the run folders, in order. Runs named on the
/// command line win; else the dataset and the runs open at the end of the last launch come back;
/// on the sample with nothing to restore (the first launch), the bundled demo runs open.
pub fn launch_plan(
    open_args: Vec<PathBuf>,
    data_arg: Option<PathBuf>,
    saved: Option<&Settings>,
    sample: PathBuf,
    bundled: Vec<PathBuf>,
) -> (PathBuf, Vec<PathBuf>) {
    if !open_args.is_empty() {
        return (data_arg.unwrap_or(sample), open_args);
    }
    if let Some(data) = data_arg {
        return (data, Vec::new());
    }
    let data = saved
        .and_then(|s| s.data.clone())
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| sample.clone());
    let runs: Vec<PathBuf> = saved
        .map(|s| s.open_runs.iter().filter(|p| p.is_dir()).cloned().collect())
        .unwrap_or_default();
    if runs.is_empty() && data == sample {
        (data, bundled)
    } else {
        (data, runs)
    }
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
            open_runs: tiger_core::run::RunKind::ALL
                .iter()
                .filter_map(|k| self.state.open.get(k).cloned())
                .collect(),
        }
    }

    /// Restores remembered options (the dataset and runs are chosen before the app starts, by
    /// [`launch_plan`]).
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_launch_restores_runs_else_opens_the_bundled_ones_on_the_sample() {
        let here = std::env::temp_dir().join(format!("launch-plan-{}", std::process::id()));
        let (sample, other, run) = (here.join("sample"), here.join("other"), here.join("run"));
        for d in [&sample, &other, &run] {
            std::fs::create_dir_all(d).unwrap();
        }
        let bundled = vec![here.join("demo")];
        let saved = |data: &Path, open: Vec<PathBuf>| Settings {
            data: Some(data.into()),
            quantize: QuantizeOptions::default(),
            train: TigerOptions::default(),
            beam: 20,
            k: 10,
            constrained: true,
            open_runs: open,
        };
        let plan =
            |s: Option<&Settings>| launch_plan(vec![], None, s, sample.clone(), bundled.clone());
        assert_eq!(plan(None), (sample.clone(), bundled.clone()));
        // Nothing to restore on the sample (an earlier version's settings): the demo again.
        assert_eq!(
            plan(Some(&saved(&sample, vec![]))),
            (sample.clone(), bundled.clone())
        );
        // Another dataset with no runs stays as it was.
        assert_eq!(plan(Some(&saved(&other, vec![]))), (other.clone(), vec![]));
        // Runs that were open come back; ones deleted since are skipped.
        let gone = here.join("deleted");
        assert_eq!(
            plan(Some(&saved(&other, vec![run.clone(), gone]))),
            (other.clone(), vec![run.clone()])
        );
        // --data alone opens that dataset only; --open wins over everything.
        let s = saved(&other, vec![run.clone()]);
        assert_eq!(
            launch_plan(
                vec![],
                Some(sample.clone()),
                Some(&s),
                sample.clone(),
                bundled.clone()
            ),
            (sample.clone(), vec![])
        );
        assert_eq!(
            launch_plan(
                vec![here.join("x")],
                None,
                Some(&s),
                sample.clone(),
                bundled
            ),
            (sample, vec![here.join("x")])
        );
        std::fs::remove_dir_all(&here).unwrap();
    }
}
