//! Baselines TIGER is compared against.

pub mod sasrec;
pub use tiger_core::options::sasrec as sasrec_options;
pub mod sasrec_train;
