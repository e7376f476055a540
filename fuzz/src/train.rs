//! Checkpoints, training options and run configs (the app's source files).

#[path = "../../src/train/checkpoint.rs"]
pub mod checkpoint;
#[path = "../../src/train/options.rs"]
pub mod options;
#[path = "../../src/train/run_config.rs"]
pub mod run_config;
