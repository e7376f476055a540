//! Decoding semantic IDs: the prefix trie of valid IDs and beam search.

pub mod beam;

pub use beam::{BeamConfig, BeamStep, Candidate, Hypothesis, StepScorer, search};
