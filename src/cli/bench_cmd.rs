//! `bench`: speed measurements whose output goes into docs/benchmarks.md.

use std::path::PathBuf;

use tiger_explorer::app::state::synthetic_map;
use tiger_explorer::ui::map_view::code_color;
use tiger_explorer::ui::point_cloud::PointInstance;
use tiger_explorer::ui::point_offscreen::{self, Offscreen};

/// What `bench` measures.
#[derive(clap::Subcommand, Debug)]
pub enum BenchTarget {
    /// Frame rate of the embedding map's WGSL point renderer, drawn offscreen on the GPU.
    Map(MapArgs),
}

/// Arguments of `bench map`.
#[derive(clap::Args, Debug)]
pub struct MapArgs {
    /// Points per frame (synthetic clusters).
    #[arg(long, default_value_t = 50_000)]
    points: usize,
    /// Frames measured.
    #[arg(long, default_value_t = 600)]
    frames: usize,
    /// Target width in pixels (the map's size in a 1280-wide window).
    #[arg(long, default_value_t = 1264)]
    width: u32,
    /// Target height in pixels.
    #[arg(long, default_value_t = 320)]
    height: u32,
    /// Also save the last frame as PNG.
    #[arg(long)]
    png: Option<PathBuf>,
    /// Print the report as one JSON line.
    #[arg(long)]
    json: bool,
}

/// Runs one benchmark.
pub fn run(target: BenchTarget) -> anyhow::Result<()> {
    match target {
        BenchTarget::Map(args) => map(args),
    }
}

/// `bench map`.
fn map(args: MapArgs) -> anyhow::Result<()> {
    if args.width == 0 || args.height == 0 || args.width > 8192 || args.height > 8192 {
        anyhow::bail!("--width and --height must be between 1 and 8192");
    }
    let (_, setup) = burn::prelude::Device::wgpu_options()
        .init_with_setup()
        .map_err(|e| anyhow::anyhow!("no usable GPU adapter for the map benchmark: {e}"))?;
    let adapter = setup.adapter.get_info().name;
    let offscreen = Offscreen::new(setup.device, setup.queue, args.width, args.height);
    let points: Vec<PointInstance> = synthetic_map(args.points)
        .into_iter()
        .enumerate()
        .map(|(i, position)| PointInstance {
            position,
            color: code_color((i % 16) as u32),
        })
        .collect();
    let report = point_offscreen::bench(&offscreen, adapter, &points, args.frames)?;
    if let Some(path) = &args.png {
        let rgba = offscreen.read_rgba()?;
        tiger_explorer::image_png::write_rgba(path, args.width, args.height, &rgba)?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "map: {} points, {}x{} px on {}: {:.1} fps (frame p50 {:.3} ms, p99 {:.3} ms, {} frames, each waited for); {} pixels lit",
            report.points,
            report.width,
            report.height,
            report.adapter,
            report.fps,
            report.p50_ms,
            report.p99_ms,
            report.frames,
            report.lit_pixels
        );
    }
    Ok(())
}
