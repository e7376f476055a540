//! A short label for every code at every level, computed from its items' features
//! ([`super::features`]): the features most over-represented among the items under the code
//! against the items under its parent (the whole catalogue for a level-1 code), each with its
//! share. A level-1 code of films might read `Horror 81% · 1980s 44%`, its child `Slasher 60%`.
//! Recomputed from the IDs and the catalogue whenever either changes; written beside the IDs as
//! `code_labels.json`.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SemanticIds;
use super::features::Features;

/// Terms kept per label.
const TERMS: usize = 3;
/// Smallest share of a code's items a term must reach (one item of a code of one).
const MIN_SHARE: f32 = 0.2;

/// One term of a label: a feature and how common it is under the code and under its parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// The feature as written (`Horror`, `1980s`).
    pub text: String,
    /// Share of the code's items that have it.
    pub share: f32,
    /// Share of the parent's items that have it.
    pub parent_share: f32,
}

/// The label of one code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeLabel {
    /// The code's prefix: its ancestors' codes, then its own (the level is the length).
    pub prefix: Vec<u32>,
    /// Items under the code.
    pub items: usize,
    /// The most over-represented features, best first (empty when none stands out).
    pub terms: Vec<Term>,
}

impl CodeLabel {
    /// `Horror 81% · 1980s 44%`, or an empty string.
    pub fn text(&self) -> String {
        self.terms
            .iter()
            .map(|t| format!("{} {:.0}%", t.text, t.share * 100.0))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The terms without their shares (`Horror, 1980s`), for tight places.
    pub fn words(&self) -> String {
        self.terms
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Labels of every code prefix of a set of semantic IDs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodeLabels {
    by_prefix: HashMap<Vec<u32>, CodeLabel>,
}

/// The file's shape.
#[derive(Serialize, Deserialize)]
struct LabelsFile {
    levels: usize,
    codes: Vec<CodeLabel>,
}

impl CodeLabels {
    /// Labels every prefix of `ids` from the items' `features` (one entry per item, in catalogue
    /// order). Linear in the features times the levels, after one sort of the items by code.
    pub fn compute(ids: &SemanticIds, features: &Features) -> Self {
        let n = ids.len().min(features.items());
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|&a, &b| {
            ids.codes_of(a as usize)
                .cmp(ids.codes_of(b as usize))
                .then(a.cmp(&b))
        });
        let mut counts = vec![vec![0u32; features.names.len()]; ids.levels + 1];
        let mut labels = CodeLabels::default();
        let root = Counted::of(&order, features, &mut counts[0]);
        let mut walk = Walk {
            ids,
            features,
            counts,
            out: &mut labels,
        };
        walk.children(&order, 0, &root, &mut Vec::new());
        labels
    }

    /// The label of the code with this prefix, if it exists.
    pub fn get(&self, prefix: &[u32]) -> Option<&CodeLabel> {
        self.by_prefix.get(prefix)
    }

    /// The label text of a prefix (`Horror 81% · 1980s 44%`), empty when none.
    pub fn text(&self, prefix: &[u32]) -> String {
        self.get(prefix).map(CodeLabel::text).unwrap_or_default()
    }

    /// The label words of a prefix (`Horror, 1980s`), empty when none.
    pub fn words(&self, prefix: &[u32]) -> String {
        self.get(prefix).map(CodeLabel::words).unwrap_or_default()
    }

    /// Number of labelled prefixes.
    pub fn len(&self) -> usize {
        self.by_prefix.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }

    /// Every label, by level, then by prefix.
    pub fn sorted(&self) -> Vec<&CodeLabel> {
        let mut all: Vec<&CodeLabel> = self.by_prefix.values().collect();
        all.sort_by(|a, b| (a.prefix.len(), &a.prefix).cmp(&(b.prefix.len(), &b.prefix)));
        all
    }

    /// Writes `code_labels.json` (compact: levels, then every code's prefix, item count and terms)
    /// atomically.
    pub fn write_json(&self, path: &Path, levels: usize) -> std::io::Result<()> {
        crate::atomic::write(path, self.to_json(levels)?.as_bytes())
    }

    /// The text [`Self::write_json`] writes.
    pub fn to_json(&self, levels: usize) -> std::io::Result<String> {
        let file = LabelsFile {
            levels,
            codes: self.sorted().into_iter().cloned().collect(),
        };
        serde_json::to_string(&file).map_err(std::io::Error::other)
    }

    /// Reads a `code_labels.json` written by [`Self::write_json`].
    pub fn read_json(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: LabelsFile =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self {
            by_prefix: file
                .codes
                .into_iter()
                .map(|c| (c.prefix.clone(), c))
                .collect(),
        })
    }
}

/// Feature counts of a group of items.
struct Counted {
    items: usize,
    /// Features present, with their counts.
    present: Vec<(u32, u32)>,
}

impl Counted {
    /// Counts `items`' features in `scratch` (all zero before and after).
    fn of(items: &[u32], features: &Features, scratch: &mut [u32]) -> Self {
        let mut touched = Vec::new();
        for &i in items {
            for &f in &features.of_item[i as usize] {
                let c = &mut scratch[f as usize];
                if *c == 0 {
                    touched.push(f);
                }
                *c += 1;
            }
        }
        touched.sort_unstable();
        let present = touched
            .into_iter()
            .map(|f| {
                let c = std::mem::take(&mut scratch[f as usize]);
                (f, c)
            })
            .collect();
        Self {
            items: items.len(),
            present,
        }
    }

    /// The count of feature `f` (binary search: `present` is sorted).
    fn count(&self, f: u32) -> u32 {
        self.present
            .binary_search_by_key(&f, |p| p.0)
            .map_or(0, |i| self.present[i].1)
    }
}

/// The recursive pass over the sorted items.
struct Walk<'a> {
    ids: &'a SemanticIds,
    features: &'a Features,
    counts: Vec<Vec<u32>>,
    out: &'a mut CodeLabels,
}

impl Walk<'_> {
    /// Labels the codes at `level` among `items` (all under `prefix`, whose counts are `parent`).
    fn children(&mut self, items: &[u32], level: usize, parent: &Counted, prefix: &mut Vec<u32>) {
        if level >= self.ids.levels {
            return;
        }
        let mut start = 0;
        while start < items.len() {
            let code = self.ids.codes_of(items[start] as usize)[level];
            let mut end = start;
            while end < items.len() && self.ids.codes_of(items[end] as usize)[level] == code {
                end += 1;
            }
            let group = &items[start..end];
            let counted = Counted::of(group, self.features, &mut self.counts[level + 1]);
            prefix.push(code);
            let terms = self.terms(&counted, parent);
            self.out.by_prefix.insert(
                prefix.clone(),
                CodeLabel {
                    prefix: prefix.clone(),
                    items: group.len(),
                    terms,
                },
            );
            self.children(group, level + 1, &counted, prefix);
            prefix.pop();
            start = end;
        }
    }

    /// The features of `node` most over-represented against `parent`: score `share · ln(lift)`,
    /// share at least [`MIN_SHARE`], seen on two items unless the code has one.
    fn terms(&self, node: &Counted, parent: &Counted) -> Vec<Term> {
        let n = node.items as f32;
        let pn = parent.items.max(1) as f32;
        let mut scored: Vec<(f32, u32, f32, f32)> = node
            .present
            .iter()
            .filter(|&&(_, c)| c >= 2 || node.items == 1)
            .filter_map(|&(f, c)| {
                let share = c as f32 / n;
                let base = parent.count(f).max(c) as f32 / pn;
                let lift = share / base;
                (share >= MIN_SHARE && lift > 1.0 + 1e-6)
                    .then(|| (share * lift.ln(), f, share, base))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .take(TERMS)
            .map(|(_, f, share, base)| Term {
                text: self.features.names[f as usize].clone(),
                share,
                parent_share: base,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight films: level 1 splits horror (code 0) from comedy (code 1); under horror, level 2
    /// splits the 1980s slashers (0) from the 2000s ghost films (1).
    fn catalogue() -> (SemanticIds, Features) {
        let texts = [
            "A. Year: 1981. Genres: Horror, Slasher.",
            "B. Year: 1984. Genres: Horror, Slasher.",
            "C. Year: 1986. Genres: Horror, Slasher, Comedy.",
            "D. Year: 2003. Genres: Horror, Ghost.",
            "E. Year: 2005. Genres: Horror, Ghost.",
            "F. Year: 1999. Genres: Comedy, Romance.",
            "G. Year: 1997. Genres: Comedy, Romance.",
            "H. Year: 2001. Genres: Comedy.",
        ];
        let codes = vec![
            0, 0, 0, 0, 0, 0, 0, 1, 0, 1, //
            1, 0, 1, 0, 1, 1,
        ];
        (
            SemanticIds::assign(codes, 2),
            Features::from_texts(texts.iter().copied()),
        )
    }

    #[test]
    fn level_one_codes_are_named_by_what_sets_them_apart_from_the_catalogue() {
        let (ids, features) = catalogue();
        let labels = CodeLabels::compute(&ids, &features);
        assert_eq!(labels.len(), 2 + 4);
        let horror = labels.get(&[0]).unwrap();
        assert_eq!(horror.items, 5);
        // Horror: 5 of 5 here against 5 of 8 overall (score ln 1.6 = 0.47); 1980s and Slasher
        // 3/5 against 3/8 (0.6 · ln 1.6 = 0.28, tied: first seen first); Ghost 2/5 against 2/8
        // (0.19) is fourth; Comedy (one item) is out.
        assert_eq!(horror.words(), "Horror, 1980s, Slasher");
        assert_eq!(horror.terms[0].share, 1.0);
        assert!((horror.terms[0].parent_share - 5.0 / 8.0).abs() < 1e-6);
        assert_eq!(horror.text(), "Horror 100% · 1980s 60% · Slasher 60%");
        let comedy = labels.get(&[1]).unwrap();
        // Comedy 3/3 against 4/8 (0.69); 1990s and Romance 2/3 against 2/8 (0.65).
        assert_eq!(comedy.words(), "Comedy, 1990s, Romance");
    }

    #[test]
    fn deeper_codes_are_named_against_their_parent_not_the_catalogue() {
        let (ids, features) = catalogue();
        let labels = CodeLabels::compute(&ids, &features);
        // Under horror, Horror is everywhere (no lift): the 1980s slashers and the ghost films.
        assert_eq!(labels.words(&[0, 0]), "1980s, Slasher");
        assert_eq!(labels.words(&[0, 1]), "2000s, Ghost");
        assert!(!labels.words(&[0, 0]).contains("Horror"));
        // One item: its own features that are rarer than in its parent.
        assert_eq!(labels.words(&[1, 1]), "2000s");
        assert_eq!(labels.text(&[7, 7]), "");
    }

    #[test]
    fn labels_survive_a_round_trip_through_their_file() {
        let (ids, features) = catalogue();
        let labels = CodeLabels::compute(&ids, &features);
        let dir = std::env::temp_dir().join(format!("tiger-labels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("code_labels.json");
        labels.write_json(&path, ids.levels).unwrap();
        assert_eq!(CodeLabels::read_json(&path).unwrap(), labels);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"Slasher\""), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
