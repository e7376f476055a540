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

/// How many leading codes two IDs share (the depth of their common prefix in the tree).
pub fn shared_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
