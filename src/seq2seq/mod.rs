//! The generative recommender: vocabulary, batches, the T5-style model and its beam-search scorer.

pub mod attention;
pub mod batch;
pub(crate) mod cube_alloc;
pub mod evaluate;
pub mod flash;
pub mod fused_layer;
pub mod gemm;
pub mod linear;
pub mod model;
pub mod relpos;
pub mod rmsnorm;
pub mod scorer;
pub use tiger_core::ids::vocab;

pub use model::{Seq2Seq, Seq2SeqConfig};
pub use vocab::Vocab;
