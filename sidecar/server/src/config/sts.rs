//! `[sts]`: the STS endpoint.

use iamlet_authz::settings::duration;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// `[sts]`: where STS listens and how long role sessions may last.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StsSection {
    /// The address STS's Query API is served on (the SDKs' `endpoint_url`).
    #[serde(default = "default_sts")]
    pub listen: SocketAddr,
    /// The longest role session (`DurationSeconds` of `AssumeRole`), 1h to 12h as a role's
    /// `MaxSessionDuration`.
    #[serde(default = "default_max_session", with = "duration")]
    pub max_session_duration: Duration,
    /// Audiences (service-provider entity IDs) `AssumeRoleWithSAML` accepts besides AWS's
    /// (`https://signin.aws.amazon.com/saml`, `urn:amazon:webservices`), for an IdP configured
    /// with Iamlet as a service provider of its own.
    #[serde(default)]
    pub saml_audiences: Vec<String>,
    /// `Recipient`s (ACS URLs) `AssumeRoleWithSAML` accepts besides AWS's sign-in endpoints.
    #[serde(default)]
    pub saml_recipients: Vec<String>,
}

pub(super) fn default_sts() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9193))
}
fn default_max_session() -> Duration {
    Duration::from_secs(3600)
}
