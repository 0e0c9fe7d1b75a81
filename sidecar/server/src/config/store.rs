//! `[store]`: the identity store's sources and cache.

use iamlet_authz::settings::duration_opt;
use serde::Deserialize;
use std::time::Duration;

/// The identity store.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// An export file or directory, an `http(s)://` URL, or `iam-api` for the live IAM API.
    pub accounts: String,
    /// The organization file (SCPs, RCPs, resource-based policies): a path or URL.
    #[serde(default)]
    pub organization: Option<String>,
    /// How often watched sources are polled (`2s`, `500ms`, `1m`); absent: load once.
    #[serde(default, with = "duration_opt")]
    pub poll_interval: Option<Duration>,
    /// Principals kept compiled.
    #[serde(default)]
    pub cache_capacity: Option<usize>,
    /// How long a compiled principal is fresh.
    #[serde(default, with = "duration_opt")]
    pub cache_ttl: Option<Duration>,
    /// How long an unknown principal is remembered as unknown.
    #[serde(default, with = "duration_opt")]
    pub negative_ttl: Option<Duration>,
    /// How long a stale principal may be served while its source fails; then requests are denied.
    #[serde(default, with = "duration_opt")]
    pub max_stale: Option<Duration>,
}
