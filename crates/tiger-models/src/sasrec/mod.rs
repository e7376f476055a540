//! SASRec, the baseline TIGER is compared against: model, training and evaluation.

pub mod model;
pub mod train;

pub use model::{SasRec, SasRecConfig};
