//! The app's own frame timer: how long each `show` took (UI work only, not presentation).

use std::collections::VecDeque;
use std::time::Duration;

/// Keeps the last frames' durations.
#[derive(Debug, Default)]
pub struct FrameTimer {
    recent: VecDeque<f64>,
}

/// Frames kept for the statistics.
const KEEP: usize = 600;

impl FrameTimer {
    /// Records one frame.
    pub fn record(&mut self, d: Duration) {
        if self.recent.len() == KEEP {
            self.recent.pop_front();
        }
        self.recent.push_back(d.as_secs_f64() * 1000.0);
    }

    /// (p50, p99) in milliseconds over the kept frames.
    pub fn percentiles(&self) -> Option<(f64, f64)> {
        if self.recent.is_empty() {
            return None;
        }
        let mut v: Vec<f64> = self.recent.iter().copied().collect();
        v.sort_by(f64::total_cmp);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        Some((at(0.5), at(0.99)))
    }

    /// Number of frames kept.
    pub fn len(&self) -> usize {
        self.recent.len()
    }

    /// Whether no frame was recorded.
    pub fn is_empty(&self) -> bool {
        self.recent.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_known_frames() {
        let mut t = FrameTimer::default();
        for ms in 1..=100 {
            t.record(Duration::from_millis(ms));
        }
        let (p50, p99) = t.percentiles().unwrap();
        assert!(
            (p50 - 50.0).abs() <= 1.0 && (p99 - 99.0).abs() <= 1.0,
            "{p50} {p99}"
        );
    }
}
