//! The backend a user asks for (burn-free, so option structs compile without burn).

use serde::{Deserialize, Serialize};

/// Which backend a job runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// A hardware GPU through burn-wgpu when the machine has one; else burn's flex CPU backend.
    /// A software GPU adapter (llvmpipe, lavapipe, SwiftShader, WARP) is never chosen: the CPU
    /// backend computes faster.
    #[default]
    Auto,
    /// burn-wgpu on the default adapter (Vulkan/Metal/DX12), whatever it is, software included;
    /// falls back to the CPU when none exists.
    Gpu,
    /// burn's flex CPU backend.
    Cpu,
}
