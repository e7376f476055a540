//! Loader for RecBole atomic files: `NAME.item` and `NAME.inter`, tab separated, with typed headers
//! such as `item_id:token`, `movie_title:token_seq`, `timestamp:float`.

use std::path::Path;

use super::dataset::{Builder, Dataset};
use super::error::DataError;
use super::table::{Columns, Table};
use super::text::describe;

/// Loads `dir/NAME.item` and `dir/NAME.inter`. Item text = every `token`/`token_seq` column of the
/// item file except the id; interactions without a timestamp column keep file order.
pub fn load(dir: &Path, name: &str) -> Result<Dataset, DataError> {
    let item_path = dir.join(format!("{name}.item"));
    let mut items = Table::open(&item_path, b'\t', false)?;
    require_tabs(items.columns())?;
    require_types(items.columns())?;
    let id_col = require_field(items.columns(), "item_id")?;
    let text_cols: Vec<(usize, String)> = items
        .columns()
        .header()
        .iter()
        .enumerate()
        .filter(|(i, h)| *i != id_col && is_text_type(h))
        .map(|(i, h)| (i, field_name(h).to_string()))
        .collect();
    let mut builder = Builder::new(dir, "RecBole");
    items.for_each_row(|cols, row| {
        let id = cols.text(row, id_col)?;
        let fields: Vec<(&str, &str)> = text_cols
            .iter()
            .map(|(i, n)| (n.as_str(), row.fields.get(*i).unwrap_or("")))
            .collect();
        let text = describe(&fields);
        let title = super::text::name_of(&fields).unwrap_or(id);
        builder.add_item(id, title, text, cols.path(), row.line)
    })?;
    if builder.item_count() == 0 {
        return Err(DataError::Empty { path: item_path });
    }

    let inter_path = dir.join(format!("{name}.inter"));
    let mut inter = Table::open(&inter_path, b'\t', false)?;
    require_tabs(inter.columns())?;
    require_types(inter.columns())?;
    let user_col = require_field(inter.columns(), "user_id")?;
    let item_col = require_field(inter.columns(), "item_id")?;
    let ts_col = find_field(inter.columns(), "timestamp");
    inter.for_each_row(|cols, row| {
        let user = cols.text(row, user_col)?;
        let item = cols.text(row, item_col)?;
        let ts = match ts_col {
            Some(c) => cols.number(row, c)?,
            None => 0.0,
        };
        builder.add_interaction(user, item, ts, cols.path(), row.line)
    })?;
    if builder.interaction_count() == 0 {
        return Err(DataError::Empty { path: inter_path });
    }
    Ok(builder.finish())
}

/// The name part of a typed header field (`item_id:token` → `item_id`).
fn field_name(header: &str) -> &str {
    header.split(':').next().unwrap_or(header).trim()
}

/// Whether a typed header field holds text (`token` or `token_seq`).
fn is_text_type(header: &str) -> bool {
    matches!(
        header.split(':').nth(1).map(str::trim),
        Some("token") | Some("token_seq")
    )
}

/// Fails when no header field carries a RecBole type (`name:token`, `name:float`, …): without
/// types the loader cannot tell text columns from ids, and every item's text would be empty.
fn require_types(cols: &Columns) -> Result<(), DataError> {
    if cols.header().iter().any(|h| h.contains(':')) {
        return Ok(());
    }
    Err(DataError::BadRow {
        path: cols.path().into(),
        line: 1,
        message: format!(
            "the header has no RecBole types (expected e.g. 'item_id:token', found '{}')",
            super::error::clip(&cols.header().join(" | "))
        ),
    })
}

/// Fails when the header is a single field holding commas or semicolons: the file uses another
/// delimiter, and its whole lines would otherwise be read as one column (`item_id:token,title…`
/// still yields the field name `item_id`), blaming a later file for the mismatch.
fn require_tabs(cols: &Columns) -> Result<(), DataError> {
    match cols.header() {
        [only] if only.contains([',', ';']) => Err(DataError::BadRow {
            path: cols.path().into(),
            line: 1,
            message:
                "the header has no tab; RecBole atomic files are tab separated (wrong delimiter?)"
                    .into(),
        }),
        _ => Ok(()),
    }
}

/// Index of the column whose field name is `name`, if any.
fn find_field(cols: &Columns, name: &str) -> Option<usize> {
    cols.header().iter().position(|h| field_name(h) == name)
}

/// Like [`find_field`] but an error naming the file when the column is absent.
fn require_field(cols: &Columns, name: &str) -> Result<usize, DataError> {
    find_field(cols, name).ok_or_else(|| DataError::MissingColumn {
        path: cols.path().into(),
        column: name.into(),
        header: super::error::clip(&cols.header().join(" | ")),
    })
}
