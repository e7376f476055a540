//! An item's descriptive features, read back from the text it is embedded from: every value of
//! every labelled field (`Genres: Comedy, Drama.` gives `Comedy` and `Drama`; a year gives its
//! decade, `1990s`). Items whose text has no labelled field fall back to the words of their name.
//! Code labels and the coherence figure count these features.

use std::collections::HashMap;

/// Field names whose values are not descriptive (identifiers, counts).
const SKIPPED_FIELDS: &[&str] = &["Id", "Item id", "Url", "Image"];

/// Words too common to describe anything, for the fallback on names.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "with", "from", "that", "this", "into", "a", "an", "of", "in", "on", "to",
    "at", "by", "or", "la", "le", "les", "des", "der", "die", "das", "und", "el", "los",
];

/// The features of every item, as indices into a shared list of feature names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Display text of each feature (`Comedy`, `1990s`, `pixar`).
    pub names: Vec<String>,
    /// Per item: its distinct features, ascending.
    pub of_item: Vec<Vec<u32>>,
}

impl Features {
    /// Reads the features of each item from its text (as built by `data::text::describe`).
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut index: HashMap<String, u32> = HashMap::new();
        let mut names = Vec::new();
        let mut of_item = Vec::new();
        for text in texts {
            let mut own: Vec<u32> = item_features(text)
                .into_iter()
                .map(|(key, shown)| {
                    *index.entry(key).or_insert_with(|| {
                        names.push(shown);
                        (names.len() - 1) as u32
                    })
                })
                .collect();
            own.sort_unstable();
            own.dedup();
            of_item.push(own);
        }
        Self { names, of_item }
    }

    /// Number of items.
    pub fn items(&self) -> usize {
        self.of_item.len()
    }
}

/// An item's features as `(key, shown)` pairs: the key tells fields apart (`genres=comedy`), the
/// shown text is the value as written (`Comedy`).
pub fn item_features(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name_words = Vec::new();
    for (i, part) in text.trim_end_matches('.').split(". ").enumerate() {
        match field(part) {
            Some((label, values)) => {
                if SKIPPED_FIELDS.iter().any(|s| s.eq_ignore_ascii_case(label)) {
                    continue;
                }
                for value in values.split(", ").map(str::trim).filter(|v| !v.is_empty()) {
                    let shown = if label.eq_ignore_ascii_case("year") {
                        decade(value).unwrap_or_else(|| value.to_string())
                    } else {
                        value.to_string()
                    };
                    let key = format!("{}={}", label.to_lowercase(), shown.to_lowercase());
                    out.push((key, shown));
                }
            }
            None if i == 0 => name_words.extend(words(part)),
            None => {}
        }
    }
    if out.is_empty() {
        out = name_words
            .into_iter()
            .map(|w| (format!("name={w}"), w))
            .collect();
    }
    out
}

/// `Label: values` → `(Label, values)`, for a label of letters and spaces starting with a capital.
fn field(part: &str) -> Option<(&str, &str)> {
    let (label, values) = part.split_once(": ")?;
    let starts_upper = label.chars().next().is_some_and(char::is_uppercase);
    let plain = label.chars().all(|c| c.is_alphabetic() || c == ' ');
    (starts_upper && plain && label.len() <= 40).then_some((label, values))
}

/// `1995` → `1990s`.
fn decade(year: &str) -> Option<String> {
    let y: u32 = year.trim().parse().ok()?;
    (1000..3000)
        .contains(&y)
        .then(|| format!("{}s", y / 10 * 10))
}

/// The lower-case words of a name that say something (three letters or more, not a stop word).
fn words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3 && w.chars().any(char::is_alphabetic))
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_values_and_decades_are_read_back_from_the_text() {
        let text = "Toy Story. Year: 1995. Genres: Adventure, Animation, Comedy. Tags: pixar, fun.";
        let shown: Vec<String> = item_features(text).into_iter().map(|f| f.1).collect();
        assert_eq!(
            shown,
            ["1990s", "Adventure", "Animation", "Comedy", "pixar", "fun"]
        );
        // A name with a full stop inside stays the name; only labelled parts are fields.
        let text = "Mr. Smith Goes to Washington. Genres: Drama.";
        assert_eq!(
            item_features(text),
            [("genres=drama".into(), "Drama".into())]
        );
    }

    #[test]
    fn a_text_without_fields_falls_back_to_the_words_of_its_name() {
        let f: Vec<String> = item_features("The Red Shoe of Paris")
            .into_iter()
            .map(|f| f.1)
            .collect();
        assert_eq!(f, ["red", "shoe", "paris"]);
    }

    #[test]
    fn features_are_shared_by_key_and_distinct_per_item() {
        let f = Features::from_texts([
            "A. Genres: Comedy, Comedy.",
            "B. Genres: Drama, Comedy.",
            "C. Tags: Comedy.",
        ]);
        // `Comedy` as a genre and as a tag are different features.
        assert_eq!(f.names, ["Comedy", "Drama", "Comedy"]);
        assert_eq!(f.of_item, vec![vec![0], vec![0, 1], vec![2]]);
    }
}
