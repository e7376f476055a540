//! Training loops, run on whichever thread owns the device.

pub mod checkpoint;
pub mod device_optim;
pub mod device_rows;
pub mod flat_params;
pub mod graph_capture;
pub mod loop_common;
pub mod rqvae_graph;
pub mod rqvae_graph_loop;
pub mod rqvae_loop;
mod rqvae_restart;
pub mod test_eval;
pub mod tiger_loop;
