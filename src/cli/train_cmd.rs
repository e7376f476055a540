//! `train` (TIGER) and `baseline sasrec`: train a recommender on the GPU with live validation.

use std::path::PathBuf;

use tiger_core::options::sasrec::SasRecOptions;
use tiger_core::options::tiger::TigerOptions;
use tiger_core::rec_data::RecData;
use tiger_core::run::tiger_config::TrainState;
use tiger_models::sasrec;
use tiger_models::train::test_eval::{self, TEST_BEAM};
use tiger_models::train::tiger_loop;

/// Arguments of `train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Dataset folder.
    #[arg(long)]
    data: PathBuf,
    /// Semantic IDs written by `quantize` (RUN/semantic_ids.csv).
    #[arg(long)]
    ids: PathBuf,
    /// Run folder to write (checkpoints, config, IDs).
    #[arg(long)]
    out: PathBuf,
    /// Continue from OUT/last (same options): the schedule and data order carry on.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    options: TigerOptions,
}

/// Arguments of `baseline sasrec`.
#[derive(clap::Args, Debug)]
pub struct SasRecArgs {
    /// Dataset folder.
    #[arg(long)]
    data: PathBuf,
    /// Run folder to write.
    #[arg(long)]
    out: PathBuf,
    /// Continue from OUT/last.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    options: SasRecOptions,
}

fn summary(state: &TrainState, secs: f64, device: &str) {
    println!(
        "trained to step {} in {:.1} s on {} ({:.1} steps/s over the training time, validation excluded)",
        state.step,
        secs,
        device,
        state.step as f64 / state.train_seconds.max(1e-9)
    );
    if let Some(why) = &state.stopped_early {
        println!("stopped early at step {}: {why}", state.step);
    }
    if let Some((step, ndcg)) = state.best {
        println!("best validation NDCG@10 {ndcg:.4} at step {step} (saved as best/)");
    }
}

/// Runs `train`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    args.options
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid options: {e}"))?;
    let mut data = RecData::load(&args.data, &args.ids, args.options.k_core)?;
    if args.options.random_ids {
        data = data.with_random_ids(args.options.seed);
        eprintln!(
            "ablation: random IDs of the same shape (the semantic IDs shuffled among the items, seed {})",
            args.options.seed
        );
    }
    let chosen = super::device(args.options.device);
    eprintln!(
        "device: {} | {} users, {} training samples, catalogue {} items",
        chosen.description,
        data.split.users.len(),
        data.split
            .users
            .iter()
            .map(|u| u.train.len().saturating_sub(1))
            .sum::<usize>(),
        data.ids.len()
    );
    let pb = super::bar(args.options.steps as u64, "training TIGER");
    let start = std::time::Instant::now();
    let stop = super::interrupt::watch();
    let state = tiger_loop::train(
        &data,
        &args.options,
        &args.out,
        &chosen.device,
        args.resume,
        &mut super::progress::observer(&pb, &stop),
    )
    .map_err(|e| interrupted(e, &args.out))?;
    pb.finish_and_clear();
    summary(&state, start.elapsed().as_secs_f64(), &chosen.description);
    eprintln!("test evaluation of the best weights (beam search, width {TEST_BEAM})...");
    let record = test_eval::test_tiger(
        &args.out,
        &data,
        &chosen.device,
        &chosen.description,
        &|| false,
    )?;
    if let Some(r) = record {
        print_test(&r);
    }
    println!("wrote {}", args.out.display());
    Ok(())
}

/// A training error as the user reads it; a stop by Ctrl-C says where its state was saved.
fn interrupted(e: tiger_loop::TrainError, out: &std::path::Path) -> anyhow::Error {
    match e {
        tiger_loop::TrainError::Cancelled(step) => anyhow::anyhow!(
            "interrupted at step {step}; the resumable state is saved in {} (run the same command \
             with --resume to go on)",
            out.join("last").display()
        ),
        other => other.into(),
    }
}

fn print_test(r: &tiger_core::run::TestRecord) {
    println!(
        "test NDCG@10 {:.4} Recall@10 {:.4} (popularity NDCG@10 {:.4}) over {} users, recorded in {}",
        r.ndcg10(),
        r.model.recall_at(10).unwrap_or(0.0),
        r.popularity.ndcg_at(10).unwrap_or(0.0),
        r.model.queries,
        tiger_core::run::files::TEST_METRICS
    );
}

/// Runs `baseline sasrec`.
pub fn run_sasrec(args: SasRecArgs) -> anyhow::Result<()> {
    args.options
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid options: {e}"))?;
    let dataset = tiger_core::data::load(&args.data)?;
    let split = tiger_core::data::split(&dataset, args.options.k_core)?;
    let chosen = super::device(args.options.device);
    eprintln!(
        "device: {} | {} users, catalogue {} items",
        chosen.description,
        split.users.len(),
        dataset.items.len()
    );
    let pb = super::bar(args.options.steps as u64, "training SASRec");
    let start = std::time::Instant::now();
    let stop = super::interrupt::watch();
    let state = sasrec::train::train(
        &dataset,
        &split,
        &args.options,
        &args.out,
        &chosen.device,
        args.resume,
        &mut super::progress::observer(&pb, &stop),
    )
    .map_err(|e| interrupted(e, &args.out))?;
    pb.finish_and_clear();
    summary(&state, start.elapsed().as_secs_f64(), &chosen.description);
    let record = sasrec::train::test_sasrec(
        &args.out,
        &split,
        dataset.items.len(),
        &chosen.device,
        &chosen.description,
    )?;
    print_test(&record);
    println!("wrote {}", args.out.display());
    Ok(())
}
