//! `recommend`: top items for a typed history, with titles, semantic IDs and the shared prefixes.

use std::path::PathBuf;

use anyhow::Context;
use tiger_core::device_choice::DeviceChoice;
use tiger_core::rec_data::RecData;
use tiger_models::decode::{BeamConfig, BeamStep};
use tiger_models::tiger::evaluate::recommend;
use tiger_models::train::tiger_loop;

/// Arguments of `recommend`.
#[derive(clap::Args, Debug)]
pub struct RecommendArgs {
    /// TIGER run folder written by `train`.
    #[arg(long)]
    run: PathBuf,
    /// Watched items, oldest first, comma separated: titles ("Heat (1995)", "Toy Story") or ids.
    #[arg(long)]
    history: String,
    /// How many items to show.
    #[arg(long, default_value_t = 10)]
    k: usize,
    /// Beam width [default: max(20, k)].
    #[arg(long)]
    beam: Option<usize>,
    /// Allow IDs that name no item (shown as invalid).
    #[arg(long)]
    unconstrained: bool,
    /// Print every beam-search step: kept and pruned hypotheses with their log-probabilities.
    #[arg(long)]
    trace: bool,
    /// Dataset folder [default: the one the run was trained on].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Run the beam search this many times and report its first and median time on stderr.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

/// Runs `recommend`.
pub fn run(args: RecommendArgs) -> anyhow::Result<()> {
    let chosen = super::device(args.device);
    let (cfg, model) = tiger_loop::load_run(&args.run, &chosen.device)?;
    let data_dir = args
        .data
        .clone()
        .or_else(|| cfg.header.find_data(&args.run))
        .with_context(|| {
            format!(
                "the run's dataset {} is not here; pass --data",
                cfg.header.data.display()
            )
        })?;
    let data = RecData::load(
        &data_dir,
        &args.run.join("semantic_ids.csv"),
        cfg.options.k_core,
    )?;
    let history = tiger_core::data::lookup::resolve_list(&data.dataset, &args.history)
        .map_err(|e| anyhow::anyhow!("--history: {e}"))?;
    let kept = &history[history.len().saturating_sub(cfg.options.max_history)..];
    let full_id = |item: u32| {
        let i = item as usize;
        let codes: Vec<String> = data.ids.codes_of(i).iter().map(u32::to_string).collect();
        format!("({}, #{})", codes.join(", "), data.ids.collision[i])
    };
    println!(
        "history ({} items{}):",
        history.len(),
        if kept.len() < history.len() {
            ", the model reads the last ones"
        } else {
            ""
        }
    );
    for &h in kept {
        println!(
            "  {:<50} {}",
            data.dataset.items[h as usize].title,
            full_id(h)
        );
    }
    let beam = BeamConfig {
        width: args.beam.unwrap_or(20).max(args.k),
        constrained: !args.unconstrained,
    };
    let levels = data.ids.levels;
    let mut trace = |step: &BeamStep| {
        if !args.trace {
            return;
        }
        println!(
            "step {} ({}):",
            step.pos + 1,
            if step.pos < levels {
                format!("level-{} code", step.pos + 1)
            } else {
                "collision token".into()
            }
        );
        for c in &step.candidates {
            println!(
                "  {} parent {:>2} → {:>3}  log p {:>9.4}{}",
                if c.kept { "kept  " } else { "pruned" },
                c.parent,
                c.value,
                c.score,
                if c.valid {
                    ""
                } else {
                    "  (no item has this prefix)"
                }
            );
        }
    };
    let mut times = Vec::new();
    let mut hyps = Vec::new();
    for i in 0..args.repeat.max(1) {
        let start = std::time::Instant::now();
        let mut quiet = |_: &BeamStep| {};
        let observe: &mut dyn FnMut(&BeamStep) = if i == 0 { &mut trace } else { &mut quiet };
        hyps = recommend(
            &model,
            &cfg.vocab,
            &data,
            kept,
            beam,
            &chosen.device,
            observe,
        );
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let first = times[0];
    times.sort_by(f64::total_cmp);
    eprintln!(
        "beam search (width {}, {} results) on {}: first {first:.1} ms, median of {} {:.1} ms",
        beam.width,
        args.k,
        chosen.description,
        times.len(),
        times[times.len() / 2]
    );
    println!("top {}:", args.k);
    for (rank, h) in hyps.iter().take(args.k).enumerate() {
        match h.item {
            Some(item) => {
                let shared = kept
                    .iter()
                    .map(|&p| {
                        tiger_core::ids::shared_prefix(
                            data.ids.codes_of(p as usize),
                            data.ids.codes_of(item as usize),
                        )
                    })
                    .max()
                    .unwrap_or(0);
                let with = kept
                    .iter()
                    .rev()
                    .find(|&&p| {
                        tiger_core::ids::shared_prefix(
                            data.ids.codes_of(p as usize),
                            data.ids.codes_of(item as usize),
                        ) == shared
                            && shared > 0
                    })
                    .map(|&p| {
                        format!(
                            "  shares {shared} code(s) with '{}'",
                            data.dataset.items[p as usize].title
                        )
                    })
                    .unwrap_or_default();
                println!(
                    "{:>3}. {:<50} {}  log p {:.3}{}",
                    rank + 1,
                    data.dataset.items[item as usize].title,
                    full_id(item),
                    h.score,
                    with
                );
            }
            None => println!(
                "{:>3}. (invalid ID {:?}: no such item)  log p {:.3}",
                rank + 1,
                h.values,
                h.score
            ),
        }
    }
    if hyps.is_empty() {
        return Err(anyhow::anyhow!("beam search produced no hypothesis")).context("recommend");
    }
    Ok(())
}
