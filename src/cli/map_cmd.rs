//! `map`: the t-SNE map of a dataset's embeddings, written beside them so that the window shows it
//! at once (it computes one itself otherwise, in the background).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use tiger_core::embeddings::map_file::{tsne_file_name, write_map};
use tiger_core::embeddings::store;
use tiger_models::embed::tsne;

/// Arguments of `map`.
#[derive(clap::Args, Debug)]
pub struct MapArgs {
    /// Dataset folder (its `embeddings.npy` is mapped).
    #[arg(long)]
    data: PathBuf,
    /// Embeddings to map instead of DATA/embeddings.npy.
    #[arg(long)]
    embeddings: Option<PathBuf>,
    /// Where to write the map [default: beside the embeddings, as map_tsne-<hash>.npy, where the
    /// window looks for it].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `map`.
pub fn run(args: MapArgs) -> anyhow::Result<()> {
    let emb_path = args
        .embeddings
        .unwrap_or_else(|| args.data.join(super::quantize_cmd::DEFAULT_EMBEDDINGS));
    let emb = store::read(&emb_path)?;
    let out = args.out.unwrap_or_else(|| {
        emb_path
            .parent()
            .map_or_else(PathBuf::new, PathBuf::from)
            .join(tsne_file_name(&emb))
    });
    let pb = super::bar(tsne::EPOCHS as u64, "t-SNE map");
    let start = std::time::Instant::now();
    let points = tsne::project_2d(&emb, tsne::SEED, &AtomicBool::new(false), &mut |done, _| {
        pb.set_position(done as u64)
    })
    .with_context(|| {
        format!(
            "{}: {} items; a t-SNE map needs at least {}",
            emb_path.display(),
            emb.rows,
            tsne::MIN_ITEMS
        )
    })?;
    pb.finish_and_clear();
    write_map(&out, &points)?;
    println!(
        "wrote {} ({} points, {:.1} s)",
        out.display(),
        points.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
