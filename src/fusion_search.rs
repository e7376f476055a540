//! How widely burn's fusion stream searches for operations to merge into one GPU kernel.
//!
//! burn-fusion records tensor operations and looks for runs it can compile into one kernel. Its
//! search keeps up to `max_blocks` independent blocks of operations open at once (default 5). In a
//! training step that is too many: the optimiser's update of each parameter is an independent
//! block, and with five open the search gives up on some of them, which then run one operation per
//! kernel. cubecl's profile of one RQ-VAE step (batch 64, lavapipe, `CUBECL_DEBUG_OPTION=profile`)
//! counted 172 kernel launches with the default, 149 with 2 blocks, 141 with 1, 207 with 8 and 309
//! with 32: with one block every Adam update is one fused kernel. Training on burn-wgpu is bound by
//! the host's cost per launch (docs/benchmarks.md, issue 5), so fewer launches are a faster step.
//!
//! [`configure`] sets one block before the first GPU device is made. `TIGER_FUSION_BLOCKS=<n>`
//! chooses another count (for A/B benchmarks); a `burn.toml` that sets a count other than burn's
//! default is kept.

use burn::BurnConfig;
use cubecl::config::RuntimeConfig;

/// The environment variable that overrides the number of open blocks.
pub const BLOCKS_ENV: &str = "TIGER_FUSION_BLOCKS";
/// The count this program uses unless told otherwise.
pub const DEFAULT_BLOCKS: usize = 1;
/// burn's own default, which a `burn.toml` leaves in place when it does not name a count.
const BURN_DEFAULT_BLOCKS: usize = 5;

/// The block count to use: `value` (the environment variable) when it is a positive integer,
/// otherwise `configured` when it differs from burn's default (a `burn.toml` chose it), otherwise
/// [`DEFAULT_BLOCKS`]. An unreadable value is reported in the error and the default is used.
pub fn choose(value: Option<&str>, configured: usize) -> (usize, Option<String>) {
    let fallback = if configured != BURN_DEFAULT_BLOCKS {
        configured
    } else {
        DEFAULT_BLOCKS
    };
    match value.map(str::trim) {
        None | Some("") => (fallback, None),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => (n, None),
            _ => (
                fallback,
                Some(format!(
                    "{BLOCKS_ENV}={v:?} is not a positive whole number; using {fallback} fusion blocks"
                )),
            ),
        },
    }
}

/// Sets burn's configuration once, before fusion first reads it: the user's `burn.toml` (if any)
/// and `BURN_*` variables, with the block count from [`choose`]. Returns `false` when burn's
/// configuration had already been read or set (then nothing changes).
pub fn configure() -> bool {
    let config = BurnConfig::from_current_dir().override_from_env();
    let configured = config.fusion().beam_search.max_blocks;
    let value = std::env::var(BLOCKS_ENV).ok();
    let (blocks, warning) = choose(value.as_deref(), configured);
    if let Some(w) = warning {
        eprintln!("warning: {w}");
    }
    let config = with_blocks(&config, blocks).unwrap_or(config);
    BurnConfig::try_set(config)
}

/// `config` with `max_blocks` set to `blocks` (burn keeps the field private, so the change goes
/// through its serialized form); `None` if that form is not what this code expects.
fn with_blocks(config: &BurnConfig, blocks: usize) -> Option<BurnConfig> {
    let mut value = serde_json::to_value(config).ok()?;
    let search = value.get_mut("fusion")?.get_mut("beam_search")?;
    *search.get_mut("max_blocks")? = serde_json::Value::from(blocks);
    serde_json::from_value(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_wins_then_a_file_then_the_default() {
        assert_eq!(choose(None, 5), (DEFAULT_BLOCKS, None));
        assert_eq!(choose(Some(""), 5), (DEFAULT_BLOCKS, None));
        assert_eq!(choose(Some("3"), 5), (3, None));
        assert_eq!(choose(Some(" 5 "), 2), (5, None));
        assert_eq!(choose(None, 8), (8, None));
        let (n, warning) = choose(Some("many"), 5);
        assert_eq!(n, DEFAULT_BLOCKS);
        assert!(warning.is_some_and(|w| w.contains("TIGER_FUSION_BLOCKS")));
        assert_eq!(choose(Some("0"), 4).0, 4);
    }

    #[test]
    fn the_count_reaches_the_config() {
        let config = BurnConfig::default();
        assert_eq!(config.fusion().beam_search.max_blocks, BURN_DEFAULT_BLOCKS);
        let changed = with_blocks(&config, 1).expect("burn's config serializes");
        assert_eq!(changed.fusion().beam_search.max_blocks, 1);
        assert_eq!(
            changed.fusion().growth_patience,
            config.fusion().growth_patience
        );
    }
}
