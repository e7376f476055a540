//! Inference speed: constrained beam search (single-query latency and full-evaluation throughput)
//! with TIGER's model at its training shape, and embedding throughput of the bundled encoder.

use std::path::Path;
use std::time::Instant;

use super::{BenchResult, DevicePeak, peak_host_mib};
use burn::prelude::Device;
use tiger_core::data::samples::{Part, Sample, samples};
use tiger_core::ids::Vocab;
use tiger_core::options::tiger::TigerOptions;
use tiger_core::rec_data::RecData;
use tiger_kernels::device::ChosenDevice;
use tiger_models::decode::beam::BeamConfig;
use tiger_models::decode::search;
use tiger_models::tiger::Tiger;
use tiger_models::tiger::evaluate::{evaluate, recommend};
use tiger_models::tiger::scorer::ModelScorer;
use tiger_models::train::tiger_loop::model_config;

/// Shortest warm-up of the single-query benchmark.
const WARM_UP: std::time::Duration = std::time::Duration::from_millis(500);

/// A freshly initialised TIGER model of `opts`' shape for `data` (beam-search cost depends on the
/// shapes, not on the weights) and its vocabulary.
pub fn model_for(chosen: &ChosenDevice, data: &RecData, opts: &TigerOptions) -> (Tiger, Vocab) {
    let vocab = Vocab::for_ids(&data.ids, data.ids.codebook_size(), opts.user_buckets);
    let model = model_config(opts, vocab.size()).init(&chosen.device);
    (model, vocab)
}

/// Single-query latency: beam search (width `beam`, constrained to real IDs) for `queries` test
/// histories one at a time, after warm-up queries (at least 3 and at least [`WARM_UP`]: kernel
/// compilation, and the GPU's clocks, which rise under load); the median in ms.
pub fn beam_latency(
    chosen: &ChosenDevice,
    data: &RecData,
    opts: &TigerOptions,
    beam: usize,
    queries: usize,
) -> anyhow::Result<BenchResult> {
    let (model, vocab) = model_for(chosen, data, opts);
    let test = samples(&data.split, Part::Test, opts.max_history);
    if test.is_empty() {
        anyhow::bail!("the dataset has no test users");
    }
    let config = BeamConfig {
        width: beam,
        constrained: true,
    };
    let queries = queries.max(1);
    let mut times = Vec::with_capacity(queries);
    let mut peak = DevicePeak::default();
    let query = |history: &[u32]| {
        recommend(
            &model,
            &vocab,
            data,
            history,
            config,
            &chosen.device,
            &mut |_| {},
        )
    };
    let warm_start = Instant::now();
    let mut warm = 0;
    while warm < 3 || warm_start.elapsed() < WARM_UP {
        query(&test[warm % test.len()].history);
        warm += 1;
    }
    for q in 0..queries {
        let s = &test[q % test.len()];
        let t = Instant::now();
        let hyps = query(&s.history);
        if hyps.is_empty() {
            anyhow::bail!("beam search returned nothing for test user {}", s.user);
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        peak.sample(&chosen.device);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let (encode_ms, search_ms) =
        beam_phases(&model, &vocab, data, &test, config, queries, &chosen.device)?;
    Ok(BenchResult {
        workload: "beam".into(),
        device: chosen.description.clone(),
        rate: 1000.0 / median,
        unit: "queries/s".into(),
        first_step_s: None,
        latency_ms: Some(median),
        peak_device_mib: peak.mib(),
        peak_host_mib: peak_host_mib(),
        shape: format!(
            "one history at a time, beam {beam}, constrained, full IDs ({} tokens), {queries} queries, {} items; \
             phases (medians, a device sync between them): encode {encode_ms:.2} ms, decoding steps {search_ms:.2} ms",
            vocab.id_len(),
            data.ids.len()
        ),
    })
}

/// Where a single query's time goes: the median milliseconds of encoding its history (with the
/// cross-attention keys and values, up to a device sync) and of the decoding steps that follow,
/// over `queries` test histories. A separate pass, as the sync removes the overlap between them.
fn beam_phases(
    model: &Tiger,
    vocab: &Vocab,
    data: &RecData,
    test: &[Sample],
    config: BeamConfig,
    queries: usize,
    device: &Device,
) -> anyhow::Result<(f64, f64)> {
    let mut encode = Vec::with_capacity(queries);
    let mut steps = Vec::with_capacity(queries);
    for s in test.iter().cycle().take(queries.max(1)) {
        let t = Instant::now();
        let hist: Vec<(&[u32], Option<u32>)> = vec![(s.history.as_slice(), None)];
        let mut scorer = ModelScorer::new(model, vocab, &data.ids, &hist, device);
        device
            .sync()
            .map_err(|e| anyhow::anyhow!("device sync failed: {e}"))?;
        encode.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let hyps = search(&mut scorer, &data.trie, 1, config, &mut |_| {});
        if hyps.first().is_none_or(Vec::is_empty) {
            anyhow::bail!("beam search returned nothing for test user {}", s.user);
        }
        steps.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Ok((median(&mut encode), median(&mut steps)))
}

/// Full evaluation throughput: leave-one-out test ranking for `users` histories (the dataset's test
/// users, repeated to reach `users`), batched as the evaluator batches them.
pub fn eval_throughput(
    chosen: &ChosenDevice,
    data: &RecData,
    opts: &TigerOptions,
    beam: usize,
    users: usize,
) -> anyhow::Result<BenchResult> {
    let (model, vocab) = model_for(chosen, data, opts);
    let test = samples(&data.split, Part::Test, opts.max_history);
    if test.is_empty() {
        anyhow::bail!("the dataset has no test users");
    }
    let picked: Vec<Sample> = test.iter().cycle().take(users).cloned().collect();
    let config = BeamConfig {
        width: beam,
        constrained: true,
    };
    // Warm-up (kernel compilation and autotune are per shape): one full evaluation chunk and one
    // of the size of the timed run's last chunk, so the timed run meets no new shape.
    let ks = [beam.min(10)];
    let full = users.min(tiger_models::tiger::evaluate::EVAL_CHUNK);
    let tail = users % tiger_models::tiger::evaluate::EVAL_CHUNK;
    for n in [full, tail] {
        if n == 0 {
            continue;
        }
        let warm: Vec<Sample> = picked.iter().take(n).cloned().collect();
        let _ = evaluate(
            &model,
            &vocab,
            data,
            &warm,
            config,
            &ks,
            &chosen.device,
            &|| false,
        );
    }
    let mut peak = DevicePeak::default();
    let t = Instant::now();
    let result = evaluate(
        &model,
        &vocab,
        data,
        &picked,
        config,
        &ks,
        &chosen.device,
        &|| false,
    )
    .ok_or_else(|| anyhow::anyhow!("evaluation was cancelled"))?;
    let secs = t.elapsed().as_secs_f64();
    peak.sample(&chosen.device);
    Ok(BenchResult {
        workload: "eval".into(),
        device: chosen.description.clone(),
        rate: users as f64 / secs,
        unit: "users/s".into(),
        first_step_s: None,
        latency_ms: Some(secs * 1000.0),
        peak_device_mib: peak.mib(),
        peak_host_mib: peak_host_mib(),
        shape: format!(
            "{users} test histories, beam {beam}, constrained; latency = whole evaluation ({} invalid)",
            result.invalid_share
        ),
    })
}

/// Embedding throughput of the bundled encoder over `texts` (batch `batch`), after one warm-up
/// batch.
pub fn embed(
    chosen: &ChosenDevice,
    model_dir: &Path,
    texts: &[String],
    batch: usize,
) -> anyhow::Result<BenchResult> {
    let encoder = tiger_models::embed::encode::Encoder::load(model_dir, &chosen.device)?;
    let warm: Vec<&str> = texts.iter().take(batch).map(String::as_str).collect();
    encoder.embed_batch(&warm)?;
    let mut peak = DevicePeak::default();
    let t = Instant::now();
    let emb = encoder.embed_all(texts, batch, &mut |_, _| {
        peak.sample(&chosen.device);
        true
    })?;
    let secs = t.elapsed().as_secs_f64();
    if emb.data.iter().any(|v| !v.is_finite()) {
        anyhow::bail!("the encoder produced non-finite values");
    }
    Ok(BenchResult {
        workload: "embed".into(),
        device: chosen.description.clone(),
        rate: texts.len() as f64 / secs,
        unit: "items/s".into(),
        first_step_s: None,
        latency_ms: None,
        peak_device_mib: peak.mib(),
        peak_host_mib: peak_host_mib(),
        shape: format!(
            "all-MiniLM-L6-v2, {} item texts, batch {batch}, dim {}",
            texts.len(),
            emb.dim
        ),
    })
}
