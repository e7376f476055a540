//! Integration tests of the window: kittest flows, the worker thread and the map renderer.
//! Shared helpers are in `tests/support.rs`.

#[path = "../support.rs"]
mod support;

mod flows;
mod hierarchy;
mod map_render;
mod runs;
mod worker;
