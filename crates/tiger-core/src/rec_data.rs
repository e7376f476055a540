//! Everything the recommender needs about a dataset: items, the split, semantic IDs and their trie.

use std::path::Path;

use crate::data::{Dataset, Split};
use crate::ids::SemanticIds;
use crate::ids::Trie;

/// A dataset prepared for sequential recommendation.
pub struct RecData {
    /// The loaded dataset.
    pub dataset: Dataset,
    /// k-core filtered, leave-one-out split.
    pub split: Split,
    /// Semantic IDs of every catalogue item.
    pub ids: SemanticIds,
    /// Prefix trie of the full IDs.
    pub trie: Trie,
    /// The file the IDs were read from, if any.
    pub ids_source: Option<std::path::PathBuf>,
}

impl RecData {
    /// Loads `data_dir`, splits it with `k`-core filtering and reads the IDs file.
    pub fn load(data_dir: &Path, ids_path: &Path, k: usize) -> anyhow::Result<Self> {
        let dataset = crate::data::load(data_dir)?;
        let split = crate::data::split(&dataset, k)?;
        let item_ids: Vec<String> = dataset.items.iter().map(|i| i.id.clone()).collect();
        let ids = SemanticIds::read_csv(ids_path, &item_ids)?;
        Ok(Self {
            ids_source: Some(ids_path.into()),
            ..Self::new(dataset, split, ids)
        })
    }

    /// Assembles prepared parts and builds the trie.
    pub fn new(dataset: Dataset, split: Split, ids: SemanticIds) -> Self {
        let trie = Trie::build(&ids);
        Self {
            dataset,
            split,
            ids,
            trie,
            ids_source: None,
        }
    }

    /// The same data with random IDs of the same shape ([`SemanticIds::shuffled`] with `seed`): the
    /// ablation that shows what the meaning of semantic IDs is worth.
    pub fn with_random_ids(self, seed: u64) -> Self {
        let ids = self.ids.shuffled(seed);
        Self {
            ids_source: self.ids_source,
            ..Self::new(self.dataset, self.split, ids)
        }
    }

    /// Item ids of the catalogue, in order.
    pub fn item_ids(&self) -> Vec<String> {
        self.dataset.items.iter().map(|i| i.id.clone()).collect()
    }
}
