//! The worker thread driven directly by commands: load, quantize, export IDs, and errors that name
//! the file.

use crate::support;

use std::time::{Duration, Instant};

use tiger_core::config::QuantizeOptions;
use tiger_core::device_choice::DeviceChoice;
use tiger_core::embeddings::{Embeddings, store};
use tiger_core::options::tiger::TigerOptions;
use tiger_core::run::RunKind;
use tiger_explorer::app::protocol::{Command, Event, Job};
use tiger_explorer::app::worker::WorkerHandle;

fn until(w: &WorkerHandle, secs: u64, mut stop: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut seen = Vec::new();
    while Instant::now() < end {
        if let Ok(e) = w.events.recv_timeout(Duration::from_millis(50)) {
            let done = stop(&e);
            seen.push(e);
            if done {
                return seen;
            }
        }
    }
    panic!("timed out; saw {seen:?}");
}

/// The tiny MovieLens folder with 8-wide embeddings.
fn tiny_embedded(name: &str) -> std::path::PathBuf {
    let data = support::tiny_movielens(name);
    let emb = Embeddings::new(
        6,
        8,
        (0..48).map(|i| ((i * 5 % 11) as f32) / 11.0).collect(),
    )
    .unwrap();
    store::write(&data.join("embeddings.npy"), &emb).unwrap();
    data
}

/// A 2 × 4-code RQ-VAE trained 20 steps on the CPU.
fn tiny_quantize() -> QuantizeOptions {
    QuantizeOptions {
        levels: 2,
        codebook_size: 4,
        latent_dim: 4,
        hidden_dims: vec![8],
        steps: 20,
        batch_size: 6,
        log_every: 10,
        kmeans_iters: 2,
        device: DeviceChoice::Cpu,
        ..Default::default()
    }
}

#[test]
fn quantize_then_export_csv_and_json() {
    let data = tiny_embedded("worker-export");
    let w = WorkerHandle::spawn(
        DeviceChoice::Cpu,
        support::temp_dir("worker-runs"),
        Box::new(|| {}),
    )
    .unwrap();
    assert!(w.send(Command::LoadDataset(data.clone())));
    until(&w, 30, |e| matches!(e, Event::DatasetLoaded(_)));
    assert!(w.send(Command::Quantize(tiny_quantize())));
    until(&w, 60, |e| matches!(e, Event::QuantRunShown(_)));
    for name in ["ids.csv", "ids.json"] {
        let path = data.join(name);
        assert!(w.send(Command::ExportIds(path.clone())));
        until(&w, 10, |e| matches!(e, Event::Exported(p) if *p == path));
        let text = std::fs::read_to_string(&path).unwrap();
        if name.ends_with(".json") {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v.as_array().unwrap().len(), 6);
            assert_eq!(v[0]["item_id"], "1");
            assert_eq!(v[0]["title"], "Toy Story (1995)");
            assert_eq!(v[0]["codes"].as_array().unwrap().len(), 2);
        } else {
            assert!(text.starts_with("item_id,c1,c2,collision\n1,"), "{text}");
            assert_eq!(text.lines().count(), 7);
        }
    }
}

#[test]
fn broken_dataset_error_names_the_file_and_line() {
    let data = support::dataset(
        "worker-broken",
        &[
            ("movies.csv", "movieId,title,genres\n1,A (1999),Drama\n"),
            (
                "ratings.csv",
                "userId,movieId,rating,timestamp\n1,1,4,soon\n",
            ),
        ],
    );
    let w = WorkerHandle::spawn(
        DeviceChoice::Cpu,
        support::temp_dir("worker-runs-2"),
        Box::new(|| {}),
    )
    .unwrap();
    assert!(w.send(Command::LoadDataset(data)));
    let seen = until(&w, 30, |e| matches!(e, Event::Error(_)));
    let Some(Event::Error(msg)) = seen.last() else {
        unreachable!()
    };
    assert!(
        msg.contains("ratings.csv: line 2") && msg.contains("timestamp"),
        "{msg}"
    );
    // Export before any quantize run is refused with a reason.
    assert!(w.send(Command::ExportIds(std::env::temp_dir().join("never.csv"))));
    let seen = until(&w, 10, |e| matches!(e, Event::Error(_)));
    let Some(Event::Error(msg)) = seen.last() else {
        unreachable!()
    };
    assert!(msg.contains("quantize first"), "{msg}");
}

#[test]
fn embed_writes_embeddings_and_reloads() {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2");
    let data = support::tiny_movielens("worker-embed");
    let w = WorkerHandle::spawn(
        DeviceChoice::Cpu,
        support::temp_dir("worker-runs-3"),
        Box::new(|| {}),
    )
    .unwrap();
    assert!(w.send(Command::LoadDataset(data.clone())));
    let seen = until(&w, 30, |e| matches!(e, Event::DatasetLoaded(_)));
    let Some(Event::DatasetLoaded(before)) = seen.last() else {
        unreachable!()
    };
    assert!(before.embeddings.is_none());
    assert!(w.send(Command::Embed(model)));
    let seen = until(&w, 120, |e| {
        matches!(e, Event::DatasetLoaded(_) | Event::Error(_))
    });
    let Some(Event::DatasetLoaded(after)) = seen.last() else {
        panic!("{seen:?}")
    };
    assert_eq!(after.embeddings.as_ref().map(|e| e.1), Some(384));
    let emb = store::read(&data.join("embeddings.npy")).unwrap();
    assert_eq!((emb.rows, emb.dim), (6, 384));
    assert!(seen.iter().any(|e| matches!(
        e,
        Event::Progress {
            done: 6,
            total: 6,
            ..
        }
    )));
}

#[test]
fn the_ablations_train_on_random_ids_and_score_exactly() {
    let data = tiny_embedded("worker-ablations");
    let w = WorkerHandle::spawn(
        DeviceChoice::Cpu,
        support::temp_dir("worker-runs-ablations"),
        Box::new(|| {}),
    )
    .unwrap();
    assert!(w.send(Command::LoadDataset(data)));
    until(&w, 30, |e| matches!(e, Event::DatasetLoaded(_)));
    assert!(w.send(Command::Quantize(tiny_quantize())));
    let seen = until(&w, 60, |e| matches!(e, Event::QuantRunShown(_)));
    let semantic = seen
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::IdsChanged(ids) => Some((**ids).clone()),
            _ => None,
        })
        .expect("the quantize run's IDs");

    let train = TigerOptions {
        encoder_layers: 1,
        decoder_layers: 1,
        d_model: 16,
        heads: 2,
        d_head: 8,
        d_ff: 32,
        steps: 6,
        batch_size: 4,
        eval_every: 3,
        log_every: 3,
        user_buckets: 0,
        random_ids: true,
        device: DeviceChoice::Cpu,
        ..Default::default()
    };
    assert!(w.send(Command::TrainTiger(train)));
    let seen = until(&w, 120, |e| {
        matches!(e, Event::Hierarchy(_) | Event::Error(_))
    });
    let named = |seen: &[Event], name: &str| {
        seen.iter()
            .any(|e| matches!(e, Event::TestMetrics { model, .. } if model == name))
    };
    assert!(named(&seen, "TIGER (random IDs)"), "{seen:?}");
    // The run's shuffled IDs become the current ones: the same set, moved between items.
    let random = seen
        .iter()
        .find_map(|e| match e {
            Event::IdsChanged(ids) => Some((**ids).clone()),
            _ => None,
        })
        .expect("the random IDs are shown");
    assert_eq!(random, semantic.shuffled(42));
    assert_ne!(random, semantic);
    assert!(
        seen.iter()
            .any(|e| matches!(e, Event::RunClosed(RunKind::Rqvae))),
        "the RQ-VAE run, whose IDs are no longer current, stays open: {seen:?}"
    );

    assert!(w.send(Command::CompareExact));
    let seen = until(&w, 120, |e| {
        matches!(e, Event::Finished(Job::ExactScoring, _) | Event::Error(_))
    });
    assert!(
        named(&seen, "TIGER (random IDs, exact scoring)"),
        "{seen:?}"
    );
    let Some(Event::Finished(_, text)) = seen.last() else {
        panic!("{seen:?}")
    };
    // Six items: the test beam (width 20) prunes nothing, so it already is exact.
    assert!(text.contains("for 100 % of"), "{text}");
}
