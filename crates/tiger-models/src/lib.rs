//! tiger-explorer's models and pipeline on burn: the sentence encoder, the RQ-VAE, TIGER and
//! SASRec, beam search, evaluation, training loops and run folders. Kernels come from
//! `tiger-kernels`; datasets, formats and options from `tiger-core`.

pub mod decode;
pub mod embed;
pub mod id_schemes;
pub mod rqvae;
pub mod run;
pub mod sasrec;
pub mod tiger;
pub mod train;
