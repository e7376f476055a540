//! Item embedding files: `.npy` and `.safetensors`, rows in catalogue order.

pub mod map_file;
pub mod npy;
pub mod safetensors_io;
pub mod store;
pub mod synthetic;

pub use store::{Embeddings, StoreError};
