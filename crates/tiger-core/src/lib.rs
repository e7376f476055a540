//! tiger-core: everything of tiger-explorer that needs no tensor library: datasets (loading,
//! k-core filtering, the leave-one-out split, samples), semantic IDs and their files, embedding
//! files, options, metrics, the run-folder layout and crash-safe writes. The models, kernels and
//! the window build on it; nothing here depends on burn or wgpu.

pub mod atomic;
pub mod config;
pub mod data;
pub mod device_choice;
pub mod embeddings;
pub mod eval;
pub mod ids;
pub mod options;
pub mod rec_data;
pub mod run;
