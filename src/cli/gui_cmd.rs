//! Opens the desktop window (the default when no subcommand is given).

use std::path::PathBuf;

use eframe::egui_wgpu;
use tiger_core::device_choice::DeviceChoice;
use tiger_explorer::app::settings::{Settings, launch_plan};
use tiger_explorer::app::ui::point_cloud;
use tiger_explorer::app::worker::DeviceSource;
use tiger_explorer::app::{AppConfig, TigerApp};
use tiger_kernels::device;

/// Arguments of `gui`.
#[derive(clap::Args, Debug, Default)]
pub struct GuiArgs {
    /// Dataset folder opened at start [default: the last one, else the bundled sample].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Run folder to open at start, with its dataset (repeatable; any kind: RQ-VAE, TIGER,
    /// SASRec) [default: the runs open at the end of the last launch, else the bundled demo runs].
    #[arg(long = "open", value_name = "RUN")]
    open: Vec<PathBuf>,
    /// Compute device: auto picks a hardware GPU when there is one, else the CPU backend (never a
    /// software GPU adapter); gpu forces the GPU adapter, whatever it is.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Start an RQ-VAE run with the default options as soon as the data is loaded (demos,
    /// frame-time measurement) and show the Quantize tab.
    #[arg(long)]
    start_quantize: bool,
    /// Print the app's frame-time percentiles to stderr every 5 seconds.
    #[arg(long)]
    frame_stats: bool,
    /// Tab shown at start (demos, screenshots).
    #[arg(long, value_enum)]
    tab: Option<tiger_explorer::app::Tab>,
    /// Replace the embedding map with N synthetic points, open the Semantic IDs tab and repaint
    /// continuously (measures the map's frame rate; combine with --frame-stats).
    #[arg(long, value_name = "N")]
    map_bench: Option<usize>,
    /// Let the window open its own GPU device instead of drawing on burn's (for a display whose
    /// GPU differs from the compute GPU).
    #[arg(long)]
    separate_gpu: bool,
}

/// The bundled sample, relative to the working directory or, failing that, to the source tree.
pub(crate) fn sample() -> PathBuf {
    let local = PathBuf::from("sample_data/ml-latest-small");
    if local.is_dir() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_data/ml-latest-small")
    }
}

/// The folder of the bundled demo runs (relative to the working directory or, failing that, to
/// the source tree), when it is there.
pub(crate) fn bundled_root() -> Option<PathBuf> {
    let local = PathBuf::from(BUNDLED);
    let root = if local.is_dir() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(BUNDLED)
    };
    root.is_dir().then_some(root)
}

/// The bundled demo runs of the sample, relative to the source tree.
const BUNDLED: &str = "assets/demo";

/// The bundled demo runs in the order they are opened.
fn bundled_runs(root: &std::path::Path) -> Vec<PathBuf> {
    ["rqvae", "tiger", "sasrec"]
        .iter()
        .map(|k| root.join("ml-latest-small").join(k))
        .filter(|p| p.is_dir())
        .collect()
}

/// Runs the window until it is closed.
pub fn run(args: GuiArgs) -> anyhow::Result<()> {
    let (start, stats, data_arg) = (args.start_quantize, args.frame_stats, args.data);
    let open_args = args.open;
    let map_bench = args.map_bench;
    let tab = args.tab;
    let mut options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1280.0, 840.0])
            .with_title("tiger-explorer"),
        ..Default::default()
    };
    // One GPU device for training and drawing: burn creates it, the window renders on it.
    let device: DeviceSource = if args.separate_gpu {
        args.device.into()
    } else {
        let (chosen, setup) = device::choose_shared(args.device);
        if let Some(s) = setup {
            options.wgpu_options.wgpu_setup =
                egui_wgpu::WgpuSetup::Existing(egui_wgpu::WgpuSetupExisting {
                    instance: s.instance,
                    adapter: s.adapter,
                    device: s.device,
                    queue: s.queue,
                });
        }
        DeviceSource::Ready(chosen)
    };
    eframe::run_native(
        "tiger-explorer",
        options,
        Box::new(move |cc| {
            let saved: Option<Settings> = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY));
            let bundled = bundled_root();
            let (data, open) = launch_plan(
                open_args,
                data_arg,
                saved.as_ref(),
                sample(),
                bundled.as_deref().map(bundled_runs).unwrap_or_default(),
            );
            let config = AppConfig {
                data,
                device,
                runs: PathBuf::from("runs"),
                open,
                listed: bundled.into_iter().collect(),
            };
            let mut app = TigerApp::new(config, cc.egui_ctx.clone());
            app.gpu_points = point_cloud::register(cc.wgpu_render_state.as_ref());
            if let Some(s) = saved {
                app.apply_settings(s);
            }
            app.frame_stats = stats;
            if let Some(n) = map_bench {
                app.state.set_synthetic_map(n);
                app.tab = tiger_explorer::app::Tab::SemanticIds;
                app.continuous = true;
            }
            if start {
                app.tab = tiger_explorer::app::Tab::Quantize;
                app.command(tiger_explorer::app::protocol::Command::Quantize(
                    Default::default(),
                ));
            }
            if let Some(t) = tab {
                app.tab = t;
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| {
        anyhow::anyhow!("cannot open the window: {e} (headless? use a subcommand, see --help)")
    })
}
