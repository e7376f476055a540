//! What a run's semantic IDs mean: every code's label ([`crate::ids::labels`]) and each level's
//! coherence against random IDs of the same shape ([`crate::ids::coherence`]), computed together
//! from the catalogue and written beside the IDs (`code_labels.json`, `coherence.json`).

use std::path::Path;

use super::json::write_err;
use super::{RunError, read_json, write_json};
use crate::ids::SemanticIds;
use crate::ids::coherence::{LevelCoherence, UnitRows, coherence};
use crate::ids::features::Features;
use crate::ids::labels::CodeLabels;

/// The seed of the random IDs the coherence figure compares against (fixed, so that a run's figure
/// is the same whenever it is computed).
pub const RANDOM_IDS_SEED: u64 = 2023;

/// Labels and coherence of one set of IDs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hierarchy {
    /// Every code's label.
    pub labels: CodeLabels,
    /// Each level's coherence, level 1 first.
    pub coherence: Vec<LevelCoherence>,
}

impl Hierarchy {
    /// Computes both for `ids` over the catalogue's `features` and, when given, its embeddings
    /// (`data` rows of `dim` values, catalogue order).
    pub fn compute(
        ids: &SemanticIds,
        features: &Features,
        embeddings: Option<(&[f32], usize)>,
    ) -> Self {
        let rows = embeddings.map(|(data, dim)| UnitRows::new(data, dim));
        Self {
            labels: CodeLabels::compute(ids, features),
            coherence: coherence(ids, features, rows.as_ref(), RANDOM_IDS_SEED),
        }
    }

    /// Writes `code_labels.json` and `coherence.json` into `dir`, each atomically.
    pub fn write(&self, dir: &Path, levels: usize) -> Result<(), RunError> {
        let labels = dir.join(super::files::CODE_LABELS);
        self.labels
            .write_json(&labels, levels)
            .map_err(|e| write_err(&labels, e))?;
        write_json(&dir.join(super::files::COHERENCE), &self.coherence)
    }

    /// Stages `code_labels.json` and `coherence.json` into `staged` (a run being written whole).
    pub fn stage(&self, staged: &mut crate::atomic::Staged, levels: usize) -> Result<(), RunError> {
        let labels = self.labels.to_json(levels);
        let coherence =
            serde_json::to_string_pretty(&self.coherence).map_err(std::io::Error::other);
        for (name, text) in [
            (super::files::CODE_LABELS, labels),
            (super::files::COHERENCE, coherence),
        ] {
            text.and_then(|t| staged.write(name, t.as_bytes()))
                .map_err(|e| write_err(&staged.dir().join(name), e))?;
        }
        Ok(())
    }

    /// The coherence recorded in a run folder, when it has one.
    pub fn read_coherence(dir: &Path) -> Option<Vec<LevelCoherence>> {
        read_json(dir, super::files::COHERENCE).ok()
    }
}
