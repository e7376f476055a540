//! Speed measurements behind `tiger-bench`: training steps/s of the RQ-VAE, TIGER's
//! model and SASRec, first-step latency, embedding throughput, beam-search latency and
//! evaluation throughput, and catalogue scaling. Each result is a [`BenchResult`] printed as a
//! table row and as JSON. Every timed window ends with a read-back from the device, so queued GPU
//! work is inside the measurement.

pub mod attention;
pub mod cycles;
pub mod infer;
pub mod launch;
pub mod matmul;
pub mod ratio;
pub mod replay_probe;
pub mod sampler;
pub mod scaling;
pub mod threads;
pub mod train;

use serde::Serialize;

use burn::prelude::*;

/// One measured workload.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// Workload name, e.g. `rqvae`, `tiger`, `sasrec`, `embed`, `beam`, `eval`.
    pub workload: String,
    /// The device, as [`tiger_kernels::device::ChosenDevice::description`].
    pub device: String,
    /// Headline rate (steps/s, items/s or users/s; see `unit`).
    pub rate: f64,
    /// Unit of `rate`.
    pub unit: String,
    /// Seconds until the first step was submitted (compilation, autotune, init), if relevant.
    pub first_step_s: Option<f64>,
    /// Median latency of one query in milliseconds, if relevant.
    pub latency_ms: Option<f64>,
    /// Peak device memory reserved by burn's pool (MiB), when the backend reports it.
    pub peak_device_mib: Option<f64>,
    /// Peak resident host memory of the process so far (MiB), Linux only.
    pub peak_host_mib: Option<f64>,
    /// Shapes and settings, in words.
    pub shape: String,
}

impl BenchResult {
    /// One table row.
    pub fn row(&self) -> String {
        let opt =
            |v: Option<f64>, unit: &str| v.map_or("-".to_string(), |v| format!("{v:.2} {unit}"));
        format!(
            "{:<8} {:>10.2} {:<8} first {:<10} latency {:<10} device {:<12} host {:<12} | {}",
            self.workload,
            self.rate,
            self.unit,
            opt(self.first_step_s, "s"),
            opt(self.latency_ms, "ms"),
            opt(self.peak_device_mib, "MiB"),
            opt(self.peak_host_mib, "MiB"),
            self.shape
        )
    }
}

/// Tracks the peak of burn's device memory pool between samples.
#[derive(Debug, Default, Clone, Copy)]
pub struct DevicePeak {
    bytes: u64,
    seen: bool,
}

impl DevicePeak {
    /// Samples the pool of `device`.
    pub fn sample(&mut self, device: &Device) {
        if let Some(u) = device.memory_pool_usage() {
            self.bytes = self.bytes.max(u.bytes_reserved);
            self.seen = true;
        }
    }

    /// The peak in MiB, if the backend reported any.
    pub fn mib(&self) -> Option<f64> {
        self.seen.then(|| self.bytes as f64 / (1024.0 * 1024.0))
    }
}

/// Peak resident memory of this process in MiB (`VmHWM` from `/proc/self/status`).
pub fn peak_host_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Current resident memory of this process in MiB (`VmRSS`).
pub fn host_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_memory_is_read_on_linux() {
        // RSS first: the peak read afterwards includes it even if memory grew in between.
        let rss = host_rss_mib().unwrap();
        let peak = peak_host_mib().unwrap();
        assert!(peak >= rss && rss > 0.0, "{peak} {rss}");
    }
}
