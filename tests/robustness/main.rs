//! Integration tests of bad input, damaged checkpoints, kills mid-write and device faults.
//! Shared helpers are in `tests/support.rs`.

#[path = "../support.rs"]
mod support;

mod bad_checkpoints;
mod bad_files;
mod device_faults;
mod kill_safety;
