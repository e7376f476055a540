//! Training loops, run on whichever thread owns the device.

pub mod rqvae_loop;
