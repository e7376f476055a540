//! tiger-explorer's GPU kernels (CubeCL, run by burn-wgpu) with the devices they run on.
//!
//! Each kernel sits beside its reference path (burn's tensor operations) and takes over only on
//! the GPU, for the shapes it handles, while the calling thread's [`Kernels`] leave it on:
//! - [`flash`]: training attention, forward and backward;
//! - [`gemm`]: the linear layers' matrix product;
//! - [`rmsnorm`]: RMSNorm forward and backward;
//! - [`adamw`]: AdamW with per-parameter norm clipping;
//! - [`fused_decoder`]: beam search's transformer in few, wide kernels, and the on-device beam
//!   selection;
//! - [`rq_codes`]: the RQ-VAE's nearest-code search of every level.
//!
//! The layers that choose between a kernel and its reference path are here too: [`linear`] (the
//! product kernel or burn's matmul with a split weight gradient) and [`attention`] (multi-head
//! attention through the training kernels or tensor operations), shared by TIGER, SASRec and the
//! RQ-VAE. [`device`] chooses and describes the compute device; [`gpu_cache`] keeps compiled
//! kernels between launches; [`row_lookup`] is the table lookup with a fast gradient.

pub mod adamw;
pub mod alloc;
pub mod attention;
pub mod choice;
pub mod device;
pub mod flash;
pub mod fused_decoder;
pub mod gemm;
pub mod gpu_cache;
pub mod linear;
pub mod rmsnorm;
pub mod row_lookup;
pub mod rq_codes;

pub use choice::{Kernel, Kernels};
