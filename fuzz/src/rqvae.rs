//! Semantic IDs (the app's source file).

#[path = "../../src/rqvae/semantic_ids.rs"]
pub mod semantic_ids;
pub use semantic_ids::SemanticIds;
