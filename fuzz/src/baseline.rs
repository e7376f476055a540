//! SASRec's options and run config (the app's source file).

#[path = "../../src/baseline/sasrec_options.rs"]
pub mod sasrec_options;
