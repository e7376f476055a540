//! Loader for a plain pair of files: `items.csv` (an id column and any text columns) and
//! `interactions.csv` (user, item, timestamp).

use std::path::Path;

use super::dataset::{Builder, Dataset};
use super::error::DataError;
use super::table::Table;
use super::text::describe;

/// Accepted names of the item id column.
const ITEM_ID: &[&str] = &["item_id", "id", "item", "itemId"];
/// Accepted names of the user column.
const USER_ID: &[&str] = &["user_id", "user", "userId"];
/// Accepted names of the timestamp column.
const TIME: &[&str] = &["timestamp", "time", "ts", "date"];

/// Loads `dir/items.csv` and `dir/interactions.csv`. Item text = every column but the id.
pub fn load(dir: &Path) -> Result<Dataset, DataError> {
    let item_path = dir.join("items.csv");
    let mut items = Table::open(&item_path, b',', true)?;
    let id_col = items.columns().require(ITEM_ID)?;
    let header: Vec<String> = items.columns().header().to_vec();
    let mut builder = Builder::new(dir, "items.csv + interactions.csv");
    items.for_each_row(|cols, row| {
        let id = cols.text(row, id_col)?;
        let fields: Vec<(&str, &str)> = header
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != id_col)
            .map(|(i, h)| (h.as_str(), row.fields.get(i).unwrap_or("")))
            .collect();
        let title = super::text::name_of(&fields).unwrap_or(id);
        builder.add_item(id, title, describe(&fields), cols.path(), row.line)
    })?;
    if builder.item_count() == 0 {
        return Err(DataError::Empty { path: item_path });
    }

    let inter_path = dir.join("interactions.csv");
    let mut inter = Table::open(&inter_path, b',', true)?;
    let user_col = inter.columns().require(USER_ID)?;
    let item_col = inter.columns().require(ITEM_ID)?;
    let ts_col = inter.columns().require(TIME)?;
    inter.for_each_row(|cols, row| {
        let user = cols.text(row, user_col)?;
        let item = cols.text(row, item_col)?;
        let ts = cols.number(row, ts_col)?;
        builder.add_interaction(user, item, ts, cols.path(), row.line)
    })?;
    if builder.interaction_count() == 0 {
        return Err(DataError::Empty { path: inter_path });
    }
    Ok(builder.finish())
}
