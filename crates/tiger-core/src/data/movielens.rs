//! Loader for MovieLens CSV folders: `movies.csv`, `ratings.csv` and an optional `tags.csv`.

use std::collections::HashMap;
use std::path::Path;

use super::dataset::{Builder, Dataset};
use super::error::DataError;
use super::table::Table;
use super::text::{describe, split_year, top_tags};

/// How many distinct tags go into an item's text.
const MAX_TAGS: usize = 12;

/// Loads a MovieLens folder. Item text = title, year, genres and the most frequent tags.
pub fn load(dir: &Path) -> Result<Dataset, DataError> {
    let movies_path = dir.join("movies.csv");
    let tags = read_tags(&dir.join("tags.csv"))?;

    let mut movies = Table::open(&movies_path, b',', true)?;
    let id_col = movies.columns().require(&["movieId"])?;
    let title_col = movies.columns().require(&["title"])?;
    let genres_col = movies.columns().find(&["genres"]);
    let mut builder = Builder::new(dir, "MovieLens");
    movies.for_each_row(|cols, row| {
        let id = cols.text(row, id_col)?;
        let full_title = row.fields.get(title_col).unwrap_or("");
        let (title, year) = split_year(full_title);
        let genres = genres_col.and_then(|c| row.fields.get(c)).unwrap_or("");
        let tag_text = tags
            .get(id)
            .map(|t| top_tags(t, MAX_TAGS))
            .unwrap_or_default();
        let text = describe(&[
            ("title", title),
            ("year", year.unwrap_or("")),
            ("genres", genres),
            ("tags", &tag_text),
        ]);
        builder.add_item(id, full_title, text, cols.path(), row.line)
    })?;
    if builder.item_count() == 0 {
        return Err(DataError::Empty { path: movies_path });
    }

    let ratings_path = dir.join("ratings.csv");
    let mut ratings = Table::open(&ratings_path, b',', true)?;
    let user_col = ratings.columns().require(&["userId"])?;
    let item_col = ratings.columns().require(&["movieId"])?;
    let ts_col = ratings.columns().require(&["timestamp"])?;
    ratings.for_each_row(|cols, row| {
        let user = cols.text(row, user_col)?;
        let item = cols.text(row, item_col)?;
        let ts = cols.number(row, ts_col)?;
        builder.add_interaction(user, item, ts, cols.path(), row.line)
    })?;
    if builder.interaction_count() == 0 {
        return Err(DataError::Empty { path: ratings_path });
    }
    Ok(builder.finish())
}

/// Reads `tags.csv` (if present) into movieId → tags in file order.
fn read_tags(path: &Path) -> Result<HashMap<String, Vec<String>>, DataError> {
    let mut tags: HashMap<String, Vec<String>> = HashMap::new();
    if !path.is_file() {
        return Ok(tags);
    }
    let mut table = Table::open(path, b',', true)?;
    let item_col = table.columns().require(&["movieId"])?;
    let tag_col = table.columns().require(&["tag"])?;
    table.for_each_row(|cols, row| {
        let item = cols.text(row, item_col)?;
        let tag = row.fields.get(tag_col).unwrap_or("").trim();
        if !tag.is_empty() {
            tags.entry(item.to_string())
                .or_default()
                .push(tag.to_string());
        }
        Ok(())
    })?;
    Ok(tags)
}
