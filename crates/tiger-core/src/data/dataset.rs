//! The in-memory dataset every loader produces, and format detection for a folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::DataError;

/// One catalogue item: its id as written in the files and the text the encoder reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Item id as written in the source files.
    pub id: String,
    /// Short display name (the title or name column; the id when there is none).
    pub title: String,
    /// Descriptive text built from every descriptive column ("title: …; genres: …; tags: …").
    pub text: String,
}

/// One user–item event. `user` and `item` index [`Dataset::users`] and [`Dataset::items`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    /// Index into [`Dataset::users`].
    pub user: u32,
    /// Index into [`Dataset::items`].
    pub item: u32,
    /// Timestamp (any monotone unit); ties keep file order.
    pub timestamp: f64,
}

/// A catalogue plus interactions, in file order. Embedding row `i` belongs to `items[i]`.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Where it was loaded from.
    pub source: PathBuf,
    /// Which layout it was read as.
    pub format: String,
    /// The catalogue, in file order.
    pub items: Vec<Item>,
    /// User ids as written in the files, in order of first appearance.
    pub users: Vec<String>,
    /// Every interaction, in file order.
    pub interactions: Vec<Interaction>,
}

/// The file layouts a dataset folder can have.
#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    /// `movies.csv` + `ratings.csv` (+ optional `tags.csv`).
    MovieLens,
    /// `NAME.item` + `NAME.inter`, tab separated with typed headers.
    RecBole {
        /// The shared file stem.
        name: String,
    },
    /// `items.csv` + `interactions.csv`.
    CsvPair,
}

/// Decides which layout a folder holds from the files it contains.
pub fn detect(dir: &Path) -> Result<Layout, DataError> {
    let has = |f: &str| dir.join(f).is_file();
    if has("movies.csv") && has("ratings.csv") {
        return Ok(Layout::MovieLens);
    }
    if has("items.csv") && has("interactions.csv") {
        return Ok(Layout::CsvPair);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut stems: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            (p.extension()? == "inter").then(|| p.file_stem()?.to_str().map(str::to_string))?
        })
        .filter(|stem| has(&format!("{stem}.item")))
        .collect();
    stems.sort();
    match stems.into_iter().next() {
        Some(name) => Ok(Layout::RecBole { name }),
        None => Err(DataError::UnknownLayout { path: dir.into() }),
    }
}

/// Loads the dataset in `dir`, whatever its layout.
pub fn load(dir: &Path) -> Result<Dataset, DataError> {
    match detect(dir)? {
        Layout::MovieLens => super::movielens::load(dir),
        Layout::RecBole { name } => super::recbole::load(dir, &name),
        Layout::CsvPair => super::csv_pair::load(dir),
    }
}

/// Builds a [`Dataset`] incrementally: keeps the id → index maps and checks ids.
#[derive(Default)]
pub struct Builder {
    dataset: Dataset,
    item_index: HashMap<String, u32>,
    user_index: HashMap<String, u32>,
}

impl Builder {
    /// Starts an empty dataset read from `source` as `format`.
    pub fn new(source: &Path, format: &str) -> Self {
        let mut b = Self::default();
        b.dataset.source = source.into();
        b.dataset.format = format.into();
        b
    }

    /// Adds a catalogue item; a repeated id is an error naming `path` and `line`.
    pub fn add_item(
        &mut self,
        id: &str,
        title: &str,
        text: String,
        path: &Path,
        line: u64,
    ) -> Result<(), DataError> {
        let next = self.dataset.items.len() as u32;
        if self.item_index.insert(id.to_string(), next).is_some() {
            return Err(DataError::DuplicateItem {
                path: path.into(),
                line,
                id: super::error::clip(id),
            });
        }
        let title = if title.trim().is_empty() {
            id
        } else {
            title.trim()
        };
        self.dataset.items.push(Item {
            id: id.into(),
            title: title.into(),
            text,
        });
        Ok(())
    }

    /// Index of an item id already added, if any.
    pub fn item(&self, id: &str) -> Option<u32> {
        self.item_index.get(id).copied()
    }

    /// Mutable text of the item at `index` (used to append tags).
    pub fn item_text_mut(&mut self, index: u32) -> &mut String {
        &mut self.dataset.items[index as usize].text
    }

    /// Adds an interaction; an item id not in the catalogue is an error naming `path` and `line`.
    pub fn add_interaction(
        &mut self,
        user: &str,
        item: &str,
        timestamp: f64,
        path: &Path,
        line: u64,
    ) -> Result<(), DataError> {
        let item = self.item(item).ok_or_else(|| DataError::UnknownItem {
            path: path.into(),
            line,
            id: super::error::clip(item),
        })?;
        let next = self.dataset.users.len() as u32;
        let user = *self.user_index.entry(user.to_string()).or_insert_with(|| {
            self.dataset.users.push(user.to_string());
            next
        });
        self.dataset.interactions.push(Interaction {
            user,
            item,
            timestamp,
        });
        Ok(())
    }

    /// Number of items added so far.
    pub fn item_count(&self) -> usize {
        self.dataset.items.len()
    }

    /// Number of interactions added so far.
    pub fn interaction_count(&self) -> usize {
        self.dataset.interactions.len()
    }

    /// Finishes the dataset.
    pub fn finish(self) -> Dataset {
        self.dataset
    }
}
