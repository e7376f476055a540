//! Integration tests of GPU kernels against their reference paths, and the GPU path end to end.
//! Shared helpers are in `tests/support.rs`.

#[path = "../support.rs"]
mod support;

mod adamw;
mod device_beam;
mod flash_attention;
mod flash_training;
mod fused_decoder;
mod gemm;
mod gpu_cache;
mod recommender_gpu;
mod rmsnorm;
mod rq_codes;
mod rqvae_graph_loop;
mod rqvae_graph_step;
mod wgpu_path;
