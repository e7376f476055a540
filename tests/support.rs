//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tiger_core::data::{self, Dataset, Interaction, Item};
use tiger_core::ids::SemanticIds;
use tiger_core::rec_data::RecData;

/// Held by every test that draws random numbers on a device (initialises a model, makes a random
/// tensor, trains): burn's devices draw from one generator per process, so a test that seeds it
/// and compares runs must not have another test draw in between.
///
/// It also starts burn-wgpu first, with the product's options: burn puts a loaded optimiser state on
/// its default device, which is wgpu's when compiled in, and a test that loaded one on the CPU
/// before any GPU test ran would otherwise claim wgpu with burn's defaults for the whole process.
pub fn device_rng() -> std::sync::MutexGuard<'static, ()> {
    static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _ = gpu();
    RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fresh empty folder under the system temp dir, unique to this test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tiger-test-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `files` (name, content) into a fresh folder and returns it.
pub fn dataset(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = temp_dir(name);
    for (file, content) in files {
        std::fs::write(dir.join(file), content).unwrap();
    }
    dir
}

/// The bundled sample dataset.
pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/ml-latest-small")
}

/// A small MovieLens folder: 6 movies, 6 users, each user rating 5 movies.
pub fn tiny_movielens(name: &str) -> PathBuf {
    let movies = "movieId,title,genres\n\
        1,Toy Story (1995),Adventure|Animation\n\
        2,\"American President, The (1995)\",Comedy|Drama|Romance\n\
        3,Heat (1995),Action|Crime\n\
        4,Casino (1995),Crime|Drama\n\
        5,Sabrina (1995),Comedy|Romance\n\
        6,Unrated (2000),(no genres listed)\n";
    let mut ratings = String::from("userId,movieId,rating,timestamp\n");
    for u in 1..=6 {
        for m in 1..=5 {
            // Two ties per user (same timestamp) to check that file order is kept.
            let ts = 1000 + m.min(4);
            ratings.push_str(&format!("{u},{m},4.0,{ts}\n"));
        }
    }
    ratings.push_str("1,6,3.0,900\n");
    let tags = "userId,movieId,tag,timestamp\n1,1,pixar,1\n2,1,Pixar,2\n3,1,toys,3\n";
    dataset(
        name,
        &[
            ("movies.csv", movies),
            ("ratings.csv", &ratings),
            ("tags.csv", tags),
        ],
    )
}

/// 8 items; user u watches u, u+1, …, u+7 (mod 8): the next item is always the last one + 1.
pub fn cyclic() -> RecData {
    let n = 8u32;
    let items = (0..n)
        .map(|i| Item {
            id: format!("m{i}"),
            title: format!("Movie {i}"),
            text: format!("movie {i}"),
        })
        .collect();
    let mut interactions = Vec::new();
    for u in 0..n {
        for t in 0..8u32 {
            interactions.push(Interaction {
                user: u,
                item: (u + t) % n,
                timestamp: t as f64,
            });
        }
    }
    let dataset = Dataset {
        items,
        users: (0..n).map(|u| format!("u{u}")).collect(),
        interactions,
        ..Default::default()
    };
    let split = data::split(&dataset, 1).unwrap();
    // Two levels of 4 codes; items 0/1 and 4/5 collide on their codes.
    let ids = SemanticIds::assign(vec![0, 1, 0, 1, 1, 2, 2, 3, 3, 0, 3, 0, 1, 1, 2, 2], 2);
    RecData::new(dataset, split, ids)
}

/// The built `tiger-explorer` binary.
pub fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_tiger-explorer"))
}

/// Runs `cmd`, asserts success and returns its standard output.
pub fn ok(cmd: &mut std::process::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The app on `data` (CPU worker, checkpoints under `runs`) in a headless kittest harness.
pub fn harness(
    data: PathBuf,
    runs: PathBuf,
) -> egui_kittest::Harness<'static, tiger_explorer::app::TigerApp> {
    harness_opening(data, runs, Vec::new())
}

/// The app on `data` that opens the run folders `open` at start (CPU worker, checkpoints under
/// `runs`), in a headless kittest harness.
pub fn harness_opening(
    data: PathBuf,
    runs: PathBuf,
    open: Vec<PathBuf>,
) -> egui_kittest::Harness<'static, tiger_explorer::app::TigerApp> {
    use tiger_explorer::app::{AppConfig, TigerApp};
    let app = TigerApp::new(
        AppConfig {
            data,
            device: tiger_core::device_choice::DeviceChoice::Cpu.into(),
            runs,
            open,
            listed: Vec::new(),
        },
        egui::Context::default(),
    );
    egui_kittest::Harness::builder()
        .with_size([1280.0, 900.0])
        .build_ui_state(|ui, app: &mut TigerApp| app.show(ui), app)
}

/// Steps frames until `done` holds or `secs` pass; whether it held.
pub fn wait(
    h: &mut egui_kittest::Harness<'static, tiger_explorer::app::TigerApp>,
    secs: u64,
    done: impl Fn(&tiger_explorer::app::TigerApp) -> bool,
) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        h.step();
        if done(h.state()) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    false
}

/// A tiny TIGER model (1 + 1 layers, d 32, no dropout) trained for `steps` on the CPU.
pub fn tiny_tiger(steps: usize) -> tiger_core::options::tiger::TigerOptions {
    tiger_core::options::tiger::TigerOptions {
        encoder_layers: 1,
        decoder_layers: 1,
        d_model: 32,
        heads: 2,
        d_head: 16,
        d_ff: 64,
        dropout: 0.0,
        max_history: 3,
        user_buckets: 0,
        steps,
        batch_size: 16,
        lr: 5e-3,
        warmup_steps: 10,
        eval_every: 1000,
        beam: 8,
        log_every: 50,
        device: tiger_core::device_choice::DeviceChoice::Cpu,
        ..Default::default()
    }
}

/// A tiny SASRec (one block, d 32, no dropout) trained for `steps` on the CPU, validating every
/// 100 steps.
pub fn tiny_sasrec(steps: usize) -> tiger_core::options::sasrec::SasRecOptions {
    tiger_core::options::sasrec::SasRecOptions {
        d_model: 32,
        blocks: 1,
        max_len: 3,
        dropout: 0.0,
        steps,
        batch_size: 8,
        lr: 5e-3,
        eval_every: 100,
        device: tiger_core::device_choice::DeviceChoice::Cpu,
        ..Default::default()
    }
}

/// A tiny RQ-VAE on the CPU (2 levels × 4 codes), for runs that only need some semantic IDs.
pub const QUANTIZE: &[&str] = &[
    "quantize",
    "--device",
    "cpu",
    "--batch-size",
    "6",
    "--levels",
    "2",
    "--codebook-size",
    "4",
    "--latent-dim",
    "4",
    "--hidden-dims",
    "8",
    "--kmeans-iters",
    "2",
    "--log-every",
    "50",
];

/// A tiny MovieLens folder with 8-wide embeddings (`embeddings.npy`).
pub fn tiny_embedded(name: &str) -> PathBuf {
    let data = tiny_movielens(name);
    let emb = tiger_core::embeddings::Embeddings::new(
        6,
        8,
        (0..48).map(|i| ((i * 7 % 13) as f32) / 13.0).collect(),
    )
    .unwrap();
    tiger_core::embeddings::store::write(&data.join("embeddings.npy"), &emb).unwrap();
    data
}

/// A tiny MovieLens folder with 8-wide embeddings and its quantize run (`DIR/q`): `(DIR, DIR/q)`.
pub fn tiny_quantized(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = tiny_embedded(name);
    let q = data.join("q");
    ok(bin()
        .args(QUANTIZE)
        .args(["--steps", "20", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&q));
    (data, q)
}

/// The smallest T5 shape the CLI tests train: 1 + 1 layers, width 16, 2 heads × 8, FFN 32.
pub const TINY_T5_SHAPE: &[&str] = &[
    "--encoder-layers",
    "1",
    "--decoder-layers",
    "1",
    "--d-model",
    "16",
    "--heads",
    "2",
    "--d-head",
    "8",
    "--d-ff",
    "32",
];

/// The burn-wgpu device, or `None` (with a note) when no adapter exists; panics instead when
/// `TIGER_REQUIRE_WGPU` is set, as in CI, so that the GPU path cannot be skipped there. burn-wgpu
/// starts once per process, so every test of a binary shares the device made by the first.
pub fn gpu_or_skip() -> Option<burn::prelude::Device> {
    match gpu() {
        Ok(device) => Some(device.clone()),
        Err(why) if std::env::var("TIGER_REQUIRE_WGPU").is_ok() => {
            panic!("TIGER_REQUIRE_WGPU is set but: {why}")
        }
        Err(why) => {
            eprintln!("skipping the wgpu test: {why}");
            None
        }
    }
}

/// The process's burn-wgpu device, started on first use, or why there is none.
fn gpu() -> &'static Result<burn::prelude::Device, String> {
    static GPU: std::sync::OnceLock<Result<burn::prelude::Device, String>> =
        std::sync::OnceLock::new();
    GPU.get_or_init(|| {
        let chosen = tiger_kernels::device::choose(tiger_core::device_choice::DeviceChoice::Gpu);
        match chosen.fallback {
            Some(why) => Err(why),
            None => {
                eprintln!("wgpu device: {}", chosen.description);
                Ok(chosen.device)
            }
        }
    })
}

/// Asserts that `a` and `b` have the same shape and finite values within `tol` times the largest
/// magnitude of `b`, printing the largest difference (`what` names the comparison).
pub fn close<const D: usize>(
    a: &burn::prelude::Tensor<D>,
    b: &burn::prelude::Tensor<D>,
    tol: f32,
    what: &str,
) {
    assert_eq!(a.dims(), b.dims(), "{what}: shapes");
    let a = a.to_data().try_to_vec::<f32>().unwrap();
    let b = b.to_data().try_to_vec::<f32>().unwrap();
    let scale = b.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-6);
    let worst = a
        .iter()
        .zip(&b)
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    println!("{what}: max |diff| {worst:.3e} (scale {scale:.3e})");
    assert!(a.iter().all(|x| x.is_finite()), "{what}: non-finite values");
    assert!(
        worst <= tol * scale,
        "{what}: max |diff| {worst} > {tol} × {scale}"
    );
}

/// A tiny dataset with runs made by the command line on the CPU: an RQ-VAE run `q`, a TIGER run
/// `tiger` trained on its IDs and a SASRec run `sasrec`: `(DIR, DIR/q, DIR/tiger, DIR/sasrec)`.
pub fn three_runs(name: &str) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let (data, q) = tiny_quantized(name);
    let tiger = data.join("tiger");
    ok(bin()
        .args(["train", "--data"])
        .arg(&data)
        .arg("--ids")
        .arg(q.join("semantic_ids.csv"))
        .arg("--out")
        .arg(&tiger)
        .args(["--device", "cpu", "--steps", "12", "--batch-size", "4"])
        .args([
            "--eval-every",
            "6",
            "--log-every",
            "6",
            "--user-buckets",
            "10",
        ])
        .args(TINY_T5_SHAPE));
    let sasrec = data.join("sasrec");
    ok(bin()
        .args([
            "baseline",
            "sasrec",
            "--device",
            "cpu",
            "--steps",
            "8",
            "--eval-every",
            "4",
        ])
        .args([
            "--d-model",
            "8",
            "--batch-size",
            "4",
            "--max-len",
            "4",
            "--data",
        ])
        .arg(&data)
        .arg("--out")
        .arg(&sasrec));
    (data, q, tiger, sasrec)
}

/// Whether two JSON values are equal but for floats, which may differ in their last bits (a
/// value read back from JSON text is parsed to within one unit in the last place).
pub fn json_close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
            }
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_close(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_close(v, w)))
        }
        _ => a == b,
    }
}

/// `train` on the CPU of a tiny TIGER over `data` with the IDs of the quantize run `q`, into `run`:
/// batches of 4, the loss logged every step, a validation every `eval_every` steps.
pub fn tiny_train(
    data: &Path,
    q: &Path,
    run: &Path,
    steps: &str,
    eval_every: usize,
) -> std::process::Command {
    let mut c = bin();
    c.args(["train", "--device", "cpu", "--data"])
        .arg(data)
        .arg("--ids")
        .arg(q.join("semantic_ids.csv"))
        .arg("--out")
        .arg(run)
        .args(["--steps", steps, "--batch-size", "4", "--eval-every"])
        .arg(eval_every.to_string())
        .args(["--log-every", "1", "--user-buckets", "10"])
        .args(TINY_T5_SHAPE);
    c
}

/// The `k` items of `recommend`'s printed top list (`rec`, its standard output) as `(line, item
/// index)`, each checked to show the ID the run's `semantic_ids.csv` gives it (2 code levels);
/// returns the lines, the items and the run's IDs.
pub fn recommended_items(
    rec: &str,
    k: usize,
    data: &Path,
    run: &Path,
) -> (Vec<(String, usize)>, Dataset, SemanticIds) {
    let dataset = data::load(data).unwrap();
    let catalogue: Vec<String> = dataset.items.iter().map(|i| i.id.clone()).collect();
    let ids = SemanticIds::read_csv(&run.join("semantic_ids.csv"), &catalogue).unwrap();
    let header = format!("top {k}:");
    let top: Vec<(String, usize)> = rec
        .lines()
        .skip_while(|l| *l != header)
        .skip(1)
        .take(k)
        .map(|line| {
            let item = (0..dataset.items.len())
                .filter(|&i| line.contains(&format!(". {} ", dataset.items[i].title)))
                .max_by_key(|&i| dataset.items[i].title.len())
                .unwrap_or_else(|| panic!("no catalogue title in {line:?}"));
            let c = ids.codes_of(item);
            let id = format!("({}, {}, #{})", c[0], c[1], ids.collision[item]);
            assert!(line.contains(&id), "{line:?} should show {id}");
            (line.to_string(), item)
        })
        .collect();
    assert_eq!(top.len(), k, "{rec}");
    (top, dataset, ids)
}

/// The bundled TIGER run on `device` with the sample it was trained on (its own IDs).
pub fn bundled_tiger(
    device: &burn::prelude::Device,
) -> (
    tiger_core::run::tiger_config::TigerRunConfig,
    tiger_models::tiger::Tiger,
    RecData,
) {
    let run = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/ml-latest-small/tiger");
    let (cfg, model) = tiger_models::train::tiger_loop::load_run(&run, device).unwrap();
    let data = RecData::load(
        &sample_dir(),
        &run.join("semantic_ids.csv"),
        cfg.options.k_core,
    )
    .unwrap();
    (cfg, model, data)
}
