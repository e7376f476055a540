//! `tiger-bench run`: training, embedding, beam-search and evaluation speed at the paper's shapes
//! (or tiny ones), one table row or JSON line per workload.

use std::path::PathBuf;

use tiger_bench::train::{Recommender, random_ids};
use tiger_bench::{infer, train};
use tiger_core::device_choice::DeviceChoice;
use tiger_core::rec_data::RecData;

use super::shapes;

/// Workloads of `tiger-bench run`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// RQ-VAE training steps/s and first-step latency.
    Rqvae,
    /// TIGER training steps/s and first-step latency.
    Tiger,
    /// SASRec training steps/s.
    Sasrec,
    /// Embedding throughput of the bundled encoder (skipped when its files are missing).
    Embed,
    /// Constrained beam search, one query at a time.
    Beam,
    /// Full test evaluation throughput.
    Eval,
}

/// Arguments of `tiger-bench run`.
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
    #[arg(long, default_value = tiger_models::embed::encode::DEFAULT_MODEL_DIR)]
    model_dir: PathBuf,
    /// Small shapes instead of the paper's (smoke tests on the CPU).
    #[arg(long)]
    tiny: bool,
    /// Batch size of the RQ-VAE and T5 workloads instead of their defaults (1024 and 256): a
    /// sweep shows whether a step is bound by the GPU's arithmetic or by a fixed per-step cost.
    #[arg(long)]
    batch: Option<usize>,
    /// Re-seed the RQ-VAE's dead codes every N steps (0 = never, the default here; `quantize`
    /// uses 100). Measures the app's training path, which records its step again after every
    /// restart.
    #[arg(long, default_value_t = 0)]
    dead_code_restart: usize,
    /// Print one JSON line per result instead of a table.
    #[arg(long)]
    json: bool,
    /// Sample the CPU over each training workload's timed window and write `<workload>.folded`
    /// and `<workload>.txt` to this folder, and `<workload>-first.*` for the wait before its first
    /// step (builds with the cargo feature `profile`).
    #[arg(long)]
    profile: Option<PathBuf>,
}

/// `tiger-bench run`.
pub(super) fn run_workloads(args: RunArgs) -> anyhow::Result<()> {
    let all = [
        Workload::Rqvae,
        Workload::Tiger,
        Workload::Sasrec,
        Workload::Embed,
        Workload::Beam,
        Workload::Eval,
    ];
    if let Some(dir) = &args.profile {
        tiger_bench::sampler::enable(dir)?;
    }
    let chosen = super::device(args.device);
    let (mut q, mut t) = shapes(args.tiny);
    q.dead_code_restart = args.dead_code_restart;
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
        let dir = args.data.clone().unwrap_or_else(super::sample);
        let dataset = tiger_core::data::load(&dir)?;
        let split = tiger_core::data::split(&dataset, t.k_core)?;
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
            let location = tiger_kernels::gpu_cache::CacheLocation::from_env();
            println!("{}", tiger_kernels::gpu_cache::describe(&location));
        }
    }
    for w in wanted {
        let result = match (w, &data) {
            (Workload::Rqvae, _) => {
                train::rqvae(&chosen, args.items, args.dim, &q, args.warmup, args.steps)
            }
            (Workload::Tiger, Some(d)) => train::recommender(
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
