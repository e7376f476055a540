//! Subcommands: `info`, `embed`, `quantize`.

mod embed_cmd;
mod quantize_cmd;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};
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
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => {
            Cli::command().print_help()?;
            println!();
            Ok(())
        }
        Some(Command::Info { data, k, json }) => info(&data, k, json),
        Some(Command::Embed(args)) => embed_cmd::run(args),
        Some(Command::Quantize(args)) => quantize_cmd::run(args),
    }
}

fn info(dir: &std::path::Path, k: usize, json: bool) -> anyhow::Result<()> {
    let dataset = tiger_explorer::data::load(dir)?;
    let split = tiger_explorer::data::split(&dataset, k)?;
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
