//! Subcommands: `gui` (the default), `info`, `embed`, `quantize`, `train`, `eval`, `recommend`,
//! `baseline`, `pack`, `map`, `labels`, `devices`.

mod embed_cmd;
mod eval_cmd;
mod gui_cmd;
mod interrupt;
mod labels_cmd;
mod map_cmd;
mod pack_cmd;
mod progress;
mod quantize_cmd;
mod recommend_cmd;
mod train_cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

/// TIGER generative retrieval, made visible.
#[derive(Parser, Debug)]
#[command(name = "tiger-explorer", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Open the desktop window (the default).
    Gui(gui_cmd::GuiArgs),
    /// Load a dataset and print its counts before and after k-core filtering.
    Info {
        /// Dataset folder (MovieLens, RecBole atomic files, or items.csv + interactions.csv).
        #[arg(long)]
        data: PathBuf,
        /// k of the k-core filter.
        #[arg(long, default_value_t = 5)]
        k: usize,
        /// Print as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Embed every item's text with all-MiniLM-L6-v2 and write an .npy or .safetensors file.
    Embed(embed_cmd::EmbedArgs),
    /// Train the RQ-VAE on item embeddings and write semantic IDs, statistics and weights.
    Quantize(quantize_cmd::QuantizeArgs),
    /// Train the generative recommender (T5-style) on users' histories of semantic IDs.
    Train(train_cmd::TrainArgs),
    /// Recall@5/10 and NDCG@5/10 of a trained run (TIGER or SASRec) on validation or test, as JSON.
    Eval(eval_cmd::EvalArgs),
    /// Recommend the next items for a typed history with constrained beam search.
    Recommend(recommend_cmd::RecommendArgs),
    /// Baselines on the same split: `sasrec` (trained) or `popularity`.
    #[command(subcommand)]
    Baseline(Baseline),
    /// List the graphics adapters and the device `--device auto` would compute on.
    Devices {
        /// Print as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Copy a TIGER or SASRec run for sharing: best weights in half precision, no optimiser state
    /// or resumable checkpoint, test metrics of the packed weights recorded again.
    Pack(pack_cmd::PackArgs),
    /// Compute the t-SNE map of a dataset's embeddings and write it beside them (the window shows
    /// it at once; otherwise it computes one in the background).
    Map(map_cmd::MapArgs),
    /// What a run's semantic IDs mean: every code's label and each level's coherence against
    /// random IDs of the same shape (`--write` stores them in the run folder).
    Labels(labels_cmd::LabelsArgs),
}

#[derive(Subcommand, Debug)]
enum Baseline {
    /// Train SASRec (self-attentive sequential recommendation over item ids).
    Sasrec(train_cmd::SasRecArgs),
    /// Most popular training items, the same for everyone.
    Popularity(eval_cmd::PopularityArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    // The kernel choice this thread computes with, and hands to the window's worker.
    tiger_kernels::Kernels::from_env()
        .map_err(anyhow::Error::msg)?
        .install();
    match cli.command {
        None => gui_cmd::run(gui_cmd::GuiArgs::default()),
        Some(Command::Gui(args)) => gui_cmd::run(args),
        Some(Command::Info { data, k, json }) => info(&data, k, json),
        Some(Command::Embed(args)) => embed_cmd::run(args),
        Some(Command::Quantize(args)) => quantize_cmd::run(args),
        Some(Command::Train(args)) => train_cmd::run(args),
        Some(Command::Eval(args)) => eval_cmd::run(args),
        Some(Command::Recommend(args)) => recommend_cmd::run(args),
        Some(Command::Baseline(Baseline::Sasrec(args))) => train_cmd::run_sasrec(args),
        Some(Command::Baseline(Baseline::Popularity(args))) => eval_cmd::run_popularity(args),
        Some(Command::Devices { json }) => devices(json),
        Some(Command::Pack(args)) => pack_cmd::run(args),
        Some(Command::Map(args)) => map_cmd::run(args),
        Some(Command::Labels(args)) => labels_cmd::run(args),
    }
}

fn info(dir: &std::path::Path, k: usize, json: bool) -> anyhow::Result<()> {
    let dataset = tiger_core::data::load(dir)?;
    let split = tiger_core::data::split(&dataset, k)?;
    let value = serde_json::json!({
        "format": dataset.format,
        "items": dataset.items.len(),
        "users": dataset.users.len(),
        "interactions": dataset.interactions.len(),
        "k_core": k,
        "users_after_k_core": split.users.len(),
        "items_after_k_core": split.items,
        "interactions_after_k_core": split.interactions,
    });
    if json {
        println!("{value}");
    } else {
        println!("{}", serde_json::to_string_pretty(&value)?);
        if let Some(item) = dataset.items.first() {
            println!("first item text: {}", item.text);
        }
    }
    Ok(())
}

fn devices(json: bool) -> anyhow::Result<()> {
    use tiger_core::device_choice::DeviceChoice;
    use tiger_kernels::device::{adapters, resolve};
    let found = adapters();
    let (auto, why) = resolve(DeviceChoice::Auto, &found);
    let pick = (auto == DeviceChoice::Gpu)
        .then(|| found.iter().find(|a| !a.software).map(|a| a.name.clone()))
        .flatten();
    if json {
        let value = serde_json::json!({
            "adapters": found,
            "auto": {
                "backend": if auto == DeviceChoice::Gpu { "gpu" } else { "cpu" },
                "adapter": pick,
                "reason": why,
            },
        });
        println!("{value}");
        return Ok(());
    }
    if found.is_empty() {
        println!("no graphics adapter found");
    }
    for a in &found {
        println!(
            "{:<40} {:<7} {:<14} {}{}",
            a.name,
            a.backend,
            a.device_type,
            a.driver,
            if a.software { "  (software)" } else { "" }
        );
    }
    match (auto, pick) {
        (DeviceChoice::Gpu, Some(name)) => println!("--device auto computes on the GPU: {name}"),
        _ => println!(
            "--device auto computes on the CPU backend: {}",
            why.unwrap_or_default()
        ),
    }
    Ok(())
}

/// Initialises the requested device once and says on stderr when another one computes.
pub(crate) fn device(
    choice: tiger_core::device_choice::DeviceChoice,
) -> tiger_kernels::device::ChosenDevice {
    tiger_kernels::device::choose_reporting(choice)
}

/// A progress bar on stderr with the given length and message.
pub(crate) fn bar(len: u64, message: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:30} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(message.to_string());
    pb
}
