//! `[admin]`: who may change the sidecar through the admin port.

use serde::Deserialize;

/// `[admin]`: the admin port's changes (`POST /cache/invalidate`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    /// A file holding the token callers send as `x-iamlet-admin-token` (its first line; relative
    /// to the configuration file). Without one, the header is still required (any value), which
    /// keeps web pages out.
    #[serde(default)]
    pub token_file: Option<String>,
}
