//! Errors raised while reading catalogue and interaction files.

use std::path::PathBuf;

/// Everything that can go wrong while loading a dataset. Every variant names the file, and the line
/// (1-based, counting the header) where one applies, so the message can be shown as is.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// File that failed.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The folder does not hold any dataset layout this program knows.
    #[error(
        "{path}: no dataset found (expected movies.csv + ratings.csv, NAME.inter + NAME.item, or items.csv + interactions.csv)"
    )]
    UnknownLayout {
        /// Folder that was inspected.
        path: PathBuf,
    },
    /// The file holds no header or no data rows.
    #[error("{path}: file is empty")]
    Empty {
        /// Empty file.
        path: PathBuf,
    },
    /// A column the format requires is absent from the header.
    #[error("{path}: line 1: missing column '{column}' (header has: {header})")]
    MissingColumn {
        /// File with the bad header.
        path: PathBuf,
        /// Name of the column that is missing.
        column: String,
        /// The header that was found, for the message.
        header: String,
    },
    /// A row could not be parsed (wrong field count, bad quoting, bad encoding).
    #[error("{path}: line {line}: {message}")]
    BadRow {
        /// File with the bad row.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// A field holds a value of the wrong kind (a number that is not one, NaN, …).
    #[error("{path}: line {line}: column '{column}': {message} ('{value}')")]
    BadValue {
        /// File with the bad value.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: String,
        /// The offending text, shortened.
        value: String,
        /// What is wrong with it.
        message: String,
    },
    /// The same item id appears twice in a catalogue.
    #[error("{path}: line {line}: duplicate item id '{id}'")]
    DuplicateItem {
        /// Catalogue file.
        path: PathBuf,
        /// 1-based line number of the second occurrence.
        line: u64,
        /// The repeated id.
        id: String,
    },
    /// An interaction names an item the catalogue does not hold.
    #[error("{path}: line {line}: item '{id}' is not in the catalogue")]
    UnknownItem {
        /// Interactions file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The unknown id.
        id: String,
    },
    /// Filtering left nothing to train on.
    #[error("{path}: no user has at least {min} interactions after {k}-core filtering")]
    NothingLeft {
        /// Dataset folder.
        path: PathBuf,
        /// Minimum sequence length needed.
        min: usize,
        /// k of the k-core filter.
        k: usize,
    },
}

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Shortens a field for an error message so a huge line does not flood the terminal.
pub fn clip(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        value.to_string()
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head}…")
    }
}
