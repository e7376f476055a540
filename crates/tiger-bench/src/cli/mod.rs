//! The `tiger-bench` command line: speed measurements whose output goes into
//! docs/performance.md.

mod probe;
mod run;

use std::path::PathBuf;

use tiger_bench::scaling;
use tiger_explorer::app::state::synthetic_map;

use probe as bench_probe;
use run::RunArgs;
use tiger_core::config::QuantizeOptions;
use tiger_core::device_choice::DeviceChoice;
use tiger_core::options::tiger::TigerOptions;
use tiger_explorer::app::ui::map_points::code_color;
use tiger_explorer::app::ui::point_cloud::PointInstance;
use tiger_explorer::app::ui::point_offscreen::{self, Offscreen};

/// What `bench` measures.
#[derive(clap::Subcommand, Debug)]
pub enum BenchTarget {
    /// Training, embedding and beam-search speed (each workload, or all of them).
    Run(RunArgs),
    /// Time and memory of quantize / IDs / trie / beam search as the catalogue grows.
    Scaling(ScalingArgs),
    /// Start/cancel cycles of quantize and TIGER training on the app's worker: cancel latency,
    /// threads, device pool and host memory after each cancel.
    Cycles(bench_probe::CyclesArgs),
    /// The matrix products of a training step alone: forward, weight gradient whole or split.
    Matmul(bench_probe::MatmulArgs),
    /// The attention core of a training step alone, forward and backward, at T5's shapes.
    Attention(bench_probe::AttentionArgs),
    /// Frame rate of the embedding map's WGSL point renderer, drawn offscreen on the GPU.
    Map(MapArgs),
    /// Fixed costs of one small launch and of a read-back (what single-query beam search is
    /// made of).
    Launch(LaunchArgs),
    /// `burn / torch` for each training workload, from `tiger-bench run --json` and
    /// `crates/tiger-bench/torch_reference.py --json` output on the same machine.
    Ratio(RatioArgs),
    /// Speed of TIGER's training step recorded as a device graph and replayed, against
    /// the eager step (a bound on what recording it would gain; numerics not kept).
    ReplayProbe(ReplayArgs),
}

/// Arguments of `tiger-bench replay-probe`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// Timed steps of each kind.
    #[arg(long, default_value_t = 100)]
    steps: usize,
    /// Histories per batch.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Gpu)]
    device: DeviceChoice,
}

/// Arguments of `tiger-bench ratio`.
#[derive(clap::Args, Debug)]
pub struct RatioArgs {
    /// JSON lines of `tiger-bench run --json`.
    #[arg(long)]
    burn: PathBuf,
    /// JSON lines of `python3 crates/tiger-bench/torch_reference.py --json`.
    #[arg(long)]
    torch: PathBuf,
    /// Print one JSON line per pair instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `tiger-bench launch`.
#[derive(clap::Args, Debug)]
pub struct LaunchArgs {
    /// Timed repetitions per case.
    #[arg(long, default_value_t = 200)]
    reps: usize,
    /// Operations per chain.
    #[arg(long, default_value_t = 16)]
    chain: usize,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Gpu)]
    device: DeviceChoice,
}

/// Arguments of `tiger-bench scaling`.
#[derive(clap::Args, Debug)]
pub struct ScalingArgs {
    /// Catalogue sizes.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    items: Vec<usize>,
    /// Embedding width.
    #[arg(long, default_value_t = 768)]
    dim: usize,
    /// RQ-VAE steps per size.
    #[arg(long, default_value_t = 300)]
    steps: usize,
    /// Beam width.
    #[arg(long, default_value_t = 20)]
    beam: usize,
    /// Queries in the timed beam-search batch.
    #[arg(long, default_value_t = 64)]
    queries: usize,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Gpu)]
    device: DeviceChoice,
    /// Small model shapes (smoke tests on the CPU).
    #[arg(long)]
    tiny: bool,
    /// Print one JSON line per size instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `tiger-bench map`.
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
        BenchTarget::Run(args) => run::run_workloads(args),
        BenchTarget::Scaling(args) => scaling(args),
        BenchTarget::Cycles(args) => {
            let shapes = shapes(args.tiny);
            bench_probe::cycles(args, shapes)
        }
        BenchTarget::Matmul(args) => bench_probe::matmul(args),
        BenchTarget::Attention(args) => bench_probe::attention(args),
        BenchTarget::Ratio(args) => ratio(args),
        BenchTarget::ReplayProbe(args) => {
            let chosen = device(args.device);
            println!("device: {}", chosen.description);
            let opts = TigerOptions::default();
            // The paper's shapes: 20 items of 4 tokens and a user token; 3 x 256 codes, a
            // collision token range and the specials (about the sample's vocabulary).
            let p = tiger_bench::replay_probe::tiger(
                &chosen.device,
                &opts,
                1100,
                81,
                4,
                args.batch,
                args.steps,
            )
            .map_err(|e| anyhow::anyhow!("replay probe failed: {e}"))?;
            println!(
                "tiger batch {}: eager {:.2} steps/s, replayed {}",
                args.batch,
                p.eager,
                match &p.replay {
                    Ok(r) => format!("{r:.2} steps/s"),
                    Err(why) => format!("- ({why})"),
                }
            );
            Ok(())
        }
        BenchTarget::Launch(args) => {
            let chosen = device(args.device);
            println!("device: {}", chosen.description);
            let rows = tiger_bench::launch::run(&chosen.device, args.reps, args.chain)
                .map_err(|e| anyhow::anyhow!("launch benchmark failed: {e}"))?;
            for r in rows {
                let per = r
                    .per_op_us
                    .map_or(String::new(), |p| format!("  ({p:.1} µs per operation)"));
                println!("{:<55} {:>9.1} µs{per}", r.case, r.us);
            }
            Ok(())
        }
    }
}

/// Model shapes: the paper's, or tiny ones for smoke tests.
pub(super) fn shapes(tiny: bool) -> (QuantizeOptions, TigerOptions) {
    let q = QuantizeOptions::default();
    let t = TigerOptions::default();
    if !tiny {
        return (q, t);
    }
    (
        QuantizeOptions {
            hidden_dims: vec![32],
            latent_dim: 8,
            codebook_size: 16,
            batch_size: 64,
            kmeans_iters: 2,
            ..q
        },
        TigerOptions {
            encoder_layers: 1,
            decoder_layers: 1,
            d_model: 16,
            heads: 2,
            d_head: 8,
            d_ff: 32,
            batch_size: 16,
            user_buckets: 0,
            ..t
        },
    )
}

/// `tiger-bench scaling`.
fn scaling(args: ScalingArgs) -> anyhow::Result<()> {
    let chosen = device(args.device);
    let (q, t) = shapes(args.tiny);
    if !args.json {
        println!("device: {}", chosen.description);
        println!(
            "items      quantize_s  assign_ms  trie_ms   trie_nodes  beam_ms/query  host_rss_MiB  device_MiB  unique_prefix_%"
        );
    }
    for &n in &args.items {
        if n < q.batch_size.max(q.codebook_size) {
            anyhow::bail!("--items {n} is smaller than the batch or the codebook");
        }
        let row = scaling::run(
            &chosen,
            n,
            args.dim,
            &q,
            &t,
            args.steps,
            args.beam,
            args.queries,
        )?;
        if args.json {
            println!("{}", serde_json::to_string(&row)?);
        } else {
            let mib = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
            println!(
                "{:<10} {:>10.2} {:>10.1} {:>8.1} {:>12} {:>14.2} {:>13} {:>11} {:>16.2}",
                row.items,
                row.quantize_s,
                row.assign_ids_s * 1000.0,
                row.trie_s * 1000.0,
                row.trie_nodes,
                row.beam_ms_per_query,
                mib(row.host_rss_mib),
                mib(row.peak_device_mib),
                row.unique_prefix_pct
            );
        }
    }
    Ok(())
}

/// One `tiger-bench map --json` line: the renderer's figures and the window's CPU work per frame.
#[derive(serde::Serialize)]
struct MapRow<'a> {
    #[serde(flatten)]
    render: &'a point_offscreen::MapBenchReport,
    /// Recolouring every point for a focused code and finding the groups' centroids (ms).
    focus_ms: f64,
    /// Finding the point under the pointer (ms), done every frame the pointer is over the map.
    hover_ms: f64,
}

/// The map's CPU work at this many points, median of repeats: recolouring for a focus (on a tree
/// click) and the hover search (every frame), with random 3-level IDs of 256 codes a level.
fn map_cpu_costs(points: &[PointInstance]) -> (f64, f64) {
    use tiger_explorer::app::ui::map_points::{colour_points, nearest};
    let mut rng = tiger_core::embeddings::synthetic::XorShift::new(7);
    let codes: Vec<u32> = (0..points.len() * 3)
        .map(|_| rng.below(256) as u32)
        .collect();
    let ids = tiger_core::ids::SemanticIds::assign(codes, 3);
    let positions: Vec<[f32; 2]> = points.iter().map(|p| p.position).collect();
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let focus = (0..15)
        .map(|k| {
            let t = std::time::Instant::now();
            let (coloured, groups) = colour_points(&positions, Some(&ids), &[k]);
            std::hint::black_box((coloured, groups));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let hover = (0..31)
        .map(|k| {
            let at = positions[(k * 7919) % positions.len().max(1)];
            let t = std::time::Instant::now();
            std::hint::black_box(nearest(points, at, 0.01));
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    (median(focus), median(hover))
}

/// `tiger-bench map`.
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
        tiger_explorer::app::image_png::write_rgba(path, args.width, args.height, &rgba)?;
    }
    let (focus_ms, hover_ms) = map_cpu_costs(&points);
    if args.json {
        let row = MapRow {
            render: &report,
            focus_ms,
            hover_ms,
        };
        println!("{}", serde_json::to_string(&row)?);
    } else {
        println!(
            "map on the CPU: {focus_ms:.2} ms to recolour for a focus (3-level IDs, 256 codes a level), {hover_ms:.3} ms per hover search"
        );
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

/// `tiger-bench ratio`.
fn ratio(args: RatioArgs) -> anyhow::Result<()> {
    let rows =
        tiger_bench::ratio::compare(&args.burn, &args.torch).map_err(|e| anyhow::anyhow!(e))?;
    for r in rows {
        if args.json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            println!(
                "{:<8} burn {:>9.2} steps/s   torch {:<13} {:>9.2} steps/s   burn / torch {:.2}",
                r.workload, r.burn, r.variant, r.torch, r.ratio
            );
        }
    }
    Ok(())
}

/// Initialises the requested device once and says on stderr when another one computes.
pub(crate) fn device(choice: DeviceChoice) -> tiger_kernels::device::ChosenDevice {
    tiger_kernels::device::choose_reporting(choice)
}

/// The bundled sample, relative to the working directory or, failing that, to the source tree.
pub(crate) fn sample() -> PathBuf {
    let local = PathBuf::from("sample_data/ml-latest-small");
    if local.is_dir() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../sample_data/ml-latest-small")
    }
}
