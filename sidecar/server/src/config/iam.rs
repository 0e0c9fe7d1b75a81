//! `[iam]`: the IAM database, and the IAM API served on it.

use iamlet_authz::settings::duration;
use iamlet_iam_store::Quotas;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// `[iam]`: the database (`sqlite:PATH`, relative to the configuration file, or `postgres://…`),
/// where the IAM API listens (no API when absent: the database still serves `[store] accounts =
/// "database"` and `[principal] sigv4 = "database"`), and the account's quotas.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamSection {
    /// The database's URL.
    pub database: String,
    /// The IAM API's address (the SDKs' `endpoint_url`).
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// How often another process's changes are looked for (this process's apply at once).
    #[serde(default = "default_poll", with = "duration")]
    pub poll_interval: Duration,
    /// The account's quotas (AWS's defaults).
    #[serde(default)]
    pub quotas: Quotas,
}

fn default_poll() -> Duration {
    Duration::from_millis(500)
}
