//! The device choice (the app's burn-free part of `device`).

#[path = "../../src/device_choice.rs"]
mod device_choice;
pub use device_choice::DeviceChoice;
