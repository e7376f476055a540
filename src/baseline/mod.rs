//! Baselines TIGER is compared against.

pub mod sasrec;
