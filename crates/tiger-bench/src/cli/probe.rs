//! `tiger-bench cycles` and `tiger-bench matmul`: probes behind the robustness and speed notes
//! (cancel/leak cycles on the worker; the matrix products of a training step alone).

use std::path::PathBuf;

use tiger_bench::{attention, cycles, matmul};
use tiger_core::config::QuantizeOptions;
use tiger_core::device_choice::DeviceChoice;
use tiger_core::options::tiger::TigerOptions;

/// Options of `tiger-bench matmul`.
#[derive(clap::Args, Debug)]
pub struct MatmulArgs {
    /// Rows of the activations (tokens in a batch: 256 histories × 80 tokens = 20,480).
    #[arg(long, default_value_t = 20_480)]
    tokens: usize,
    /// `IN:OUT` layer widths (default: T5's FFN in and out, attention projections).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "128:1024,1024:128,128:384,384:128"
    )]
    layers: Vec<String>,
    /// Ways to split the weight gradient's inner dimension.
    #[arg(long, value_delimiter = ',', default_value = "4,16,64")]
    splits: Vec<usize>,
    /// Timed calls per case.
    #[arg(long, default_value_t = 20)]
    reps: usize,
    /// Device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Gpu)]
    device: DeviceChoice,
    /// One JSON object per case.
    #[arg(long)]
    json: bool,
}

/// Options of `tiger-bench attention`.
#[derive(clap::Args, Debug)]
pub struct AttentionArgs {
    /// Histories per batch.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Source length (history tokens plus the user token).
    #[arg(long, default_value_t = 81)]
    src: usize,
    /// Target length.
    #[arg(long, default_value_t = 4)]
    tgt: usize,
    /// Timed calls per case.
    #[arg(long, default_value_t = 20)]
    reps: usize,
    /// Device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Gpu)]
    device: DeviceChoice,
}

/// Options of `tiger-bench cycles`.
#[derive(clap::Args, Debug)]
pub struct CyclesArgs {
    /// Dataset folder with embeddings.npy (default: the bundled sample).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Measured cycles after the warm-up cycle.
    #[arg(long, default_value_t = 20)]
    cycles: usize,
    /// Training steps to wait for before each cancel.
    #[arg(long, default_value_t = 3)]
    cancel_after: usize,
    /// Device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Gpu)]
    device: DeviceChoice,
    /// Small models instead of the paper's shapes.
    #[arg(long)]
    pub tiny: bool,
    /// One JSON object per sample instead of the table.
    #[arg(long)]
    json: bool,
}

/// `tiger-bench cycles`: start/cancel cycles on the worker with the given `(quantize, tiger)`
/// shapes.
pub fn cycles(
    args: CyclesArgs,
    (quantize, tiger): (QuantizeOptions, TigerOptions),
) -> anyhow::Result<()> {
    let chosen = super::device(args.device);
    let runs = std::env::temp_dir().join(format!("tiger-bench-cycles-{}", std::process::id()));
    let opts = cycles::CycleOptions {
        data: args.data.unwrap_or_else(super::sample),
        runs: runs.clone(),
        cycles: args.cycles,
        quantize,
        tiger,
        cancel_after_steps: args.cancel_after,
    };
    if !args.json {
        println!("device: {}", chosen.description);
        println!(
            "cycle  job       cancel_ms  threads  device_in_use_MiB  device_reserved_MiB  host_rss_MiB"
        );
    }
    let mib = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    let result = cycles::run(&chosen, &opts, |s| {
        if args.json {
            println!("{}", serde_json::to_string(s).unwrap_or_default());
        } else {
            println!(
                "{:<6} {:<9} {:>9.1} {:>8} {:>18} {:>20} {:>13}",
                s.cycle,
                s.job,
                s.cancel_ms,
                s.threads,
                mib(s.device_in_use_mib),
                mib(s.device_reserved_mib),
                mib(s.host_rss_mib)
            );
        }
    });
    let _ = std::fs::remove_dir_all(&runs);
    let samples = result.map_err(anyhow::Error::msg)?;
    if !args.json {
        // Compare the first measured cycle with the last, job by job.
        for job in ["quantize", "tiger"] {
            let of: Vec<_> = samples
                .iter()
                .filter(|s| s.job == job && s.cycle > 0)
                .collect();
            if let (Some(a), Some(b)) = (of.first(), of.last()) {
                let worst = of.iter().map(|s| s.cancel_ms).fold(0.0, f64::max);
                println!(
                    "{job}: cycles {}..{}: threads {} -> {}, device in use {} -> {} MiB, reserved {} -> {} MiB, host {} -> {} MiB, slowest cancel {worst:.1} ms",
                    a.cycle,
                    b.cycle,
                    a.threads,
                    b.threads,
                    mib(a.device_in_use_mib),
                    mib(b.device_in_use_mib),
                    mib(a.device_reserved_mib),
                    mib(b.device_reserved_mib),
                    mib(a.host_rss_mib),
                    mib(b.host_rss_mib)
                );
            }
        }
    }
    Ok(())
}

/// `tiger-bench matmul`: the products of a training step, timed alone.
pub fn matmul(args: MatmulArgs) -> anyhow::Result<()> {
    let chosen = super::device(args.device);
    let mut pairs = Vec::new();
    for l in &args.layers {
        let parsed = l
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
        match parsed {
            Some((a, b)) if a > 0 && b > 0 && a <= 16_384 && b <= 16_384 => pairs.push((a, b)),
            _ => anyhow::bail!("--layers takes IN:OUT pairs of widths 1..16384, got '{l}'"),
        }
    }
    if args.tokens == 0 || args.tokens > 1 << 20 || args.reps == 0 {
        anyhow::bail!("--tokens must be 1..1048576 and --reps at least 1");
    }
    if !args.json {
        println!("device: {}", chosen.description);
    }
    matmul::run(
        &chosen.device,
        args.tokens,
        &pairs,
        &args.splits,
        args.reps,
        |r| {
            if args.json {
                println!("{}", serde_json::to_string(r).unwrap_or_default());
            } else {
                println!("{:<60} {:>9.3} ms {:>8.2} TFLOP/s", r.case, r.ms, r.tflops);
            }
        },
    )
    .map_err(anyhow::Error::msg)?;
    Ok(())
}

/// `tiger-bench attention`: the attention core of a training step, timed alone.
pub fn attention(args: AttentionArgs) -> anyhow::Result<()> {
    let chosen = super::device(args.device);
    let sizes = [args.batch, args.src, args.tgt];
    if sizes.iter().any(|&n| n == 0 || n > 4096) || args.reps == 0 {
        anyhow::bail!("--batch, --src and --tgt must be 1..4096 and --reps at least 1");
    }
    println!("device: {}", chosen.description);
    let shapes = attention::t5_shapes(args.batch, args.src, args.tgt);
    attention::run(&chosen.device, &shapes, args.reps, |r| {
        println!("{:<60} {:>9.3} ms {:>8.2} TFLOP/s", r.case, r.ms, r.tflops);
    })
    .map_err(anyhow::Error::msg)?;
    Ok(())
}
