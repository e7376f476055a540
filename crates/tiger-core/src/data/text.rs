//! Builds the sentence an item is embedded from, out of its descriptive columns.

/// Column names treated as the item's name: written first, without a label.
const NAME_COLUMNS: &[&str] = &["title", "name", "movie_title", "item_name", "product_name"];

/// Joins descriptive fields into one sentence-like text: the name first, then `Label: value.` for
/// every other non-empty field, in the order given. Multi-valued fields use `|` or are already
/// joined; `|` becomes `, `.
pub fn describe(fields: &[(&str, &str)]) -> String {
    let clean = |v: &str| {
        v.split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "(no genres listed)")
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    let is_name = |n: &str| NAME_COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(n));
    for (name, value) in fields.iter().filter(|(n, _)| is_name(n)) {
        let _ = name;
        let v = clean(value);
        if !v.is_empty() {
            parts.push(v);
        }
    }
    for (name, value) in fields.iter().filter(|(n, _)| !is_name(n)) {
        let v = clean(value);
        if !v.is_empty() {
            parts.push(format!("{}: {}", label(name), v));
        }
    }
    let mut text = parts.join(". ");
    if !text.is_empty() && !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// The value of the first name-like column (title, name, …) that is not empty.
pub fn name_of<'a>(fields: &[(&str, &'a str)]) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, v)| {
            NAME_COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(n)) && !v.trim().is_empty()
        })
        .map(|(_, v)| v.trim())
}

/// Turns a column name such as `release_year` into a label such as `Release year`.
fn label(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Splits a MovieLens title such as `Toy Story (1995)` into (`Toy Story`, `Some("1995")`).
pub fn split_year(title: &str) -> (&str, Option<&str>) {
    let t = title.trim();
    if let Some(open) = t.rfind('(')
        && t.ends_with(')')
    {
        let inside = &t[open + 1..t.len() - 1];
        let inside = inside.trim();
        let year = inside.split('-').next().unwrap_or("");
        if year.len() == 4 && year.chars().all(|c| c.is_ascii_digit()) {
            return (t[..open].trim_end(), Some(inside));
        }
    }
    (t, None)
}

/// Keeps the `max` most frequent tags (ties in order of first appearance), case-insensitively
/// de-duplicated, joined with `, `.
pub fn top_tags(tags: &[String], max: usize) -> String {
    let mut counts: Vec<(String, usize, usize)> = Vec::new();
    for (pos, tag) in tags.iter().enumerate() {
        let t = tag.trim();
        if t.is_empty() {
            continue;
        }
        match counts
            .iter_mut()
            .find(|(k, _, _)| k.eq_ignore_ascii_case(t))
        {
            Some(entry) => entry.1 += 1,
            None => counts.push((t.to_string(), 1, pos)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    counts
        .into_iter()
        .take(max)
        .map(|(t, _, _)| t)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_first_then_labelled_fields() {
        let t = describe(&[
            ("genres", "Adventure|Animation"),
            ("title", "Toy Story"),
            ("year", "1995"),
        ]);
        assert_eq!(t, "Toy Story. Genres: Adventure, Animation. Year: 1995.");
    }

    #[test]
    fn splits_year_only_when_it_is_one() {
        assert_eq!(split_year("Toy Story (1995)"), ("Toy Story", Some("1995")));
        assert_eq!(
            split_year("Babylon 5 (1994-1998)"),
            ("Babylon 5", Some("1994-1998"))
        );
        assert_eq!(split_year("Big (Short)"), ("Big (Short)", None));
    }

    #[test]
    fn tags_by_frequency_case_insensitive() {
        let tags: Vec<String> = ["pixar", "fun", "Pixar", "toys"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(top_tags(&tags, 2), "pixar, fun");
    }
}
