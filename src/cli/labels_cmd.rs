//! `labels`: what a run's semantic IDs mean, for any RQ-VAE or TIGER run (also one made before
//! runs recorded it): every code's label and each level's coherence against random IDs of the same
//! shape, printed, and with `--write` written into the run folder (`code_labels.json`,
//! `coherence.json`).

use std::path::PathBuf;

use anyhow::{Context, bail};
use tiger_core::embeddings::store;
use tiger_core::ids::SemanticIds;
use tiger_core::ids::features::Features;
use tiger_core::run::hierarchy::Hierarchy;
use tiger_core::run::layout::{files, read_header};

/// Arguments of `labels`.
#[derive(clap::Args, Debug)]
pub struct LabelsArgs {
    /// RQ-VAE or TIGER run folder (anything with a `semantic_ids.csv`).
    #[arg(long)]
    run: PathBuf,
    /// Dataset folder [default: the one the run names].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Labels of codes at this level are printed (1 = first code).
    #[arg(long, default_value_t = 1)]
    level: usize,
    /// Write `code_labels.json` and `coherence.json` into the run folder.
    #[arg(long)]
    write: bool,
    /// Print one JSON object: the coherence of each level and the labels of the printed level.
    #[arg(long)]
    json: bool,
}

/// Runs `labels`.
pub fn run(args: LabelsArgs) -> anyhow::Result<()> {
    let header = read_header(&args.run).map_err(anyhow::Error::msg)?;
    let data = match args.data {
        Some(d) => d,
        None => header.find_data(&args.run).with_context(|| {
            format!(
                "{}: its dataset {} is not there; give it with --data",
                args.run.display(),
                header.data.display()
            )
        })?,
    };
    let dataset = tiger_core::data::load(&data)?;
    let catalogue: Vec<String> = dataset.items.iter().map(|i| i.id.clone()).collect();
    let ids = SemanticIds::read_csv(&args.run.join(files::SEMANTIC_IDS), &catalogue)?;
    if args.level == 0 || args.level > ids.levels {
        bail!(
            "--level {}: the IDs have levels 1 to {}",
            args.level,
            ids.levels
        );
    }
    let emb_path = data.join(super::quantize_cmd::DEFAULT_EMBEDDINGS);
    let emb = emb_path
        .is_file()
        .then(|| store::read(&emb_path))
        .transpose()?;
    let features = Features::from_texts(dataset.items.iter().map(|i| i.text.as_str()));
    let hierarchy = Hierarchy::compute(
        &ids,
        &features,
        emb.as_ref().map(|e| (e.data.as_slice(), e.dim)),
    );
    if args.write {
        hierarchy.write(&args.run, ids.levels)?;
    }
    let shown: Vec<_> = hierarchy
        .labels
        .sorted()
        .into_iter()
        .filter(|l| l.prefix.len() == args.level)
        .collect();
    if args.json {
        let value = serde_json::json!({
            "coherence": hierarchy.coherence,
            "labels": shown,
        });
        println!("{value}");
        return Ok(());
    }
    for c in &hierarchy.coherence {
        println!(
            "level {}: items sharing the prefix share {:.2} metadata values ({:.2} with random IDs, \
             {}){}",
            c.level,
            c.shared_features,
            c.random_shared_features,
            c.feature_lift()
                .map_or("-".into(), |l| format!("{l:.1}× chance")),
            c.cosine
                .zip(c.random_cosine)
                .map(|(s, r)| format!("; embedding cosine {s:.3} ({r:.3} random)"))
                .unwrap_or_default()
        );
    }
    for l in shown {
        let codes: Vec<String> = l.prefix.iter().map(u32::to_string).collect();
        println!(
            "({:>11}) {:>5} items  {}",
            codes.join(", "),
            l.items,
            l.text()
        );
    }
    if args.write {
        println!("wrote {} and {}", files::CODE_LABELS, files::COHERENCE);
    }
    Ok(())
}
