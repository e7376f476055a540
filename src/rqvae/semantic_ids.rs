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
        crate::atomic::write_with(path, |w| {
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
        })
    }
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
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
