//! `[cache]`: the decision cache (`iamlet_authz::decision_cache`).

use iamlet_authz::decision_cache::DecisionCacheConfig;
use serde::Deserialize;

/// `[cache]`: remembered decisions.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSection {
    /// `false`: every check is decided afresh.
    #[serde(default = "yes")]
    pub decisions: bool,
    /// Decisions kept at most.
    #[serde(default = "default_entries")]
    pub max_entries: usize,
    /// Bytes of keys and decisions kept at most (about).
    #[serde(default = "default_bytes")]
    pub max_bytes: usize,
}

fn yes() -> bool {
    true
}
fn default_entries() -> usize {
    DecisionCacheConfig::default().max_entries
}
fn default_bytes() -> usize {
    DecisionCacheConfig::default().max_bytes
}

impl Default for CacheSection {
    fn default() -> Self {
        CacheSection {
            decisions: true,
            max_entries: default_entries(),
            max_bytes: default_bytes(),
        }
    }
}

impl CacheSection {
    /// The decision cache's bounds, when it is on.
    pub fn decision_cache(&self) -> Option<DecisionCacheConfig> {
        (self.decisions && self.max_entries > 0 && self.max_bytes > 0).then_some(
            DecisionCacheConfig {
                max_entries: self.max_entries,
                max_bytes: self.max_bytes,
            },
        )
    }
}
