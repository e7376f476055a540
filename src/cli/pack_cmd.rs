//! `pack`: a run folder copied for sharing, with half-precision weights.

use std::path::PathBuf;

use tiger_core::device_choice::DeviceChoice;

/// Arguments of `pack`.
#[derive(clap::Args, Debug)]
pub struct PackArgs {
    /// Run folder to pack (RQ-VAE, TIGER or SASRec).
    #[arg(long)]
    run: PathBuf,
    /// New folder to write.
    #[arg(long)]
    out: PathBuf,
    /// Leave an RQ-VAE run's weights behind: keep its IDs, statistics and curves (all the window
    /// shows of it).
    #[arg(long)]
    no_weights: bool,
    /// Device that evaluates the packed recommender again.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
}

/// Runs `pack`.
pub fn run(args: PackArgs) -> anyhow::Result<()> {
    let chosen = super::device(args.device);
    let record = tiger_models::run::pack::pack_run(
        &args.run,
        &args.out,
        !args.no_weights,
        &chosen.device,
        &chosen.description,
    )
    .map_err(anyhow::Error::msg)?;
    if let Some(r) = record {
        println!(
            "packed weights: test NDCG@10 {:.4}, Recall@10 {:.4} on {}",
            r.ndcg10(),
            r.model.recall_at(10).unwrap_or(0.0),
            chosen.description
        );
    }
    println!("wrote {}", args.out.display());
    Ok(())
}
