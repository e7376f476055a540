//! The burn MiniLM encoder against an independent numpy forward pass
//! (scripts/reference_embedding.py) and a semantic sanity check. Needs the model:
//! scripts/fetch-model.sh.

use crate::support;

use std::path::Path;

use burn::prelude::*;
use tiger_models::embed::{EncodeError, Encoder};

fn model_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2")
}

fn encoder() -> Encoder {
    Encoder::load(&model_dir(), &Device::flex())
        .unwrap_or_else(|e| panic!("{e} (run scripts/fetch-model.sh first)"))
}

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn matches_independent_reference_to_1e_4() {
    let _rng = support::device_rng();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/minilm_reference.json"),
    )
    .unwrap();
    let refs: serde_json::Value = serde_json::from_str(&text).unwrap();
    let enc = encoder();
    let refs = refs.as_array().unwrap();
    let texts: Vec<&str> = refs.iter().map(|r| r["text"].as_str().unwrap()).collect();
    // Embedded together: the shorter sentence is padded, so PAD masking is exercised too.
    let out = enc.embed_batch(&texts).unwrap();
    for (i, r) in refs.iter().enumerate() {
        let expect: Vec<f32> = r["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let got = &out[i * 384..(i + 1) * 384];
        let max_err = got
            .iter()
            .zip(&expect)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max_err < 1e-4, "sentence {i}: max abs error {max_err}");
        let norm: f32 = got.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
    }
}

#[test]
fn similar_meanings_are_closer() {
    let _rng = support::device_rng();
    let enc = encoder();
    let e = enc
        .embed_batch(&["running shoes", "sneakers", "lipstick"])
        .unwrap();
    let (a, b, c) = (&e[..384], &e[384..768], &e[768..]);
    assert!(
        cos(a, b) > cos(a, c),
        "cos(shoes,sneakers)={} cos(shoes,lipstick)={}",
        cos(a, b),
        cos(a, c)
    );
}

#[test]
fn missing_model_names_the_file() {
    let _rng = support::device_rng();
    let err = match Encoder::load(Path::new("/nonexistent/model"), &Device::flex()) {
        Err(e) => e,
        Ok(_) => panic!("loaded a model from nowhere"),
    };
    assert!(matches!(err, EncodeError::Model(_)));
    let msg = err.to_string();
    assert!(
        msg.contains("/nonexistent/model/tokenizer.json") && msg.contains("fetch-model.sh"),
        "{msg}"
    );
}
