//! Baselines TIGER is compared against.

pub mod sasrec;
pub mod sasrec_options;
pub mod sasrec_train;
