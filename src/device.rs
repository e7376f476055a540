//! Choosing the compute device: burn-wgpu on the GPU (the product path) or the flex CPU backend.

use burn::prelude::*;
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

/// A device together with a human-readable description for status lines.
#[derive(Debug, Clone)]
pub struct ChosenDevice {
    /// The burn device (without autodiff).
    pub device: Device,
    /// What it is, e.g. `wgpu: NVIDIA H200` or `cpu (flex)`.
    pub description: String,
    /// Set when the GPU was asked for but the CPU is used, with the reason.
    pub fallback: Option<String>,
}

/// Initialises the requested device. With [`DeviceChoice::Gpu`] and no usable adapter, falls back
/// to the CPU and records why in [`ChosenDevice::fallback`]. Call once per process: burn-wgpu can
/// be initialised only once.
pub fn choose(choice: DeviceChoice) -> ChosenDevice {
    match choice {
        DeviceChoice::Cpu => cpu(None),
        DeviceChoice::Gpu => match Device::wgpu_options().init() {
            Ok(device) => {
                let name = device
                    .identity()
                    .map(|i| i.name.to_string())
                    .unwrap_or_else(|| "default adapter".into());
                ChosenDevice {
                    device,
                    description: format!("gpu (burn-wgpu: {name})"),
                    fallback: None,
                }
            }
            Err(e) => cpu(Some(format!(
                "no usable GPU adapter ({e}); using the CPU backend"
            ))),
        },
    }
}

/// The GPU handles burn runs on, for the window to render with (one device, one driver context).
pub type SharedGpu = burn::tensor::wgpu::WgpuSetup;

/// Like [`choose`], but on the GPU also returns burn's wgpu instance, adapter, device and queue so
/// the window can draw on the same device (`egui_wgpu::WgpuSetup::Existing`). The setup is `None`
/// on the CPU or after a fallback.
pub fn choose_shared(choice: DeviceChoice) -> (ChosenDevice, Option<SharedGpu>) {
    match choice {
        DeviceChoice::Cpu => (cpu(None), None),
        DeviceChoice::Gpu => match Device::wgpu_options().init_with_setup() {
            Ok((device, setup)) => {
                let name = setup.adapter.get_info().name;
                (
                    ChosenDevice {
                        device,
                        description: format!("gpu (burn-wgpu: {name}; shared with the window)"),
                        fallback: None,
                    },
                    Some(setup),
                )
            }
            Err(e) => (
                cpu(Some(format!(
                    "no usable GPU adapter ({e}); using the CPU backend"
                ))),
                None,
            ),
        },
    }
}

/// The flex CPU device.
fn cpu(fallback: Option<String>) -> ChosenDevice {
    ChosenDevice {
        device: Device::flex(),
        description: "cpu (burn flex)".into(),
        fallback,
    }
}
