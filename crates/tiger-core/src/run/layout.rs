//! The run-folder layout shared by every kind of run (RQ-VAE, TIGER, SASRec), whichever tool wrote
//! it: what every `config.json` starts with, the layout version, and the dataset a run belongs to.
//! Burn-free.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Version of the run-folder layout written by this program. A folder without one was written by
/// an older version; a larger one by a newer version.
pub const FORMAT: u32 = 1;

/// File names inside a run folder.
pub mod files {
    /// Kind, layout version, dataset and options (every kind).
    pub const CONFIG: &str = "config.json";
    /// Semantic IDs, `item_id,c1,..,cL,collision` (RQ-VAE and TIGER runs).
    pub const SEMANTIC_IDS: &str = "semantic_ids.csv";
    /// Final codebook statistics (RQ-VAE runs).
    pub const STATS: &str = "rqvae_stats.json";
    /// Figures at every log interval: codebook statistics (RQ-VAE) or losses and validations
    /// (TIGER, SASRec).
    pub const CURVES: &str = "curves.json";
    /// Test-split metrics of the best weights (TIGER, SASRec).
    pub const TEST_METRICS: &str = "test_metrics.json";
    /// RQ-VAE weights.
    pub const WEIGHTS: &str = "rqvae.safetensors";
    /// A residual k-means run's codebooks, `[levels × codebook_size, dim]`.
    pub const CODEBOOKS: &str = "codebooks.npy";
    /// RQ-VAE input standardisation.
    pub const STANDARDIZER: &str = "standardizer.json";
    /// Every code's label (RQ-VAE runs).
    pub const CODE_LABELS: &str = "code_labels.json";
    /// Each level's coherence against random IDs of the same shape (RQ-VAE runs).
    pub const COHERENCE: &str = "coherence.json";
    /// Best weights of a recommender (folder holding `model.bpk`).
    pub const BEST: &str = "best";
    /// Resumable checkpoint of a recommender: weights, optimiser, loop state.
    pub const LAST: &str = "last";
    /// State of an interrupted RQ-VAE training to go on from (`quantize --resume`); removed once
    /// the run is written.
    pub const QUANTIZE_RESUME: &str = "resume";
}

/// What a run holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    /// An RQ-VAE and the semantic IDs it assigned.
    Rqvae,
    /// The generative recommender.
    Tiger,
    /// The SASRec baseline.
    Sasrec,
}

impl RunKind {
    /// Name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            RunKind::Rqvae => "RQ-VAE",
            RunKind::Tiger => "TIGER",
            RunKind::Sasrec => "SASRec",
        }
    }

    /// Every kind, in pipeline order (the order in which runs are opened).
    pub const ALL: [RunKind; 3] = [RunKind::Rqvae, RunKind::Tiger, RunKind::Sasrec];
}

/// Which dataset a run was trained on: enough to tell another dataset (or another version of the
/// same one) from it when the run is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetStamp {
    /// Catalogue items.
    pub items: usize,
    /// Interactions in the files.
    pub interactions: usize,
    /// FNV-1a hash of the item ids and the interactions, in hex.
    pub fingerprint: String,
}

impl DatasetStamp {
    /// The stamp of a loaded dataset.
    pub fn of(dataset: &crate::data::Dataset) -> Self {
        let mut h = Fnv::default();
        for item in &dataset.items {
            h.add(item.id.as_bytes());
            h.add(&[0]);
        }
        for i in &dataset.interactions {
            h.add(&i.user.to_le_bytes());
            h.add(&i.item.to_le_bytes());
        }
        Self {
            items: dataset.items.len(),
            interactions: dataset.interactions.len(),
            fingerprint: format!("{:016x}", h.0),
        }
    }
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn add(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// The fields every run's `config.json` starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    /// What the run holds.
    pub kind: RunKind,
    /// Layout version ([`FORMAT`]); 0 when the file has none (an older version wrote it).
    #[serde(default)]
    pub format: u32,
    /// When the run was made (its config written), in seconds since 1970 (UTC).
    #[serde(default)]
    pub created: u64,
    /// Dataset folder, as given when the run was made (relative paths are tried from the working
    /// folder, then from the run folder).
    pub data: PathBuf,
    /// The dataset's stamp, checked when the run is opened.
    #[serde(default)]
    pub dataset: Option<DatasetStamp>,
}

impl RunHeader {
    /// A header for a run of `kind` on `dataset`, made now.
    pub fn new(kind: RunKind, dataset: &crate::data::Dataset) -> Self {
        Self {
            kind,
            format: FORMAT,
            created: now(),
            data: dataset.source.clone(),
            dataset: Some(DatasetStamp::of(dataset)),
        }
    }

    /// The dataset folder as it exists on this machine: the recorded path as given, else relative
    /// to the run folder `run`; `None` when neither exists (the dataset moved).
    pub fn find_data(&self, run: &Path) -> Option<PathBuf> {
        let direct = self.data.clone();
        let beside = run.join(&self.data);
        [direct, beside].into_iter().find(|p| p.is_dir())
    }
}

/// Reads the kind, layout version and dataset of the run in `dir`, with a message naming the
/// folder and the problem when it is not a run this version can open.
pub fn read_header(dir: &Path) -> Result<RunHeader, String> {
    let path = dir.join(files::CONFIG);
    if !dir.is_dir() {
        return Err(format!("{}: no such folder", dir.display()));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "{}: not a run folder (it has no {})",
                dir.display(),
                files::CONFIG
            )
        } else {
            format!("{}: cannot read: {e}", path.display())
        }
    })?;
    parse_header(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses and checks the header of a `config.json` text.
pub fn parse_header(text: &str) -> Result<RunHeader, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON ({e})"))?;
    let kind = value.get("kind").and_then(|k| k.as_str());
    if kind.is_none() && value.get("embeddings").is_some() {
        return Err(older());
    }
    let header: RunHeader = serde_json::from_value(value).map_err(|e| {
        format!("not a run configuration of this program ({e})")
            .chars()
            .take(200)
            .collect::<String>()
    })?;
    match header.format {
        0 => Err(older()),
        f if f > FORMAT => Err(format!(
            "written by a newer version of tiger-explorer (layout {f}; this one reads {FORMAT})"
        )),
        _ => Ok(header),
    }
}

fn older() -> String {
    "written by an older version of tiger-explorer (its config.json has no layout version); \
     make the run again with this version"
        .into()
}

/// Seconds since 1970 now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `secs` since 1970 as `YYYY-MM-DD HH:MM` (UTC).
pub fn date_text(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// A folder name for a run of `kind` made now by the window: `tiger-20261207-023143`.
pub fn fresh_name(kind: RunKind) -> String {
    let at = now();
    let stamp: String = date_text(at).chars().filter(char::is_ascii_digit).collect();
    let secs = at % 60;
    format!(
        "{}-{}-{}{secs:02}",
        kind.label().to_lowercase().replace('-', ""),
        &stamp[..8],
        &stamp[8..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_calendar_dates() {
        assert_eq!(date_text(0), "1970-01-01 00:00");
        assert_eq!(date_text(951_782_400), "2000-02-29 00:00");
        assert_eq!(date_text(1_796_610_703), "2026-12-07 02:31");
        let name = fresh_name(RunKind::Rqvae);
        assert!(name.starts_with("rqvae-20"), "{name}");
        assert_eq!(name.len(), "rqvae-20261207-023143".len(), "{name}");
    }

    #[test]
    fn headers_of_other_versions_are_named() {
        let old = r#"{"data":"d","embeddings":"e","options":{}}"#;
        assert!(parse_header(old).unwrap_err().contains("older version"));
        let old_tiger = r#"{"kind":"tiger","data":"d"}"#;
        assert!(
            parse_header(old_tiger)
                .unwrap_err()
                .contains("older version")
        );
        let newer = r#"{"kind":"sasrec","format":99,"data":"d"}"#;
        assert!(parse_header(newer).unwrap_err().contains("newer version"));
        let other = r#"{"kind":"bert","format":1,"data":"d"}"#;
        assert!(
            parse_header(other)
                .unwrap_err()
                .contains("not a run configuration")
        );
        assert!(parse_header("{").unwrap_err().contains("not valid JSON"));
        let good = r#"{"kind":"rqvae","format":1,"created":5,"data":"d"}"#;
        assert_eq!(parse_header(good).unwrap().kind, RunKind::Rqvae);
    }

    #[test]
    fn the_stamp_tells_datasets_apart() {
        use crate::data::{Dataset, Interaction, Item};
        let item = |id: &str| Item {
            id: id.into(),
            title: id.into(),
            text: id.into(),
        };
        let mut a = Dataset {
            items: vec![item("1"), item("2")],
            users: vec!["u".into()],
            interactions: vec![Interaction {
                user: 0,
                item: 1,
                timestamp: 1.0,
            }],
            ..Default::default()
        };
        let sa = DatasetStamp::of(&a);
        assert_eq!(sa, DatasetStamp::of(&a.clone()));
        a.interactions[0].item = 0;
        assert_ne!(sa.fingerprint, DatasetStamp::of(&a).fingerprint);
    }
}
