//! An A/B switch for a fused path: an environment variable set to `off` turns it off for the
//! process, and a test may force it either way to compare both paths in one process. It also
//! counts the calls that took the path, so tests can check that a model really ran through it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// One switch (a `static`): its variable, and a test's choice (0 none, 1 on, 2 off).
pub struct Switch {
    env: &'static str,
    forced: AtomicU8,
    off: OnceLock<bool>,
    calls: AtomicU64,
}

impl Switch {
    /// A switch read from `env`.
    pub const fn new(env: &'static str) -> Self {
        Self {
            env,
            forced: AtomicU8::new(0),
            off: OnceLock::new(),
            calls: AtomicU64::new(0),
        }
    }

    /// Counts one call that took the path.
    pub fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Calls that took the path since the process started.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Forces the switch on or off (`None`: follow the variable again).
    pub fn force(&self, on: Option<bool>) {
        let v = match on {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        self.forced.store(v, Ordering::Relaxed);
    }

    /// Whether the path is on: a forced choice, else on unless the variable says `off`.
    pub fn on(&self) -> bool {
        match self.forced.load(Ordering::Relaxed) {
            1 => true,
            2 => false,
            _ => !*self
                .off
                .get_or_init(|| std::env::var(self.env).is_ok_and(|v| v == "off")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forcing_overrides_the_variable_until_released() {
        let s = Switch::new("TIGER_TEST_SWITCH_NEVER_SET");
        assert!(s.on());
        s.force(Some(false));
        assert!(!s.on());
        s.force(Some(true));
        assert!(s.on());
        s.force(None);
        assert!(s.on());
        assert_eq!(s.calls(), 0);
        s.count();
        s.count();
        assert_eq!(s.calls(), 2);
    }
}
