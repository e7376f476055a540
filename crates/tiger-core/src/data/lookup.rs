//! Finding items by what a person types: an id, a title with or without its year, or a fragment.

use super::dataset::Dataset;

/// Lower-cases and collapses spaces, for forgiving comparisons.
fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Items whose title or id contains `query` (case-insensitive), best matches first: exact id or
/// title, then title without its year, then titles starting with the query, then any containing it.
pub fn search(dataset: &Dataset, query: &str, limit: usize) -> Vec<u32> {
    let q = norm(query);
    if q.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(u8, usize, u32)> = dataset
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let title = norm(&item.title);
            let bare = norm(super::text::split_year(&item.title).0);
            let rank = if item.id == query.trim() || title == q {
                0
            } else if bare == q {
                1
            } else if title.starts_with(&q) {
                2
            } else if title.contains(&q) {
                3
            } else {
                return None;
            };
            Some((rank, title.len(), i as u32))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(limit).map(|s| s.2).collect()
}

/// Resolves one typed item to exactly one item, or explains why not.
pub fn resolve_one(dataset: &Dataset, query: &str) -> Result<u32, String> {
    let hits = search(dataset, query, 6);
    let q = norm(query);
    let exact: Vec<u32> = hits
        .iter()
        .copied()
        .filter(|&i| {
            let item = &dataset.items[i as usize];
            item.id == query.trim()
                || norm(&item.title) == q
                || norm(super::text::split_year(&item.title).0) == q
        })
        .collect();
    match (exact.as_slice(), hits.as_slice()) {
        ([one], _) => Ok(*one),
        ([], [one]) => Ok(*one),
        ([], []) => Err(format!("no item matches '{query}'")),
        (many, _) if !many.is_empty() && exact.len() > 1 => Err(ambiguous(dataset, query, many)),
        (_, many) => Err(ambiguous(dataset, query, many)),
    }
}

fn ambiguous(dataset: &Dataset, query: &str, hits: &[u32]) -> String {
    let names: Vec<String> = hits
        .iter()
        .map(|&i| {
            format!(
                "'{}' (id {})",
                dataset.items[i as usize].title, dataset.items[i as usize].id
            )
        })
        .collect();
    format!(
        "'{query}' matches several items: {}; be more precise or use the id",
        names.join(", ")
    )
}

/// Resolves a comma-separated history such as `Toy Story,Heat (1995)`. Titles that contain commas
/// ("American President, The (1995)") are found by joining a piece with the next ones when the
/// piece alone matches nothing exactly.
pub fn resolve_list(dataset: &Dataset, list: &str) -> Result<Vec<u32>, String> {
    let pieces: Vec<&str> = list.split(',').map(str::trim).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        if pieces[i].is_empty() {
            i += 1;
            continue;
        }
        let mut found = None;
        // Prefer the longest join that names one item exactly.
        for j in (i..pieces.len().min(i + 4)).rev() {
            let joined = pieces[i..=j].join(", ");
            let q = norm(&joined);
            let exact = dataset.items.iter().position(|it| {
                it.id == joined
                    || norm(&it.title) == q
                    || norm(super::text::split_year(&it.title).0) == q
            });
            if let Some(e) = exact {
                found = Some((e as u32, j));
                break;
            }
        }
        match found {
            Some((item, j)) => {
                out.push(item);
                i = j + 1;
            }
            None => {
                out.push(resolve_one(dataset, pieces[i])?);
                i += 1;
            }
        }
    }
    if out.is_empty() {
        return Err("the history is empty".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Item;

    fn ds() -> Dataset {
        let item = |id: &str, title: &str| Item {
            id: id.into(),
            title: title.into(),
            text: String::new(),
        };
        Dataset {
            items: vec![
                item("1", "Toy Story (1995)"),
                item("2", "Toy Story 2 (1999)"),
                item("3", "Heat (1995)"),
                item("4", "American President, The (1995)"),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn resolves_titles_years_ids_and_commas() {
        let d = ds();
        assert_eq!(
            resolve_list(&d, "Toy Story,Heat (1995)").unwrap(),
            vec![0, 2]
        );
        assert_eq!(
            resolve_list(&d, "American President, The (1995), 2").unwrap(),
            vec![3, 1]
        );
        assert_eq!(resolve_one(&d, "heat").unwrap(), 2);
        let err = resolve_one(&d, "Story").unwrap_err();
        assert!(
            err.contains("several") && err.contains("Toy Story 2 (1999)"),
            "{err}"
        );
        assert!(
            resolve_one(&d, "Casablanca")
                .unwrap_err()
                .contains("no item")
        );
        assert_eq!(search(&d, "toy", 5), vec![0, 1]);
    }
}
