//! Which custom kernels run: one value, [`Kernels`], with every kernel on by default.
//!
//! The command line and the window read it once from `TIGER_KERNELS` ([`Kernels::from_env`], the
//! only place the variable is read) and hand it to the thread that computes, which installs it
//! ([`Kernels::install`]); every kernel's entry point asks [`Kernels::current`] on the thread that
//! calls it. A test runs a closure under another choice with [`Kernels::run`], so two tests in one
//! process can compare both paths at once. Each kernel also counts, per thread, the calls that
//! took it ([`Kernel::calls`]), so a test can check that a model really ran through it.
//!
//! Off, a kernel gives way to its reference path (burn's tensor operations, or the host's beam
//! ranking); on, it still applies only on the GPU and to the shapes it takes.

use std::cell::Cell;
use std::fmt;

/// One custom kernel (or fused path) that can be turned off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Fused training attention (`flash`): TIGER's and SASRec's attention, forward and backward.
    Flash,
    /// The linear layers' matrix product (`gemm`): TIGER, SASRec and the RQ-VAE's MLP.
    Gemm,
    /// RMSNorm forward and backward in one kernel each (`rmsnorm`): TIGER's norms.
    Rmsnorm,
    /// AdamW with per-parameter norm clipping in one launch per parameter (`adamw`): TIGER's and
    /// SASRec's optimiser.
    Adamw,
    /// Beam search's transformer in few, wide kernels (`fused_decoder`).
    FusedDecoder,
    /// A constrained beam search's steps ranked on the device, back to back (`device_beam`).
    DeviceBeam,
    /// The RQ-VAE's nearest-code search of every level in one kernel (`rq_codes`).
    RqCodes,
    /// The RQ-VAE's training step recorded once as a device graph and replayed (`rqvae_graph`).
    RqvaeGraph,
}

impl Kernel {
    /// Every kernel, in the order of [`Kernels`]' table.
    pub const ALL: [Kernel; 8] = [
        Kernel::Flash,
        Kernel::Gemm,
        Kernel::Rmsnorm,
        Kernel::Adamw,
        Kernel::FusedDecoder,
        Kernel::DeviceBeam,
        Kernel::RqCodes,
        Kernel::RqvaeGraph,
    ];

    /// Its name in `TIGER_KERNELS` (also its module's name).
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Flash => "flash",
            Kernel::Gemm => "gemm",
            Kernel::Rmsnorm => "rmsnorm",
            Kernel::Adamw => "adamw",
            Kernel::FusedDecoder => "fused_decoder",
            Kernel::DeviceBeam => "device_beam",
            Kernel::RqCodes => "rq_codes",
            Kernel::RqvaeGraph => "rqvae_graph",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Whether this kernel is on for the calling thread.
    pub fn on(self) -> bool {
        Kernels::current().has(self)
    }

    /// Counts one call that took this kernel, on the calling thread.
    pub fn count(self) {
        CALLS.with(|c| {
            let cell = &c[self.index()];
            cell.set(cell.get() + 1);
        });
    }

    /// Calls that took this kernel on the calling thread since it started.
    pub fn calls(self) -> u64 {
        CALLS.with(|c| c[self.index()].get())
    }
}

/// The environment variable [`Kernels::from_env`] reads.
pub const ENV: &str = "TIGER_KERNELS";

/// Which kernels are on (a set of [`Kernel`]s).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Kernels {
    on: [bool; 8],
}

thread_local! {
    static CURRENT: Cell<Kernels> = const { Cell::new(Kernels::ALL) };
    static CALLS: [Cell<u64>; 8] = const { [const { Cell::new(0) }; 8] };
}

impl Default for Kernels {
    fn default() -> Self {
        Self::ALL
    }
}

impl fmt::Debug for Kernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kernels({self})")
    }
}

/// `all`, `none`, or the kernels that are off (`all,-flash,-gemm`).
impl fmt::Display for Kernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::ALL {
            return f.write_str("all");
        }
        if *self == Self::NONE {
            return f.write_str("none");
        }
        let off: Vec<String> = Kernel::ALL
            .iter()
            .filter(|k| !self.has(**k))
            .map(|k| format!("-{}", k.name()))
            .collect();
        write!(f, "all,{}", off.join(","))
    }
}

impl Kernels {
    /// Every kernel on (the default).
    pub const ALL: Kernels = Kernels { on: [true; 8] };
    /// Every kernel off: the reference paths only.
    pub const NONE: Kernels = Kernels { on: [false; 8] };

    /// Whether `kernel` is on.
    pub fn has(self, kernel: Kernel) -> bool {
        self.on[kernel.index()]
    }

    /// This choice with `kernel` turned on or off.
    pub fn with(mut self, kernel: Kernel, on: bool) -> Kernels {
        self.on[kernel.index()] = on;
        self
    }

    /// Every kernel on except `kernel`.
    pub fn without(kernel: Kernel) -> Kernels {
        Self::ALL.with(kernel, false)
    }

    /// Parses a comma-separated list, read left to right from every kernel on: `all`, `none`, a
    /// kernel's name (on) or a name after `-` (off). `none,flash` is only the fused attention;
    /// `-gemm,-adamw` all but those two; the empty string all.
    pub fn parse(spec: &str) -> Result<Kernels, String> {
        let mut k = Kernels::ALL;
        for word in spec.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let (on, name) = match word.strip_prefix('-') {
                Some(name) => (false, name),
                None => (true, word.strip_prefix('+').unwrap_or(word)),
            };
            k = match name {
                "all" if on => Kernels::ALL,
                "none" if on => Kernels::NONE,
                _ => {
                    let kernel = Kernel::ALL
                        .into_iter()
                        .find(|k| k.name() == name)
                        .ok_or_else(|| {
                            let names: Vec<&str> = Kernel::ALL.iter().map(|k| k.name()).collect();
                            format!(
                                "{ENV}: unknown kernel `{name}` (known: all, none, {})",
                                names.join(", ")
                            )
                        })?;
                    k.with(kernel, on)
                }
            };
        }
        Ok(k)
    }

    /// The choice `TIGER_KERNELS` asks for (every kernel when it is unset); the one place the
    /// variable is read.
    pub fn from_env() -> Result<Kernels, String> {
        match std::env::var(ENV) {
            Ok(spec) => Kernels::parse(&spec),
            Err(std::env::VarError::NotPresent) => Ok(Kernels::ALL),
            Err(std::env::VarError::NotUnicode(_)) => Err(format!("{ENV} is not valid UTF-8")),
        }
    }

    /// The calling thread's choice: what it installed, or every kernel.
    pub fn current() -> Kernels {
        CURRENT.with(Cell::get)
    }

    /// Makes this the calling thread's choice from now on (a thread that computes does this once,
    /// with the value it was handed).
    pub fn install(self) {
        CURRENT.with(|c| c.set(self));
    }

    /// Runs `f` under this choice on the calling thread, then restores the thread's choice (even
    /// when `f` panics).
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        struct Restore(Kernels);
        impl Drop for Restore {
            fn drop(&mut self) {
                self.0.install();
            }
        }
        let _restore = Restore(Kernels::current());
        self.install();
        f()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_left_to_right_and_print_back() {
        assert_eq!(Kernels::parse("").unwrap(), Kernels::ALL);
        assert_eq!(Kernels::parse("none").unwrap(), Kernels::NONE);
        let only_flash = Kernels::parse("none, flash").unwrap();
        assert!(only_flash.has(Kernel::Flash));
        assert!(Kernel::ALL[1..].iter().all(|k| !only_flash.has(*k)));
        let two_off = Kernels::parse("-gemm,-adamw").unwrap();
        assert!(!two_off.has(Kernel::Gemm) && !two_off.has(Kernel::Adamw));
        assert!(two_off.has(Kernel::Flash) && two_off.has(Kernel::RqvaeGraph));
        assert_eq!(two_off.to_string(), "all,-gemm,-adamw");
        assert_eq!(Kernels::parse(&two_off.to_string()).unwrap(), two_off);
        assert_eq!(Kernels::parse("-flash,all").unwrap(), Kernels::ALL);
        let err = Kernels::parse("-flsh").unwrap_err();
        assert!(err.contains("`flsh`") && err.contains("rq_codes"), "{err}");
        assert!(Kernels::parse("-none").is_err());
    }

    #[test]
    fn a_run_changes_only_its_thread_and_restores_it() {
        assert!(Kernel::Gemm.on());
        let inner = Kernels::without(Kernel::Gemm).run(|| {
            let other = std::thread::spawn(|| Kernel::Gemm.on()).join().unwrap();
            (Kernel::Gemm.on(), Kernel::Flash.on(), other)
        });
        assert_eq!(inner, (false, true, true));
        assert!(Kernel::Gemm.on());
        let caught = std::panic::catch_unwind(|| Kernels::NONE.run(|| panic!("inside")));
        assert!(caught.is_err());
        assert!(Kernel::Flash.on(), "a panic inside restores the choice");
    }

    #[test]
    fn calls_are_counted_per_thread() {
        let before = Kernel::RqCodes.calls();
        Kernel::RqCodes.count();
        Kernel::RqCodes.count();
        assert_eq!(Kernel::RqCodes.calls(), before + 2);
        let other = std::thread::spawn(|| Kernel::RqCodes.calls())
            .join()
            .unwrap();
        assert_eq!(other, 0);
    }
}
