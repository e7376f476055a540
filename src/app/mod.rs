//! The desktop application: owns the worker handle, the state drained from it and the panels'
//! view state. Drawing never blocks: no file I/O, no tensors, no locks held across a frame.

pub mod frame_timer;
pub mod image_png;
pub mod png_export;
pub mod protocol;
pub mod settings;
pub mod state;
pub mod tree;
pub mod ui;
pub mod worker;

use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use crate::app::protocol::{Command, Job};
use crate::app::worker::{DeviceSource, WorkerHandle};

pub use state::AppState;

/// Stages shown in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Tab {
    /// What TIGER does and what to try first.
    #[default]
    Start,
    /// Dataset counts and items.
    Data,
    /// RQ-VAE training and codebook health.
    Quantize,
    /// The semantic-ID tree.
    SemanticIds,
    /// Recommender training.
    Train,
    /// History -> beam search -> items.
    Recommend,
    /// Two RQ-VAE runs side by side.
    Compare,
    /// One item from its text to its ID and its recommendations, step by step.
    Walk,
}

impl Tab {
    /// All tabs in navigation order.
    pub const ALL: [Tab; 8] = [
        Tab::Start,
        Tab::Walk,
        Tab::Data,
        Tab::Quantize,
        Tab::SemanticIds,
        Tab::Train,
        Tab::Recommend,
        Tab::Compare,
    ];

    /// Label in the navigation.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Start => "Start here",
            Tab::Data => "Data",
            Tab::Quantize => "Quantize",
            Tab::SemanticIds => "Semantic IDs",
            Tab::Train => "Train",
            Tab::Recommend => "Recommend",
            Tab::Compare => "Compare",
            Tab::Walk => "Guided walk",
        }
    }
}

/// How the app starts.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Dataset opened at start.
    pub data: PathBuf,
    /// Compute device for the worker (chosen by it, or already shared with the window).
    pub device: DeviceSource,
    /// Where training runs write their run folders (listed in the runs list).
    pub runs: PathBuf,
    /// Run folders opened at start, in order (after the dataset).
    pub open: Vec<PathBuf>,
    /// Further folders whose runs are listed (the bundled demo runs).
    pub listed: Vec<PathBuf>,
}

/// The application.
pub struct TigerApp {
    /// Data received from the worker.
    pub state: AppState,
    /// Selected tab.
    pub tab: Tab,
    /// Panels' view state.
    pub views: ui::Views,
    /// Frame-time statistics.
    pub frames: frame_timer::FrameTimer,
    /// Time between frame starts (the frame rate actually reached).
    pub intervals: frame_timer::FrameTimer,
    last_frame: Option<std::time::Instant>,
    /// Print frame-time percentiles to stderr every 5 s.
    pub frame_stats: bool,
    /// Repaint continuously (frame-rate measurement).
    pub continuous: bool,
    /// The embedding map is drawn by the WGSL point renderer (a wgpu window registered it).
    pub gpu_points: bool,
    last_stats: Option<std::time::Instant>,
    /// Folder of the bundled encoder, when its files are present (checked once at start).
    pub encoder_dir: Option<PathBuf>,
    worker: Option<WorkerHandle>,
    /// Folders whose runs are listed besides the runs folder.
    pub listed: Vec<PathBuf>,
    dialog: Option<(DialogPurpose, Receiver<Option<PathBuf>>)>,
    /// A PNG export waiting for its screenshot or path.
    png: Option<png_export::PngExport>,
    png_result: Option<Receiver<Result<PathBuf, String>>>,
}

/// What a pending file dialog is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogPurpose {
    /// Open a dataset folder.
    OpenDataset,
    /// Open a run folder.
    OpenRun,
    /// Locate the dataset of a run whose dataset moved.
    LocateData(PathBuf),
    /// Save the semantic IDs (CSV or JSON by extension).
    ExportIds,
    /// Save a plot as PNG (suggested file name).
    ExportPng(&'static str),
    /// Choose a folder to copy a training job's checkpoint into.
    ExportCheckpoint(Job),
}

impl TigerApp {
    /// Starts the worker (which opens `config.data`) and returns the app. `ctx` is used to wake
    /// the UI when events arrive.
    pub fn new(config: AppConfig, ctx: egui::Context) -> Self {
        let repaint = Box::new(move || ctx.request_repaint());
        let mut state = AppState::default();
        let worker = match WorkerHandle::spawn(config.device, config.runs, repaint) {
            Ok(w) => {
                w.send(Command::LoadDataset(config.data));
                w.send(Command::ScanRuns(config.listed.clone()));
                for run in config.open {
                    w.send(Command::OpenRun { run, data: None });
                }
                Some(w)
            }
            Err(e) => {
                state.last_error = Some(format!("cannot start the worker thread: {e}"));
                None
            }
        };
        Self {
            state,
            tab: Tab::default(),
            views: ui::Views::default(),
            frames: frame_timer::FrameTimer::default(),
            intervals: frame_timer::FrameTimer::default(),
            last_frame: None,
            frame_stats: false,
            continuous: false,
            gpu_points: false,
            last_stats: None,
            encoder_dir: find_encoder(),
            worker,
            listed: config.listed,
            dialog: None,
            png: None,
            png_result: None,
        }
    }

    /// Queues a command for the worker; reports in the status bar when it cannot be queued.
    pub fn command(&mut self, cmd: Command) {
        let sent = self.worker.as_ref().is_some_and(|w| w.send(cmd));
        if !sent {
            self.state.last_error = Some("the worker is busy or stopped; try again".into());
        }
    }

    /// Opens the run folder `run` (any kind) with its dataset.
    pub fn open_run(&mut self, run: PathBuf) {
        self.command(Command::OpenRun { run, data: None });
    }

    /// Asks the worker for a fresh runs list.
    pub fn refresh_runs(&mut self) {
        self.command(Command::ScanRuns(self.listed.clone()));
    }

    /// Asks the running job to stop.
    pub fn cancel(&mut self) {
        if let Some(w) = &self.worker {
            w.cancel();
        }
    }

    /// Opens a native file dialog on its own thread (never blocking the UI); the choice arrives
    /// through [`TigerApp::drain`].
    pub fn open_dialog(&mut self, purpose: DialogPurpose) {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let purpose_kept = purpose.clone();
        let spawned = std::thread::Builder::new()
            .name("file-dialog".into())
            .spawn(move || {
                let choice = match &purpose {
                    DialogPurpose::OpenDataset => rfd::FileDialog::new()
                        .set_title("Open a dataset folder")
                        .pick_folder(),
                    DialogPurpose::OpenRun => rfd::FileDialog::new()
                        .set_title("Open a run folder (made by the window or the command line)")
                        .pick_folder(),
                    DialogPurpose::LocateData(run) => rfd::FileDialog::new()
                        .set_title(format!(
                            "Where is the dataset of {}? Pick its folder",
                            run.display()
                        ))
                        .pick_folder(),
                    DialogPurpose::ExportIds => rfd::FileDialog::new()
                        .set_title("Export semantic IDs")
                        .add_filter("CSV", &["csv"])
                        .add_filter("JSON", &["json"])
                        .set_file_name("semantic_ids.csv")
                        .save_file(),
                    DialogPurpose::ExportPng(name) => rfd::FileDialog::new()
                        .set_title("Save the plot as PNG")
                        .add_filter("PNG", &["png"])
                        .set_file_name(*name)
                        .save_file(),
                    DialogPurpose::ExportCheckpoint(_) => rfd::FileDialog::new()
                        .set_title("Copy the checkpoint into this folder")
                        .pick_folder(),
                };
                let _ = tx.send(choice);
            });
        match spawned {
            Ok(_) => self.dialog = Some((purpose_kept, rx)),
            Err(e) => self.state.last_error = Some(format!("cannot open a file dialog: {e}")),
        }
    }

    /// Drains worker events, dialog results and PNG exports (non-blocking); `pixels_per_point`
    /// scales exported rectangles to screenshot pixels.
    pub fn drain(&mut self, pixels_per_point: f32) {
        if let Some(w) = &self.worker {
            while let Ok(e) = w.events.try_recv() {
                if matches!(e, crate::app::protocol::Event::DatasetLoaded(_)) {
                    // Item indices of the previous catalogue mean nothing in the new one.
                    self.views.recommend.history.clear();
                    self.views.tree.selected = None;
                }
                self.state.apply(e);
            }
        }
        if let Some((purpose, rx)) = &self.dialog
            && let Ok(choice) = rx.try_recv()
        {
            let purpose = purpose.clone();
            self.dialog = None;
            match (purpose, choice) {
                (DialogPurpose::OpenDataset, Some(path)) => {
                    self.command(Command::LoadDataset(path))
                }
                (DialogPurpose::OpenRun, Some(run)) => self.open_run(run),
                (DialogPurpose::LocateData(run), Some(data)) => self.command(Command::OpenRun {
                    run,
                    data: Some(data),
                }),
                (DialogPurpose::ExportIds, Some(path)) => self.command(Command::ExportIds(path)),
                (DialogPurpose::ExportCheckpoint(job), Some(path)) => {
                    self.command(Command::ExportCheckpoint(job, path))
                }
                (DialogPurpose::ExportPng(_), Some(path)) => {
                    if let Some(p) = &mut self.png {
                        p.path = Some(path);
                    }
                }
                (DialogPurpose::ExportPng(_), None) => self.png = None,
                (_, None) => {}
            }
        }
        if let Some((run, _)) = self.state.needs_data.take() {
            self.open_dialog(DialogPurpose::LocateData(run));
        }
        if let Some(p) = &mut self.png
            && let Some(rx) = p.poll(pixels_per_point)
        {
            self.png = None;
            self.png_result = Some(rx);
        }
        if let Some(rx) = &self.png_result
            && let Ok(result) = rx.try_recv()
        {
            self.png_result = None;
            match result {
                Ok(path) => self.state.phase = format!("saved {}", path.display()),
                Err(e) => self.state.last_error = Some(e),
            }
        }
    }

    /// Exports `rect` of the next frame as a PNG: to `path`, or where the user picks in a save
    /// dialog (suggesting `name`). One export at a time.
    pub fn export_png(
        &mut self,
        ctx: &egui::Context,
        rect: egui::Rect,
        name: &'static str,
        path: Option<PathBuf>,
    ) {
        if self.png.is_some() || self.png_result.is_some() {
            self.state.last_error = Some("a PNG export is already running".into());
            return;
        }
        let mut export = png_export::PngExport::start(ctx, rect);
        match path {
            Some(p) => export.path = Some(p),
            None => self.open_dialog(DialogPurpose::ExportPng(name)),
        }
        self.png = Some(export);
    }

    /// Whether a PNG export is waiting or writing.
    pub fn png_pending(&self) -> bool {
        self.png.is_some() || self.png_result.is_some()
    }

    /// Draws the whole window into `ui` (used by eframe and by the UI tests).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        let start = std::time::Instant::now();
        if let Some(prev) = self.last_frame.replace(start) {
            self.intervals.record(start - prev);
        }
        self.drain(ui.ctx().pixels_per_point());
        ui::status_bar::status_bar_ui(self, ui);
        ui::nav_ui(self, ui);
        egui::CentralPanel::default().show(ui, |ui| match self.tab {
            Tab::Start => ui::start_panel::start_panel_ui(self, ui),
            Tab::Data => ui::data_panel::data_panel_ui(self, ui),
            Tab::Quantize => ui::quantize_panel::quantize_panel_ui(self, ui),
            Tab::SemanticIds => ui::tree_panel::tree_panel_ui(self, ui),
            Tab::Train => ui::train_panel::train_panel_ui(self, ui),
            Tab::Recommend => ui::recommend_panel::recommend_panel_ui(self, ui),
            Tab::Compare => ui::compare_panel::compare_panel_ui(self, ui),
            Tab::Walk => ui::walk_panel::walk_panel_ui(self, ui),
        });
        if self.continuous {
            ui.ctx().request_repaint();
        } else if self.state.busy.is_some() || self.views.recommend.playing || self.png_pending() {
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(100));
        }
        self.frames.record(start.elapsed());
        if self.frame_stats && self.last_stats.is_none_or(|t| t.elapsed().as_secs() >= 5) {
            self.last_stats = Some(std::time::Instant::now());
            if let Some((p50, p99)) = self.frames.percentiles() {
                let job = self.state.busy.map_or("idle".to_string(), |j| {
                    format!("{j:?} {:?}", self.state.progress)
                });
                let rate = self
                    .intervals
                    .percentiles()
                    .map_or(String::new(), |(i50, i99)| {
                        format!(
                            "; interval p50 {i50:.2} ms p99 {i99:.2} ms = {:.1} fps",
                            1000.0 / i50
                        )
                    });
                eprintln!(
                    "frames {} p50 {p50:.3} ms p99 {p99:.3} ms{rate} ({job})",
                    self.frames.len()
                );
            }
        }
    }
}

/// The encoder folder (`models/all-MiniLM-L6-v2` in the working directory, else in the source
/// tree) when its weights and tokenizer are present.
fn find_encoder() -> Option<PathBuf> {
    let rel = tiger_models::embed::encode::DEFAULT_MODEL_DIR;
    [
        PathBuf::from(rel),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel),
    ]
    .into_iter()
    .find(|d| d.join("model.safetensors").is_file() && d.join("tokenizer.json").is_file())
}
