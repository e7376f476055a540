//! Integration tests of the `tiger-explorer` command line, end to end through the built binary.
//! Shared helpers are in `tests/support.rs`.

#[path = "../support.rs"]
mod support;

mod ablations;
mod commands;
mod divergence;
mod interrupt;
mod labels;
mod recommender;
