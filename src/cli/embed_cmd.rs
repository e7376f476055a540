//! `embed`: item texts → sentence embeddings file.

use std::path::PathBuf;

use anyhow::Context;
use tiger_core::device_choice::DeviceChoice;
use tiger_core::embeddings::store;
use tiger_models::embed::{Encoder, encode::DEFAULT_MODEL_DIR};

/// Arguments of `embed`.
#[derive(clap::Args, Debug)]
pub struct EmbedArgs {
    /// Dataset folder.
    #[arg(long)]
    data: PathBuf,
    /// Output file (.npy or .safetensors).
    #[arg(long)]
    out: PathBuf,
    /// Folder holding model.safetensors and tokenizer.json.
    #[arg(long, default_value = DEFAULT_MODEL_DIR)]
    model: PathBuf,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,
    /// Texts per batch.
    #[arg(long, default_value_t = 128)]
    batch: usize,
}

/// Runs `embed`.
pub fn run(args: EmbedArgs) -> anyhow::Result<()> {
    let dataset = tiger_core::data::load(&args.data)?;
    let chosen = super::device(args.device);
    eprintln!("device: {}", chosen.description);
    let encoder = Encoder::load(&args.model, &chosen.device)?;
    let texts: Vec<String> = dataset.items.iter().map(|i| i.text.clone()).collect();
    let pb = super::bar(texts.len() as u64, "embedding items");
    let start = std::time::Instant::now();
    let emb = encoder.embed_all(&texts, args.batch, &mut |done, _| {
        pb.set_position(done as u64);
        true
    })?;
    pb.finish();
    let secs = start.elapsed().as_secs_f64();
    store::write(&args.out, &emb).with_context(|| "writing embeddings")?;
    eprintln!(
        "wrote {} × {} embeddings to {} in {:.1} s ({:.0} items/s)",
        emb.rows,
        emb.dim,
        args.out.display(),
        secs,
        emb.rows as f64 / secs.max(1e-9)
    );
    Ok(())
}
