//! Semantic IDs: the per-item codes and their CSV file, codebook statistics, the recommender's
//! token vocabulary over them, and the prefix trie of valid IDs.

pub mod coherence;
pub mod features;
pub mod labels;
pub mod semantic_ids;
pub mod stats;
pub mod trie;
pub mod vocab;

pub use labels::CodeLabels;
pub use semantic_ids::SemanticIds;
pub use stats::{LevelStats, QuantizeStats, catalogue_stats};
pub use trie::Trie;
pub use vocab::Vocab;
