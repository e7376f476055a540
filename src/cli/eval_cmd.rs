//! `eval` (TIGER or SASRec run) and `baseline popularity`: Recall/NDCG on validation or test as
//! JSON.

use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;
use tiger_core::data::samples::{Part, samples};
use tiger_core::device_choice::DeviceChoice;
use tiger_core::eval::popularity;
use tiger_core::rec_data::RecData;
use tiger_core::run::RunKind;
use tiger_core::run::layout::read_header;
use tiger_models::decode::BeamConfig;
use tiger_models::sasrec;
use tiger_models::tiger::evaluate::{compare_exact, evaluate};
use tiger_models::train::tiger_loop::{self, KS};

/// Arguments of `eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Run folder written by `train` or `baseline sasrec`.
    #[arg(long)]
    run: PathBuf,
    /// Which targets.
    #[arg(long, value_enum, default_value_t = Part::Test)]
    split: Part,
    /// Beam width (TIGER); must be at least the largest K.
    #[arg(long, default_value_t = 20)]
    beam: usize,
    /// Let beam search produce IDs that name no item (TIGER) and report their share.
    #[arg(long)]
    unconstrained: bool,
    /// Also rank exactly, scoring every item's full ID (TIGER): reports the exact ranking's
    /// metrics under "exact" and how often the beam's top 10 already were the exact top 10.
    #[arg(long, conflicts_with = "unconstrained")]
    exact: bool,
    /// Dataset folder [default: the one the run was trained on].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

/// Arguments of `baseline popularity`.
#[derive(clap::Args, Debug)]
pub struct PopularityArgs {
    /// Dataset folder.
    #[arg(long)]
    data: PathBuf,
    /// Which targets.
    #[arg(long, value_enum, default_value_t = Part::Test)]
    split: Part,
    /// k of the k-core filter.
    #[arg(long, default_value_t = 5)]
    k_core: usize,
}

/// Runs `eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let header = read_header(&args.run).map_err(anyhow::Error::msg)?;
    let data_dir = args
        .data
        .clone()
        .or_else(|| header.find_data(&args.run))
        .with_context(|| {
            format!(
                "the run's dataset {} is not here; pass --data",
                header.data.display()
            )
        })?;
    let kind = match header.kind {
        RunKind::Tiger => "tiger",
        RunKind::Sasrec => "sasrec",
        RunKind::Rqvae => "rqvae",
    };
    let chosen = super::device(args.device);
    let start = std::time::Instant::now();
    let (metrics, extra, split, items) = match kind {
        "tiger" => {
            let (cfg, model) = tiger_loop::load_run(&args.run, &chosen.device)?;
            let data = RecData::load(
                &data_dir,
                &args.run.join("semantic_ids.csv"),
                cfg.options.k_core,
            )?;
            if args.beam < KS[1] {
                anyhow::bail!("--beam must be at least {} (the largest K)", KS[1]);
            }
            let queries = samples(&data.split, args.split, cfg.options.max_history);
            let beam = BeamConfig {
                width: args.beam,
                constrained: !args.unconstrained,
            };
            let r = evaluate(
                &model,
                &cfg.vocab,
                &data,
                &queries,
                beam,
                &KS,
                &chosen.device,
                &|| false,
            )
            .context("evaluation cancelled")?;
            let mut extra = json!({"beam": args.beam, "constrained": !args.unconstrained, "invalid_share": r.invalid_share});
            if args.exact {
                let c = compare_exact(
                    &model,
                    &cfg.vocab,
                    &data,
                    &queries,
                    args.beam,
                    &KS,
                    &chosen.device,
                    &|| false,
                )
                .context("evaluation cancelled")?;
                merge(
                    &mut extra,
                    json!({
                        "exact": c.exact.to_json(),
                        "beam_exact_share": c.beam_exact_share,
                        "widest_beam": c.widest_beam,
                        "exact_seconds": c.seconds,
                    }),
                );
            }
            (r.metrics, extra, data.split, data.ids.len())
        }
        "sasrec" => {
            if args.exact || args.unconstrained {
                anyhow::bail!(
                    "--exact and --unconstrained apply to TIGER runs: SASRec scores every item"
                );
            }
            let (cfg, model) = sasrec::train::load_run(&args.run, &chosen.device)?;
            let dataset = tiger_core::data::load(&data_dir)?;
            let split = tiger_core::data::split(&dataset, cfg.options.k_core)?;
            let queries = samples(&split, args.split, cfg.options.max_len);
            let m = sasrec::train::evaluate(
                &model,
                &queries,
                cfg.options.max_len,
                &KS,
                &chosen.device,
            )?;
            (m, json!({}), split, dataset.items.len())
        }
        _ => anyhow::bail!(
            "{}: an RQ-VAE run has no recommender to evaluate",
            args.run.display()
        ),
    };
    let secs = start.elapsed().as_secs_f64();
    let mut out = json!({
        "model": kind,
        "split": format!("{:?}", args.split).to_lowercase(),
        "device": chosen.description,
        "seconds": secs,
        "users_per_second": metrics.queries as f64 / secs.max(1e-9),
        "popularity": popularity::metrics(&split, items, args.split, &KS).to_json(),
    });
    merge(&mut out, metrics.to_json());
    merge(&mut out, extra);
    println!("{out}");
    Ok(())
}

/// Runs `baseline popularity`.
pub fn run_popularity(args: PopularityArgs) -> anyhow::Result<()> {
    let dataset = tiger_core::data::load(&args.data)?;
    let split = tiger_core::data::split(&dataset, args.k_core)?;
    let mut out =
        json!({"model": "popularity", "split": format!("{:?}", args.split).to_lowercase()});
    merge(
        &mut out,
        popularity::metrics(&split, dataset.items.len(), args.split, &KS).to_json(),
    );
    println!("{out}");
    Ok(())
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    if let (Some(a), serde_json::Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}
