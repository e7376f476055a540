//! `bench`: speed measurements whose output goes into docs/benchmarks.md.

use std::path::PathBuf;

use tiger_explorer::app::state::synthetic_map;
use tiger_explorer::bench::train::{Recommender, random_ids};
use tiger_explorer::bench::{infer, scaling, train};

use super::bench_probe;
use tiger_explorer::config::QuantizeOptions;
use tiger_explorer::device::DeviceChoice;
use tiger_explorer::train::context::RecData;
use tiger_explorer::train::options::Seq2SeqOptions;
use tiger_explorer::ui::map_view::code_color;
use tiger_explorer::ui::point_cloud::PointInstance;
use tiger_explorer::ui::point_offscreen::{self, Offscreen};

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
    /// Frame rate of the embedding map's WGSL point renderer, drawn offscreen on the GPU.
    Map(MapArgs),
    /// Fixed costs of one small launch and of a read-back (what single-query beam search is
    /// made of).
    Launch(LaunchArgs),
}

/// Arguments of `bench launch`.
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

/// Workloads of `bench run`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// RQ-VAE training steps/s and first-step latency.
    Rqvae,
    /// TIGER seq2seq training steps/s and first-step latency.
    T5,
    /// SASRec training steps/s.
    Sasrec,
    /// Embedding throughput of the bundled encoder (skipped when its files are missing).
    Embed,
    /// Constrained beam search, one query at a time.
    Beam,
    /// Full test evaluation throughput.
    Eval,
}

/// Arguments of `bench run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Workloads to measure [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Workload>,
    /// Dataset for the recommender workloads [default: the bundled sample].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Gpu)]
    device: DeviceChoice,
    /// Untimed steps before the timed window (kernel compilation, autotune).
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Timed training steps (rounded up to a multiple of --warmup).
    #[arg(long, default_value_t = 200)]
    steps: usize,
    /// Rows of the synthetic RQ-VAE input.
    #[arg(long, default_value_t = 10_000)]
    items: usize,
    /// Width of the synthetic RQ-VAE input (768 = the paper's sentence-T5).
    #[arg(long, default_value_t = 768)]
    dim: usize,
    /// Beam width of the search workloads.
    #[arg(long, default_value_t = 20)]
    beam: usize,
    /// Single queries timed by `beam`.
    #[arg(long, default_value_t = 50)]
    queries: usize,
    /// Test histories ranked by `eval` (the dataset's test users, repeated).
    #[arg(long, default_value_t = 6000)]
    eval_users: usize,
    /// Encoder folder for `embed`.
    #[arg(long, default_value = tiger_explorer::embed::encode::DEFAULT_MODEL_DIR)]
    model_dir: PathBuf,
    /// Small shapes instead of the paper's (smoke tests on the CPU).
    #[arg(long)]
    tiny: bool,
    /// Batch size of the RQ-VAE and T5 workloads instead of their defaults (1024 and 256): a
    /// sweep shows whether a step is bound by the GPU's arithmetic or by a fixed per-step cost.
    #[arg(long)]
    batch: Option<usize>,
    /// Print one JSON line per result instead of a table.
    #[arg(long)]
    json: bool,
}

/// Arguments of `bench scaling`.
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
        BenchTarget::Run(args) => run_workloads(args),
        BenchTarget::Scaling(args) => scaling(args),
        BenchTarget::Cycles(args) => {
            let shapes = shapes(args.tiny);
            bench_probe::cycles(args, shapes)
        }
        BenchTarget::Matmul(args) => bench_probe::matmul(args),
        BenchTarget::Launch(args) => {
            let chosen = super::device(args.device);
            println!("device: {}", chosen.description);
            let rows = tiger_explorer::bench::launch::run(&chosen.device, args.reps, args.chain)
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
pub(super) fn shapes(tiny: bool) -> (QuantizeOptions, Seq2SeqOptions) {
    let q = QuantizeOptions::default();
    let t = Seq2SeqOptions::default();
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
        Seq2SeqOptions {
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

/// `bench run`.
fn run_workloads(args: RunArgs) -> anyhow::Result<()> {
    let all = [
        Workload::Rqvae,
        Workload::T5,
        Workload::Sasrec,
        Workload::Embed,
        Workload::Beam,
        Workload::Eval,
    ];
    let chosen = super::device(args.device);
    let (mut q, mut t) = shapes(args.tiny);
    if let Some(batch) = args.batch {
        anyhow::ensure!(batch > 0, "--batch must be at least 1");
        q.batch_size = batch;
        t.batch_size = batch;
    }
    let wanted: Vec<Workload> = if args.only.is_empty() {
        all.to_vec()
    } else {
        args.only.clone()
    };
    let needs_data = wanted.iter().any(|w| *w != Workload::Rqvae);
    let data = if needs_data {
        let dir = args.data.clone().unwrap_or_else(super::gui_cmd::sample);
        let dataset = tiger_explorer::data::load(&dir)?;
        let split = tiger_explorer::data::split(&dataset, t.k_core)?;
        let ids = random_ids(dataset.items.len(), q.levels, q.codebook_size as u32, 3);
        Some(RecData::new(dataset, split, ids))
    } else {
        None
    };
    t.beam = args.beam;
    let run_dir = std::env::temp_dir().join(format!("tiger-bench-{}", std::process::id()));
    if !args.json {
        println!("device: {}", chosen.description);
        if chosen.fallback.is_none() && args.device == DeviceChoice::Gpu {
            let location = tiger_explorer::gpu_cache::CacheLocation::from_env();
            println!("{}", tiger_explorer::gpu_cache::describe(&location));
        }
    }
    for w in wanted {
        let result = match (w, &data) {
            (Workload::Rqvae, _) => {
                train::rqvae(&chosen, args.items, args.dim, &q, args.warmup, args.steps)
            }
            (Workload::T5, Some(d)) => train::recommender(
                &chosen,
                d,
                Recommender::Tiger,
                &t,
                args.warmup,
                args.steps,
                &run_dir,
            ),
            (Workload::Sasrec, Some(d)) => train::recommender(
                &chosen,
                d,
                Recommender::SasRec,
                &t,
                args.warmup,
                args.steps,
                &run_dir,
            ),
            (Workload::Beam, Some(d)) => {
                infer::beam_latency(&chosen, d, &t, args.beam, args.queries)
            }
            (Workload::Eval, Some(d)) => {
                infer::eval_throughput(&chosen, d, &t, args.beam, args.eval_users)
            }
            (Workload::Embed, Some(d)) => {
                if !args.model_dir.join("model.safetensors").is_file() {
                    eprintln!(
                        "embed: skipped, {} has no model.safetensors (run scripts/fetch-model.sh)",
                        args.model_dir.display()
                    );
                    continue;
                }
                let texts: Vec<String> = d.dataset.items.iter().map(|i| i.text.clone()).collect();
                infer::embed(&chosen, &args.model_dir, &texts, 256)
            }
            (_, None) => unreachable!("data is loaded for every workload but rqvae"),
        };
        let r = result.map_err(|e| anyhow::anyhow!("{w:?}: {e}"))?;
        if args.json {
            println!("{}", serde_json::to_string(&r)?);
        } else {
            println!("{}", r.row());
        }
    }
    Ok(())
}

/// `bench scaling`.
fn scaling(args: ScalingArgs) -> anyhow::Result<()> {
    let chosen = super::device(args.device);
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
