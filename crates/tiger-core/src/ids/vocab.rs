//! The token vocabulary of the generative recommender: specials, one token range per code level
//! (so level-1 code 5 and level-2 code 5 differ), collision tokens and optional hashed user tokens.

use serde::{Deserialize, Serialize};

use crate::ids::SemanticIds;

/// Padding token.
pub const PAD: u32 = 0;
/// Start of the decoder sequence.
pub const BOS: u32 = 1;
/// End of sequence (reserved; IDs have a fixed length so decoding never needs it).
pub const EOS: u32 = 2;
/// Number of special tokens.
const SPECIALS: u32 = 3;

/// Layout of the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocab {
    /// Code levels L.
    pub levels: usize,
    /// Codes per level.
    pub codebook_size: u32,
    /// Collision tokens (max collision index + 1).
    pub collision_tokens: u32,
    /// Hashed user buckets (0 = no user token).
    pub user_buckets: u32,
}

impl Vocab {
    /// The vocabulary needed by `ids`, with `user_buckets` hashed user tokens (0 = none).
    pub fn for_ids(ids: &SemanticIds, codebook_size: u32, user_buckets: u32) -> Self {
        Self {
            levels: ids.levels,
            codebook_size: codebook_size.max(ids.codebook_size()),
            collision_tokens: ids.collision_depth().max(1),
            user_buckets,
        }
    }

    /// Tokens per item: L codes + the collision token.
    pub fn id_len(&self) -> usize {
        self.levels + 1
    }

    /// First token of position `pos` of an ID (0..L are code levels, L is the collision token).
    pub fn offset(&self, pos: usize) -> u32 {
        SPECIALS + (pos.min(self.levels) as u32) * self.codebook_size
    }

    /// How many tokens position `pos` of an ID can take.
    pub fn width(&self, pos: usize) -> u32 {
        if pos < self.levels {
            self.codebook_size
        } else {
            self.collision_tokens
        }
    }

    /// Total vocabulary size.
    pub fn size(&self) -> usize {
        (self.offset(self.levels) + self.collision_tokens + self.user_buckets) as usize
    }

    /// Token of value `value` at ID position `pos`.
    pub fn token(&self, pos: usize, value: u32) -> u32 {
        self.offset(pos) + value
    }

    /// The `id_len()` tokens of item `item`.
    pub fn item_tokens(&self, ids: &SemanticIds, item: usize) -> Vec<u32> {
        let mut t: Vec<u32> = ids
            .codes_of(item)
            .iter()
            .enumerate()
            .map(|(l, &c)| self.token(l, c))
            .collect();
        t.push(self.token(self.levels, ids.collision[item]));
        t
    }

    /// The hashed token of a user id, if user tokens are enabled.
    pub fn user_token(&self, user_id: &str) -> Option<u32> {
        (self.user_buckets > 0).then(|| {
            // FNV-1a: stable across runs and platforms.
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in user_id.bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            self.offset(self.levels) + self.collision_tokens + (h % self.user_buckets as u64) as u32
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_have_disjoint_ranges() {
        let ids = SemanticIds::assign(vec![5, 5, 1, 5, 5, 1], 3);
        let v = Vocab::for_ids(&ids, 8, 10);
        assert_eq!(
            v.item_tokens(&ids, 0),
            vec![3 + 5, 3 + 8 + 5, 3 + 16 + 1, 3 + 24]
        );
        assert_eq!(v.item_tokens(&ids, 1), vec![8, 16, 20, 28]);
        assert_eq!(v.size(), 3 + 24 + 2 + 10);
        let u = v.user_token("alice").unwrap();
        assert!((29..39).contains(&u));
        assert_eq!(Some(u), v.user_token("alice"));
        assert_eq!(
            Vocab {
                user_buckets: 0,
                ..v
            }
            .user_token("alice"),
            None
        );
    }
}
