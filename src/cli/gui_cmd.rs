//! Opens the desktop window (the default when no subcommand is given).

use std::path::PathBuf;

use tiger_explorer::app::{AppConfig, TigerApp};
use tiger_explorer::device::DeviceChoice;

/// Arguments of `gui`.
#[derive(clap::Args, Debug, Default)]
pub struct GuiArgs {
    /// Dataset folder opened at start [default: the bundled sample].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Compute device for training.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Gpu)]
    device: DeviceChoice,
    /// Start an RQ-VAE run with the default options as soon as the data is loaded (demos, frame-time
    /// measurement) and show the Quantize tab.
    #[arg(long)]
    start_quantize: bool,
    /// Print the app's frame-time percentiles to stderr every 5 seconds.
    #[arg(long)]
    frame_stats: bool,
}

/// The bundled sample, relative to the working directory or, failing that, to the source tree.
fn sample() -> PathBuf {
    let local = PathBuf::from("sample_data/ml-latest-small");
    if local.is_dir() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data/ml-latest-small")
    }
}

/// Runs the window until it is closed.
pub fn run(args: GuiArgs) -> anyhow::Result<()> {
    let config = AppConfig {
        data: args.data.unwrap_or_else(sample),
        device: args.device,
        runs: PathBuf::from("runs"),
    };
    let (start, stats) = (args.start_quantize, args.frame_stats);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1280.0, 840.0])
            .with_title("tiger-explorer"),
        ..Default::default()
    };
    eframe::run_native(
        "tiger-explorer",
        options,
        Box::new(move |cc| {
            let mut app = TigerApp::new(config, cc.egui_ctx.clone());
            app.frame_stats = stats;
            if start {
                app.tab = tiger_explorer::app::Tab::Quantize;
                app.command(tiger_explorer::train::protocol::Command::Quantize(
                    Default::default(),
                ));
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| {
        anyhow::anyhow!("cannot open the window: {e} (headless? use a subcommand, see --help)")
    })
}
