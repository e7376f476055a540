//! Catalogue scaling: quantize, assign semantic IDs, build the trie and run constrained beam search
//! for synthetic catalogues of growing size, recording time and memory per stage, so growth that
//! is worse than linear shows up in the numbers.

use std::time::Instant;

use serde::Serialize;

use super::{DevicePeak, host_rss_mib};
use tiger_core::config::QuantizeOptions;
use tiger_core::embeddings::synthetic::{XorShift, synthetic_embeddings};
use tiger_core::ids::SemanticIds;
use tiger_core::ids::Trie;
use tiger_core::ids::Vocab;
use tiger_core::options::tiger::TigerOptions;
use tiger_kernels::device::ChosenDevice;
use tiger_models::decode::{BeamConfig, search};
use tiger_models::tiger::scorer::ModelScorer;
use tiger_models::train::rqvae_loop::{self, Flow};
use tiger_models::train::tiger_loop::model_config;

/// Time and memory of every stage for one catalogue size.
#[derive(Debug, Clone, Serialize)]
pub struct ScalingRow {
    /// Items in the catalogue.
    pub items: usize,
    /// RQ-VAE training (fixed step count) plus the final code assignment of every item (s).
    pub quantize_s: f64,
    /// Collision tokens (s).
    pub assign_ids_s: f64,
    /// Prefix trie of all IDs (s).
    pub trie_s: f64,
    /// Trie nodes.
    pub trie_nodes: usize,
    /// Beam search for a batch of queries, per query (ms).
    pub beam_ms_per_query: f64,
    /// Resident host memory after the stages (MiB).
    pub host_rss_mib: Option<f64>,
    /// Peak device memory reserved (MiB).
    pub peak_device_mib: Option<f64>,
    /// Share of items whose 3-code prefix is unique.
    pub unique_prefix_pct: f64,
}

/// Runs the stages for `items` synthetic `dim`-wide embeddings: `steps` RQ-VAE steps with `q`'s
/// shapes, then beam search (width `beam`) for `queries` random 20-item histories with a TIGER
/// model of `t`'s shape.
#[allow(clippy::too_many_arguments)]
pub fn run(
    chosen: &ChosenDevice,
    items: usize,
    dim: usize,
    q: &QuantizeOptions,
    t: &TigerOptions,
    steps: usize,
    beam: usize,
    queries: usize,
) -> anyhow::Result<ScalingRow> {
    let device = &chosen.device;
    let emb = synthetic_embeddings(items, dim, items as u64);
    let opts = QuantizeOptions {
        steps,
        log_every: steps,
        ..q.clone()
    };
    let mut peak = DevicePeak::default();
    let t0 = Instant::now();
    let trained = rqvae_loop::train(&emb, &opts, device, &mut |_| {
        peak.sample(device);
        Flow::Continue
    })?;
    let quantize_s = t0.elapsed().as_secs_f64();
    drop(emb);
    let unique_prefix_pct = trained.stats.unique_prefix_pct;

    let t1 = Instant::now();
    let ids = SemanticIds::assign(trained.codes, opts.levels);
    let assign_ids_s = t1.elapsed().as_secs_f64();

    let t2 = Instant::now();
    let trie = Trie::build(&ids);
    let trie_s = t2.elapsed().as_secs_f64();

    let vocab = Vocab::for_ids(&ids, ids.codebook_size(), 0);
    let model = model_config(t, vocab.size()).init(device);
    let mut rng = XorShift::new(0x1234_5678_9abc_def1u64 ^ items as u64);
    let histories: Vec<Vec<u32>> = (0..queries)
        .map(|_| (0..20).map(|_| rng.below(items) as u32).collect())
        .collect();
    let config = BeamConfig {
        width: beam,
        constrained: true,
    };
    let run_beam = |hist: &[Vec<u32>]| {
        let h: Vec<(&[u32], Option<u32>)> = hist.iter().map(|h| (h.as_slice(), None)).collect();
        let mut scorer = ModelScorer::new(&model, &vocab, &ids, &h, device);
        search(&mut scorer, &trie, hist.len(), config, &mut |_| {})
    };
    // Warm-up with the same batch shape (kernel compilation and autotune happen here).
    run_beam(&histories);
    let t3 = Instant::now();
    let hyps = run_beam(&histories);
    let beam_ms_per_query = t3.elapsed().as_secs_f64() * 1000.0 / queries.max(1) as f64;
    if hyps.iter().any(|h| h.is_empty()) {
        anyhow::bail!("beam search returned no hypothesis for some query");
    }
    peak.sample(device);
    Ok(ScalingRow {
        items,
        quantize_s,
        assign_ids_s,
        trie_s,
        trie_nodes: trie.len(),
        beam_ms_per_query,
        host_rss_mib: host_rss_mib(),
        peak_device_mib: peak.mib(),
        unique_prefix_pct,
    })
}
