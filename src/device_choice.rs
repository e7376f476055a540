//! The backend a user asks for (burn-free, so option structs compile without burn).

use serde::{Deserialize, Serialize};

/// Which backend a job runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    /// burn-wgpu on the default adapter (Vulkan/Metal/DX12); falls back to the CPU when none exists.
    #[default]
    Gpu,
    /// burn's flex CPU backend.
    Cpu,
}
