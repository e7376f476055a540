//! Training and evaluation samples: a history of items and the next item to predict.

use super::Split;

/// Which targets a set of samples predicts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// Every prefix of each user's training part predicts its next item.
    Train,
    /// The training part predicts the validation item.
    Valid,
    /// The training part plus the validation item predict the test item.
    Test,
}

/// One history → next-item example.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Index into the dataset's users.
    pub user: u32,
    /// Item indices, oldest first, at most `max_history` long.
    pub history: Vec<u32>,
    /// The item to predict.
    pub target: u32,
}

/// Builds the samples of `part` with histories capped at the last `max_history` items.
pub fn samples(split: &Split, part: Part, max_history: usize) -> Vec<Sample> {
    let cap = |h: &[u32]| h[h.len().saturating_sub(max_history)..].to_vec();
    let mut out = Vec::new();
    for u in &split.users {
        match part {
            Part::Train => {
                for i in 1..u.train.len() {
                    out.push(Sample {
                        user: u.user,
                        history: cap(&u.train[..i]),
                        target: u.train[i],
                    });
                }
            }
            Part::Valid => out.push(Sample {
                user: u.user,
                history: cap(&u.train),
                target: u.valid,
            }),
            Part::Test => {
                let mut h = u.train.clone();
                h.push(u.valid);
                out.push(Sample {
                    user: u.user,
                    history: cap(&h),
                    target: u.test,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::UserSequence;

    #[test]
    fn every_prefix_trains_and_targets_follow_the_split() {
        let split = Split {
            k: 1,
            users: vec![UserSequence {
                user: 0,
                train: vec![10, 11, 12, 13],
                valid: 14,
                test: 15,
            }],
            interactions: 6,
            items: 6,
        };
        let train = samples(&split, Part::Train, 2);
        let pairs: Vec<(Vec<u32>, u32)> = train
            .iter()
            .map(|s| (s.history.clone(), s.target))
            .collect();
        assert_eq!(
            pairs,
            vec![(vec![10], 11), (vec![10, 11], 12), (vec![11, 12], 13)]
        );
        let v = samples(&split, Part::Valid, 20);
        assert_eq!(
            (v[0].history.clone(), v[0].target),
            (vec![10, 11, 12, 13], 14)
        );
        let t = samples(&split, Part::Test, 3);
        assert_eq!((t[0].history.clone(), t[0].target), (vec![12, 13, 14], 15));
    }
}
