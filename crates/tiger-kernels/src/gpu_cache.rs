//! Where the GPU backend keeps what it learns between launches.
//!
//! cubecl (under burn-wgpu) benchmarks several kernels for every matrix product, reduction and
//! fused operation it meets, and keeps the winner. Without a disk cache every launch repeats that
//! work before the first training step. With burn's `persistence` feature the results go to a small
//! database; this module points it at one place per user (`~/.cache/cubecl` on Linux) instead of
//! cubecl's default of a `target/` folder beside whatever `Cargo.toml` lies above the working
//! directory, so the app, the CLI and the benchmarks share it wherever they are started.
//!
//! A build with the cargo feature `spirv` (burn's `vulkan`: cubecl compiles kernels to SPIR-V
//! instead of WGSL) also keeps every compiled kernel there, so that a second launch loads them
//! instead of generating them again (docs/design.md: T5's first step 0.4 s against 4–7 s on the
//! H200, for a cold launch twice as long; that build crashes on Mesa's lavapipe).
//!
//! `TIGER_GPU_CACHE=<dir>` puts it elsewhere; `TIGER_GPU_CACHE=off` keeps results in memory only
//! (every launch tunes again). A `cubecl.toml` the user wrote and cubecl's own `CUBECL_*` variables
//! are still read. A cache that cannot be opened (read-only disk, a file in the way) costs a
//! re-tune, never the run: cubecl then falls back to memory.

use std::path::PathBuf;

use cubecl::config::cache::CacheConfig;
use cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};

/// The environment variable that moves or disables the cache.
pub const CACHE_ENV: &str = "TIGER_GPU_CACHE";

/// Where autotune results are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheLocation {
    /// The user's cache directory (`$XDG_CACHE_HOME/cubecl` or `~/.cache/cubecl`).
    User,
    /// A directory the user named.
    Dir(PathBuf),
    /// Memory only: every launch tunes again.
    Off,
}

impl CacheLocation {
    /// Reads [`CACHE_ENV`]: unset or empty → [`CacheLocation::User`], `off`/`0`/`false` →
    /// [`CacheLocation::Off`], anything else is a directory.
    pub fn from_env() -> Self {
        Self::parse(std::env::var_os(CACHE_ENV).map(PathBuf::from))
    }

    /// The same rule for a given value.
    pub fn parse(value: Option<PathBuf>) -> Self {
        match value {
            None => Self::User,
            Some(v) if v.as_os_str().is_empty() => Self::User,
            Some(v) if matches!(v.to_str(), Some("off" | "0" | "false")) => Self::Off,
            Some(v) => Self::Dir(v),
        }
    }
}

/// Sets cubecl's configuration once, before the first GPU device is made: the user's `cubecl.toml`
/// (if any) and `CUBECL_*` variables, with the cache placed by `location`. Returns `false` when
/// cubecl's configuration had already been read (then the call changes nothing).
pub fn configure(location: &CacheLocation) -> bool {
    let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
    place(&mut config, location);
    CubeClRuntimeConfig::try_set(config)
}

/// Points `config`'s autotune results (and, in a `spirv` build, its compiled kernels) at
/// `location`, or keeps them in memory when it is off.
fn place(config: &mut CubeClRuntimeConfig, location: &CacheLocation) {
    match location {
        CacheLocation::User => config.environment.path = CacheConfig::Global,
        CacheLocation::Dir(dir) => config.environment.path = CacheConfig::Directory(dir.clone()),
        CacheLocation::Off => config.autotune.disable_cache = true,
    }
    // cubecl keeps compiled kernels only from its SPIR-V compiler; a WGSL build has none to keep.
    config.compilation.cache = cfg!(feature = "spirv") && *location != CacheLocation::Off;
}

/// The folder the cache lives in, `None` when it is off.
pub fn folder(location: &CacheLocation) -> Option<PathBuf> {
    match location {
        CacheLocation::Off => None,
        CacheLocation::Dir(dir) => Some(dir.clone()),
        CacheLocation::User => {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            Some(base.join("cubecl"))
        }
    }
}

/// One line for benchmark headers: where the cache is and how much it holds, so that a reader can
/// tell a cold launch from a warm one (e.g. `autotune cache /root/.cache/cubecl (2.9 MiB)`).
pub fn describe(location: &CacheLocation) -> String {
    let Some(dir) = folder(location) else {
        return "autotune cache off (every launch tunes again)".into();
    };
    let bytes = cached_bytes(&dir);
    if bytes == 0 {
        format!("autotune cache {} (empty: a cold launch)", dir.display())
    } else {
        format!(
            "autotune cache {} ({:.1} MiB)",
            dir.display(),
            bytes as f64 / (1024.0 * 1024.0)
        )
    }
}

/// Bytes of the files in `dir` (0 when it is missing or unreadable).
fn cached_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Whether a launch at `location` starts without autotune results: the cache is off, or its folder
/// holds nothing yet (the first launch on this machine).
pub fn is_cold(location: &CacheLocation) -> bool {
    folder(location).is_none_or(|dir| cached_bytes(&dir) == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_kernels_are_kept_only_by_a_spirv_build_with_the_cache_on() {
        let mut config = CubeClRuntimeConfig::default();
        place(&mut config, &CacheLocation::Dir("/tmp/x".into()));
        assert_eq!(config.compilation.cache, cfg!(feature = "spirv"));
        assert!(!config.autotune.disable_cache);
        assert!(
            matches!(config.environment.path, CacheConfig::Directory(ref d) if d.as_os_str() == "/tmp/x")
        );
        let mut config = CubeClRuntimeConfig::default();
        place(&mut config, &CacheLocation::Off);
        assert!(!config.compilation.cache);
        assert!(config.autotune.disable_cache);
    }

    #[test]
    fn the_variable_picks_the_location() {
        assert_eq!(CacheLocation::parse(None), CacheLocation::User);
        assert_eq!(CacheLocation::parse(Some("".into())), CacheLocation::User);
        assert_eq!(CacheLocation::parse(Some("off".into())), CacheLocation::Off);
        assert_eq!(
            CacheLocation::parse(Some("/tmp/x".into())),
            CacheLocation::Dir("/tmp/x".into())
        );
    }

    #[test]
    fn the_description_says_where_and_how_much() {
        let dir = std::env::temp_dir().join(format!("tiger-gpu-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let at = CacheLocation::Dir(dir.clone());
        assert!(
            describe(&at).contains("empty: a cold launch"),
            "{}",
            describe(&at)
        );
        assert!(is_cold(&at));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("default.db"), vec![0u8; 3 * 1024 * 1024]).unwrap();
        assert!(describe(&at).ends_with("(3.0 MiB)"), "{}", describe(&at));
        assert!(!is_cold(&at));
        assert!(is_cold(&CacheLocation::Off));
        assert!(describe(&CacheLocation::Off).starts_with("autotune cache off"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
