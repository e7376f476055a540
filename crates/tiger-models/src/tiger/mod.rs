//! TIGER, the generative recommender: batches, the T5-style model, its beam-search scorer (on the
//! fused decoder kernels where they apply) and its evaluation.

pub mod batch;
pub mod device_beam;
pub mod evaluate;
pub mod fused_path;
pub mod model;
pub mod relpos;
pub mod scorer;

pub use model::{Tiger, TigerConfig};
