//! tiger-explorer's window: the app (panels, the worker thread that owns the device, settings),
//! built on the pipeline in `tiger-models`, the kernels in `tiger-kernels` and the burn-free layer
//! in `tiger-core`.

pub mod app;
