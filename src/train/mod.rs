//! Training loops, run on whichever thread owns the device.

pub mod checkpoint;
pub use tiger_core::rec_data as context;
pub mod device_optim;
pub mod device_rows;
pub mod flat_params;
pub mod fused_adamw;
pub mod graph_capture;
pub mod loop_common;
pub use tiger_core::options::seq2seq as options;
pub mod rqvae_graph;
pub mod rqvae_graph_loop;
pub mod rqvae_loop;
mod rqvae_restart;
pub use tiger_core::run::tiger_config as run_config;
pub mod seq2seq_loop;
pub mod test_eval;
