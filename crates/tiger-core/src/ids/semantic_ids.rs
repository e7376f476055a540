//! Semantic IDs: the L codes of each item plus a collision token that makes every full ID unique,
//! and their CSV form (`item_id,c1,..,cL,collision`).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// Full semantic IDs of a catalogue, row `i` for item `i`.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticIds {
    /// Number of code levels L (the collision token comes on top).
    pub levels: usize,
    /// `[items, levels]` codes, row-major.
    pub codes: Vec<u32>,
    /// Collision token per item: 0 for the first item (catalogue order) with a given code tuple,
    /// 1 for the second, and so on.
    pub collision: Vec<u32>,
}

/// A uniformly random permutation of `0..n` drawn from `seed` (Fisher–Yates over a xorshift
/// generator): the same on every machine.
pub fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..n).collect();
    let mut rng = crate::embeddings::synthetic::XorShift::new(seed ^ 0x5EED_C0DE);
    for i in (1..n).rev() {
        perm.swap(i, rng.below(i + 1));
    }
    perm
}

impl SemanticIds {
    /// Assigns collision tokens to `codes` (`[items, levels]`): items sharing all L codes are
    /// numbered 0, 1, 2… in catalogue order, so every (codes, collision) tuple is unique.
    pub fn assign(codes: Vec<u32>, levels: usize) -> Self {
        let mut seen: HashMap<&[u32], u32> = HashMap::new();
        let mut collision = Vec::with_capacity(codes.len() / levels.max(1));
        for row in codes.chunks_exact(levels.max(1)) {
            let n = seen.entry(row).or_insert(0);
            collision.push(*n);
            *n += 1;
        }
        Self {
            levels,
            codes,
            collision,
        }
    }

    /// Random IDs of the same shape (the paper's ablation of semantic IDs): item `i` takes the
    /// codes of item `permutation(n, seed)[i]`, and collision tokens are assigned again. The set of
    /// full IDs, and so the trie, the vocabulary and every codebook statistic, stays the same; only
    /// which item carries which ID, and with it any meaning of the codes, is lost.
    pub fn shuffled(&self, seed: u64) -> Self {
        let perm = permutation(self.len(), seed);
        let codes = perm
            .iter()
            .flat_map(|&j| self.codes_of(j).iter().copied())
            .collect();
        Self::assign(codes, self.levels)
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.collision.len()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.collision.is_empty()
    }

    /// The L codes of item `i`.
    pub fn codes_of(&self, i: usize) -> &[u32] {
        &self.codes[i * self.levels..(i + 1) * self.levels]
    }

    /// Largest collision token + 1 (how many collision tokens the vocabulary needs).
    pub fn collision_depth(&self) -> u32 {
        self.collision.iter().copied().max().map_or(0, |m| m + 1)
    }

    /// Writes `item_id,c1,..,cL,collision` rows atomically; `ids[i]` is item `i`'s id.
    pub fn write_csv(&self, path: &Path, ids: &[String]) -> std::io::Result<()> {
        crate::atomic::write_with(path, |w| self.write_csv_to(w, ids))
    }

    /// Writes the CSV of [`Self::write_csv`] to `w`.
    pub fn write_csv_to(&self, w: &mut impl Write, ids: &[String]) -> std::io::Result<()> {
        let mut header = vec!["item_id".to_string()];
        header.extend((1..=self.levels).map(|l| format!("c{l}")));
        header.push("collision".into());
        writeln!(w, "{}", header.join(","))?;
        for (i, id) in ids.iter().enumerate().take(self.len()) {
            let codes: Vec<String> = self.codes_of(i).iter().map(u32::to_string).collect();
            writeln!(
                w,
                "{},{},{}",
                csv_field(id),
                codes.join(","),
                self.collision[i]
            )?;
        }
        Ok(())
    }
}

/// Errors reading a `semantic_ids.csv` file; each names the file and, where it applies, the line.
#[derive(Debug, thiserror::Error)]
pub enum IdsError {
    /// Reading or parsing failed.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The file does not cover the catalogue it is used with.
    #[error("{path}: {message}")]
    Catalogue {
        /// The IDs file.
        path: std::path::PathBuf,
        /// What does not match.
        message: String,
    },
}

impl SemanticIds {
    /// Reads `item_id,c1,..,cL,collision` and orders the rows like `catalogue` (item ids in
    /// catalogue order). Every catalogue item must have exactly one row, and full IDs must be
    /// unique.
    pub fn read_csv(path: &Path, catalogue: &[String]) -> Result<Self, IdsError> {
        use crate::data::table::Table;
        let mut table = Table::open(path, b',', true)?;
        let header = table.columns().header().to_vec();
        let levels = header.iter().filter(|h| is_code_column(h)).count();
        let id_col = table.columns().require(&["item_id"])?;
        let col_col = table.columns().require(&["collision"])?;
        let code_cols: Vec<usize> = (1..=levels)
            .map(|l| table.columns().require(&[format!("c{l}").as_str()]))
            .collect::<Result<_, _>>()?;
        if levels == 0 {
            return Err(IdsError::Catalogue {
                path: path.into(),
                message: "no code columns (c1, c2, …) in the header".into(),
            });
        }
        let index: HashMap<&str, usize> = catalogue
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let mut codes = vec![u32::MAX; catalogue.len() * levels];
        let mut collision = vec![u32::MAX; catalogue.len()];
        table.for_each_row(|cols, row| {
            let id = cols.text(row, id_col)?;
            let bad = |message: String| crate::data::DataError::BadRow {
                path: path.into(),
                line: row.line,
                message,
            };
            let &i = index.get(id).ok_or_else(|| {
                bad(format!(
                    "item '{}' is not in the catalogue",
                    crate::data::error::clip(id)
                ))
            })?;
            if collision[i] != u32::MAX {
                return Err(bad(format!("item '{id}' appears twice")));
            }
            for (l, &c) in code_cols.iter().enumerate() {
                codes[i * levels + l] = code_value(cols, row, c)?;
            }
            collision[i] = code_value(cols, row, col_col)?;
            Ok(())
        })?;
        if let Some(i) = collision.iter().position(|&c| c == u32::MAX) {
            return Err(IdsError::Catalogue {
                path: path.into(),
                message: format!("catalogue item '{}' has no semantic ID", catalogue[i]),
            });
        }
        let ids = Self {
            levels,
            codes,
            collision,
        };
        let mut seen = HashMap::new();
        for i in 0..ids.len() {
            if let Some(j) = seen.insert((ids.codes_of(i), ids.collision[i]), i) {
                return Err(IdsError::Catalogue {
                    path: path.into(),
                    message: format!(
                        "items '{}' and '{}' share the same full ID",
                        catalogue[j], catalogue[i]
                    ),
                });
            }
        }
        Ok(ids)
    }

    /// Reads `item_id,c1,..,cL,collision` in the file's own row order, returning the item ids
    /// with the IDs (for figures that need no catalogue, such as the quality report).
    pub fn read_csv_in_file_order(path: &Path) -> Result<(Vec<String>, Self), IdsError> {
        use crate::data::table::Table;
        let mut table = Table::open(path, b',', true)?;
        let id_col = table.columns().require(&["item_id"])?;
        let mut items = Vec::new();
        table.for_each_row(|cols, row| {
            items.push(cols.text(row, id_col)?.to_string());
            Ok(())
        })?;
        let ids = Self::read_csv(path, &items)?;
        Ok((items, ids))
    }

    /// Largest code used at each level + 1 (the codebook size the IDs need).
    pub fn codebook_size(&self) -> u32 {
        self.codes.iter().copied().max().map_or(0, |m| m + 1)
    }
}

/// Whether a header names a code column (`c1`, `c2`, …).
fn is_code_column(h: &str) -> bool {
    h.len() > 1 && h.starts_with('c') && h[1..].chars().all(|c| c.is_ascii_digit())
}

/// Parses a non-negative integer code below 1,000,000.
fn code_value(
    cols: &crate::data::table::Columns,
    row: &crate::data::table::Row,
    col: usize,
) -> Result<u32, crate::data::DataError> {
    let v = cols.number(row, col)?;
    if v < 0.0 || v.fract() != 0.0 || v >= 1e6 {
        return Err(crate::data::DataError::BadValue {
            path: cols.path().into(),
            line: row.line,
            column: cols.header()[col].clone(),
            value: v.to_string(),
            message: "not a code (a whole number from 0 to 999999)".into(),
        });
    }
    Ok(v as u32)
}

/// Quotes a CSV field when it holds a comma, quote or newline.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_ids_keep_the_set_of_full_ids_and_move_them_between_items() {
        // Items 0..3 share codes (1, 2); the rest are distinct.
        let codes = vec![1, 2, 1, 2, 1, 2, 0, 3, 3, 0, 2, 2, 0, 0, 3, 3];
        let ids = SemanticIds::assign(codes, 2);
        let full = |s: &SemanticIds| {
            let mut v: Vec<(Vec<u32>, u32)> = (0..s.len())
                .map(|i| (s.codes_of(i).to_vec(), s.collision[i]))
                .collect();
            v.sort();
            v
        };
        let a = ids.shuffled(7);
        assert_eq!(full(&a), full(&ids), "the same full IDs");
        let moved = (0..ids.len())
            .filter(|&i| a.codes_of(i) != ids.codes_of(i))
            .count();
        assert!(moved >= 3, "only {moved} of 8 items changed codes");
        assert_eq!(a, ids.shuffled(7), "the seed fixes the shuffle");
        assert_ne!(a, ids.shuffled(8));
        // Collision tokens follow catalogue order again, as the CSV reader requires.
        let tokens: Vec<u32> = (0..a.len())
            .filter(|&i| a.codes_of(i) == [1, 2])
            .map(|i| a.collision[i])
            .collect();
        assert_eq!(tokens, vec![0, 1, 2]);
    }
    use std::collections::HashSet;

    #[test]
    fn collision_tokens_make_ids_unique_in_catalogue_order() {
        let codes = vec![1, 2, 3, 1, 2, 3, 4, 5, 6, 1, 2, 3];
        let ids = SemanticIds::assign(codes, 3);
        assert_eq!(ids.collision, vec![0, 1, 0, 2]);
        assert_eq!(ids.collision_depth(), 3);
        let full: HashSet<(Vec<u32>, u32)> = (0..ids.len())
            .map(|i| (ids.codes_of(i).to_vec(), ids.collision[i]))
            .collect();
        assert_eq!(full.len(), 4);
    }

    #[test]
    fn csv_has_header_and_quotes_ids() {
        let dir = std::env::temp_dir().join(format!("sid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("ids.csv");
        let ids = SemanticIds::assign(vec![7, 8, 7, 8], 2);
        ids.write_csv(&p, &["a".into(), "b,c".into()]).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text, "item_id,c1,c2,collision\na,7,8,0\n\"b,c\",7,8,1\n");
        let back = SemanticIds::read_csv(&p, &["b,c".into(), "a".into()]).unwrap();
        assert_eq!(back.codes, vec![7, 8, 7, 8]);
        assert_eq!(back.collision, vec![1, 0]);
        let err = SemanticIds::read_csv(&p, &["a".into()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("not in the catalogue"),
            "{err}"
        );
        let err = SemanticIds::read_csv(&p, &["a".into(), "b,c".into(), "z".into()])
            .unwrap_err()
            .to_string();
        assert!(err.contains("'z' has no semantic ID"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
