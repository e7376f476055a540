//! Run folders: one layout for RQ-VAE, TIGER and SASRec runs, whether the command line or the
//! window wrote them (`tiger_core::run` reads and checks them); this part writes an RQ-VAE's
//! weights and packs runs, which needs the models.

pub mod pack;
pub mod quantize_run;

pub use quantize_run::save_quantize_run;
