//! `quantize`: embeddings → RQ-VAE → semantic IDs.

use std::path::PathBuf;

use anyhow::{Context, bail};
use tiger_core::config::QuantizeOptions;
use tiger_core::embeddings::store;
use tiger_core::ids::SemanticIds;
use tiger_core::ids::features::Features;
use tiger_core::run::hierarchy::Hierarchy;
use tiger_core::run::{QuantizeRunConfig, RunHeader, RunKind};
use tiger_models::run::save_quantize_run;
use tiger_models::train::rqvae_loop::{Flow, Resumable, RqVaeEvent, train_resumable};

/// Name of the embeddings file looked for inside the dataset folder.
pub const DEFAULT_EMBEDDINGS: &str = "embeddings.npy";

/// Arguments of `quantize`.
#[derive(clap::Args, Debug)]
pub struct QuantizeArgs {
    /// Dataset folder.
    #[arg(long)]
    data: PathBuf,
    /// Item embeddings (.npy or .safetensors), rows in catalogue order [default:
    /// DATA/embeddings.npy].
    #[arg(long)]
    embeddings: Option<PathBuf>,
    /// Run folder to write.
    #[arg(long)]
    out: PathBuf,
    /// Print the final statistics as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Go on from the state a run into the same --out folder saved when Ctrl-C stopped it (same
    /// options and embeddings; the device and --log-every may change).
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    options: QuantizeOptions,
}

/// Runs `quantize`.
pub fn run(args: QuantizeArgs) -> anyhow::Result<()> {
    args.options
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid options: {e}"))?;
    let dataset = tiger_core::data::load(&args.data)?;
    let emb_path = args
        .embeddings
        .clone()
        .unwrap_or_else(|| args.data.join(DEFAULT_EMBEDDINGS));
    if !emb_path.is_file() {
        bail!(
            "{}: embeddings file not found; run `tiger-explorer embed --data {} --out {}` or pass --embeddings",
            emb_path.display(),
            args.data.display(),
            emb_path.display()
        );
    }
    let emb = store::read(&emb_path)?;
    emb.check_rows(&emb_path, dataset.items.len())?;
    let chosen = super::device(args.options.device);
    let scheme = args.options.scheme;
    eprintln!(
        "device: {} | {} items × {} dims | {} levels × {} codes | scheme {}{}",
        chosen.description,
        emb.rows,
        emb.dim,
        args.options.levels,
        args.options.codebook_size,
        scheme.name(),
        if args.options.sinkhorn {
            ", last level balanced (Sinkhorn)"
        } else {
            ""
        }
    );
    let pb = super::bar(args.options.steps as u64, "training RQ-VAE");
    let start = std::time::Instant::now();
    let mut peak_reserved = 0u64;
    let mut first_step_secs = None;
    let mut steps_run = 0usize;
    let resume_dir = args.out.join(tiger_core::run::files::QUANTIZE_RESUME);
    let resumable = Resumable {
        dir: &resume_dir,
        resume: args.resume,
    };
    let stop = super::interrupt::watch();
    let mut told = false;
    let trained = train_resumable(
        &emb,
        &args.options,
        &chosen.device,
        Some(resumable),
        &mut |event| {
            if super::interrupt::raised(&stop) {
                if !told {
                    told = true;
                    super::progress::line(
                        &pb,
                        "interrupted: saving the resumable state (Ctrl-C again to quit at once)"
                            .into(),
                    );
                }
                return Flow::Cancel;
            }
            match event {
                RqVaeEvent::Phase(p) => pb.set_message(p),
                RqVaeEvent::Step { step, .. } => {
                    if first_step_secs.is_none() {
                        first_step_secs = Some(start.elapsed().as_secs_f64());
                    }
                    steps_run += 1;
                    pb.set_position(step as u64)
                }
                RqVaeEvent::Stats(s) => {
                    if let Some(usage) = chosen.device.memory_pool_usage() {
                        peak_reserved = peak_reserved.max(usage.bytes_reserved);
                    }
                    let usage: Vec<String> = s
                        .levels
                        .iter()
                        .map(|l| format!("{:.0}%", l.usage_pct))
                        .collect();
                    let ppl: Vec<String> = s
                        .levels
                        .iter()
                        .map(|l| format!("{:.0}", l.perplexity))
                        .collect();
                    let quant: Vec<String> =
                        s.quant_loss.iter().map(|q| format!("{q:.4}")).collect();
                    let line = format!(
                        "step {:>6}  recon {:.4}  quant [{}]  usage [{}]  ppl [{}]  unique {:.1}%  max group {}",
                        s.step,
                        s.recon_loss,
                        quant.join(" "),
                        usage.join(" "),
                        ppl.join(" "),
                        s.unique_prefix_pct,
                        s.largest_collision_group
                    );
                    if pb.is_hidden() {
                        eprintln!("{line}");
                    } else {
                        pb.println(line);
                    }
                    pb.set_message("training RQ-VAE");
                }
            }
            Flow::Continue
        },
    )?;
    pb.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let ids = SemanticIds::assign(trained.codes.clone(), args.options.levels);
    let item_ids: Vec<String> = dataset.items.iter().map(|i| i.id.clone()).collect();
    let config = QuantizeRunConfig {
        header: RunHeader::new(RunKind::Rqvae, &dataset),
        embeddings: emb_path.clone(),
        options: args.options.clone(),
        input_dim: emb.dim,
        device: chosen.description.clone(),
        train_seconds: secs,
    };
    let features = Features::from_texts(dataset.items.iter().map(|i| i.text.as_str()));
    let hierarchy = Hierarchy::compute(&ids, &features, Some((emb.data.as_slice(), emb.dim)));
    save_quantize_run(&args.out, &item_ids, &ids, &hierarchy, &trained, &config)?;
    // The run is whole: the state it could have gone on from is of no more use.
    if resume_dir.exists() {
        std::fs::remove_dir_all(&resume_dir)
            .with_context(|| format!("{}: cannot remove", resume_dir.display()))?;
    }
    let s = &trained.stats;
    if args.json {
        // The final statistics, plus how semantic each level is against random IDs.
        let mut value = serde_json::to_value(s)?;
        value["coherence"] = serde_json::to_value(&hierarchy.coherence)?;
        value["scheme"] = serde_json::to_value(scheme)?;
        value["sinkhorn"] = args.options.sinkhorn.into();
        println!("{value}");
    } else {
        let first = first_step_secs.unwrap_or(0.0);
        if !scheme.trains_rqvae() {
            println!(
                "made {} codes in {secs:.1} s; no encoder trained",
                scheme.name()
            );
        } else {
            println!(
                "trained {} steps to step {} in {:.1} s on {} (first step incl. k-means init and kernel compilation {:.1} s; then {:.1} steps/s); peak device memory reserved {:.1} MiB",
                steps_run,
                args.options.steps,
                secs,
                chosen.description,
                first,
                (steps_run.saturating_sub(1)) as f64 / (secs - first).max(1e-9),
                peak_reserved as f64 / (1024.0 * 1024.0)
            );
        }
        for (l, level) in s.levels.iter().enumerate() {
            println!(
                "level {}: usage {:.1}%  perplexity {:.1}  entropy {:.2} bits  Gini {:.3}  dead codes {}",
                l + 1,
                level.usage_pct,
                level.perplexity,
                level.entropy_bits,
                level.gini,
                level.dead_codes
            );
        }
        println!(
            "unique {}-code prefix: {:.2}% of {} items; largest collision group {}; collision tokens 0..{}",
            args.options.levels,
            s.unique_prefix_pct,
            s.items,
            s.largest_collision_group,
            ids.collision_depth().saturating_sub(1)
        );
        println!(
            "collision groups (size×groups): {}",
            s.collision_histogram()
        );
        for c in &hierarchy.coherence {
            println!(
                "level {} coherence: items sharing the prefix share {:.2} metadata values ({:.2} with \
                 random IDs of the same shape){}",
                c.level,
                c.shared_features,
                c.random_shared_features,
                c.cosine
                    .zip(c.random_cosine)
                    .map(|(s, r)| format!("; embedding cosine {s:.3} ({r:.3} random)"))
                    .unwrap_or_default()
            );
        }
        for label in hierarchy
            .labels
            .sorted()
            .iter()
            .filter(|l| l.prefix.len() == 1)
            .take(8)
        {
            println!(
                "code {:>4}: {:>5} items  {}",
                label.prefix[0],
                label.items,
                label.text()
            );
        }
        println!("wrote {}", args.out.display());
    }
    Ok(())
}
