//! Integration tests of the pipeline: loading, splitting, encoding, quantizing, training, beam search and run folders.
//! Shared helpers are in `tests/support.rs`.

#[path = "../support.rs"]
mod support;

mod beam;
mod bundled_demo;
mod early_stop;
mod exact_scoring;
mod id_report;
mod id_schemes;
mod loaders;
mod minilm;
mod resume_equality;
mod rqvae_resume;
mod rqvae_train;
mod run_folders;
mod sample_quantize;
mod sasrec;
mod split;
mod tiger_overfit;
