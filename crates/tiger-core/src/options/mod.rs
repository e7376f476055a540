//! Options of the recommenders' training, each a config field and a CLI flag (the RQ-VAE's are in
//! [`crate::config`]).

pub mod sasrec;
pub mod stop;
pub mod tiger;
