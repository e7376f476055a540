//! A small delimited-table reader shared by every loader: header lookup by name, rows with their
//! line numbers, and errors that name the file and line.

use std::path::{Path, PathBuf};

use super::error::{DataError, clip};

/// A delimited text file opened for reading row by row.
pub struct Table {
    columns: Columns,
    reader: csv::Reader<std::fs::File>,
}

/// The file name and header of a [`Table`]: column lookup and typed field access.
pub struct Columns {
    path: PathBuf,
    header: Vec<String>,
}

/// One data row with its 1-based line number in the file.
pub struct Row {
    /// 1-based line number (the header is line 1).
    pub line: u64,
    /// The fields, in header order.
    pub fields: csv::StringRecord,
}

impl Table {
    /// Opens `path` with the given delimiter. `quoted` enables CSV double-quote handling (off for
    /// RecBole's tab-separated files, which never quote). Fails if the file is empty.
    pub fn open(path: &Path, delimiter: u8, quoted: bool) -> Result<Self, DataError> {
        let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .quoting(quoted)
            .flexible(false)
            .has_headers(true)
            .from_reader(file);
        let header = reader
            .headers()
            .map_err(|e| csv_error(path, e))?
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                };
                h.trim().to_string()
            })
            .collect::<Vec<_>>();
        if header.iter().all(|h| h.is_empty()) {
            return Err(DataError::Empty { path: path.into() });
        }
        Ok(Self {
            columns: Columns {
                path: path.into(),
                header,
            },
            reader,
        })
    }

    /// The header and file name, for column lookup.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// Reads every remaining row, calling `f` with the columns and the row; stops at the first
    /// error. Returns the number of data rows read.
    pub fn for_each_row(
        &mut self,
        mut f: impl FnMut(&Columns, &Row) -> Result<(), DataError>,
    ) -> Result<u64, DataError> {
        let mut record = csv::StringRecord::new();
        let mut rows = 0u64;
        loop {
            match self.reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let line = record.position().map(|p| p.line()).unwrap_or(0);
                    if record.len() == 1 && record.get(0).is_some_and(|s| s.trim().is_empty()) {
                        continue; // blank line
                    }
                    rows += 1;
                    f(
                        &self.columns,
                        &Row {
                            line,
                            fields: std::mem::take(&mut record),
                        },
                    )?;
                }
                Err(e) => return Err(csv_error(&self.columns.path, e)),
            }
        }
        Ok(rows)
    }
}

impl Columns {
    /// The file this table reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Column names as written in the header (BOM and surrounding spaces removed).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Index of the first column whose name (compared case-insensitively) is in `names`.
    pub fn find(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.header.iter().position(|h| h.eq_ignore_ascii_case(n)))
    }

    /// Like [`Table::find`] but an error naming the first of `names` when none is present.
    pub fn require(&self, names: &[&str]) -> Result<usize, DataError> {
        self.find(names).ok_or_else(|| DataError::MissingColumn {
            path: self.path.clone(),
            column: names.first().copied().unwrap_or("?").to_string(),
            header: super::error::clip(&self.header.join(",")),
        })
    }

    /// Parses field `col` of `row` as a finite number, with an error naming file, line and column.
    pub fn number(&self, row: &Row, col: usize) -> Result<f64, DataError> {
        let text = row.fields.get(col).unwrap_or("").trim();
        let bad = |message: &str| DataError::BadValue {
            path: self.path.clone(),
            line: row.line,
            column: self.header[col].clone(),
            value: clip(text),
            message: message.to_string(),
        };
        let value: f64 = text.parse().map_err(|_| bad("not a number"))?;
        if !value.is_finite() {
            return Err(bad("not a finite number"));
        }
        Ok(value)
    }

    /// Field `col` of `row`, trimmed; an error if it is empty.
    pub fn text<'r>(&self, row: &'r Row, col: usize) -> Result<&'r str, DataError> {
        let text = row.fields.get(col).unwrap_or("").trim();
        if text.is_empty() {
            return Err(DataError::BadValue {
                path: self.path.clone(),
                line: row.line,
                column: self.header[col].clone(),
                value: String::new(),
                message: "empty value".into(),
            });
        }
        Ok(text)
    }
}

/// Turns a csv error into a [`DataError`] naming the file and line.
fn csv_error(path: &Path, e: csv::Error) -> DataError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "expected {expected_len} fields, found {len} (wrong delimiter or unquoted separator?)"
        ),
        csv::ErrorKind::Utf8 { .. } => "text is not valid UTF-8".to_string(),
        csv::ErrorKind::Io(err) => {
            return DataError::io(path, std::io::Error::new(err.kind(), err.to_string()));
        }
        _ => e.to_string(),
    };
    if line == 0 {
        DataError::Empty { path: path.into() }
    } else {
        DataError::BadRow {
            path: path.into(),
            line,
            message,
        }
    }
}
