//! The embedding file formats (the app's source files).

#[path = "../../src/embed/npy.rs"]
pub mod npy;
#[path = "../../src/embed/safetensors_io.rs"]
pub mod safetensors_io;
#[path = "../../src/embed/store.rs"]
pub mod store;
