//! What the check path is configured with: how principals are established (`[principal]`), how the
//! context is derived (`[context]`), enforcement (`[mode]`) and answers (`[responses]`). These are
//! the sections of the sidecar's TOML configuration that this crate reads; the server's
//! configuration embeds them as they are.

use iamlet_routes::Routes;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::time::Duration;

/// Everything the check path needs besides its store, engine, log and metrics.
#[derive(Clone, Debug)]
pub struct Settings {
    /// How the principal is established.
    pub principal: PrincipalSection,
    /// How condition keys are derived.
    pub context: ContextSection,
    /// Enforcement and dry runs.
    pub mode: ModeSection,
    /// What answers say.
    pub responses: ResponsesSection,
    /// Total bytes of a request's path and headers accepted.
    pub max_header_bytes: usize,
    /// The largest body a check accepts (HTTP mode stops reading past it; a gRPC check carrying
    /// more is refused): over it, a 413.
    pub max_body_bytes: usize,
    /// The route map.
    pub routes: Routes,
}

/// A header's name as the front ends key a request's headers: lower-cased once, when the
/// configuration is read, rather than on every check that looks it up.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeaderName(String);

impl HeaderName {
    /// The name, lower-cased (header names are ASCII and case-insensitive).
    pub fn new(name: &str) -> Self {
        HeaderName(name.to_ascii_lowercase())
    }

    /// The lower-cased name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for HeaderName {
    fn from(name: &str) -> Self {
        HeaderName::new(name)
    }
}

impl<'de> Deserialize<'de> for HeaderName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|name| HeaderName::new(&name))
    }
}

/// How the principal is established, in this order: an AWS SigV4 signature (header or presigned
/// URL) verified with the credentials file, mTLS (SPIFFE rules), verified JWT claims, a trusted
/// header.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalSection {
    /// mTLS source principals (SPIFFE IDs) mapped to IAM principals, first match wins.
    #[serde(default)]
    pub spiffe: Vec<SpiffeRule>,
    /// Claims verified by Envoy's `jwt_authn` filter.
    #[serde(default)]
    pub jwt: Option<JwtSection>,
    /// A header holding the principal ARN, trusted only because it is named here (Envoy must strip
    /// it from client requests).
    #[serde(default)]
    pub trusted_header: Option<HeaderName>,
    /// SigV4-signed requests, verified with IAM users' access keys.
    #[serde(default)]
    pub sigv4: Option<SigV4Section>,
}

/// `[principal] sigv4`: where the access keys, MFA devices and session key are: the credentials
/// file (`sigv4 = { credentials = "credentials.json" }`, which `iamlet keys` writes) or the IAM
/// database the process serves (`sigv4 = "database"`, with `[iam] database`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigV4Section {
    /// The credentials file.
    File(CredentialsFile),
    /// The IAM database.
    Database,
}

/// `sigv4 = { credentials = … }`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsFile {
    /// The credentials file (mode 0600; relative to the configuration file).
    pub credentials: String,
    /// How often the file is checked for changes (a deactivated key stops working within this).
    #[serde(default = "default_credentials_poll", with = "duration")]
    pub poll_interval: Duration,
}

impl<'de> Deserialize<'de> for SigV4Section {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = SigV4Section;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"database\" or { credentials = \"FILE\" }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SigV4Section, E> {
                if v == "database" {
                    Ok(SigV4Section::Database)
                } else {
                    Err(E::custom(format!(
                        "`{v}`: sigv4 is \"database\" or {{ credentials = \"FILE\" }}"
                    )))
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<SigV4Section, A::Error> {
                CredentialsFile::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(SigV4Section::File)
            }
        }
        d.deserialize_any(Visit)
    }
}

fn default_credentials_poll() -> Duration {
    Duration::from_secs(2)
}

/// One SPIFFE mapping: `spiffe://cluster.local/ns/build/sa/ci` → `arn:aws:sts::…:assumed-role/ci/build`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpiffeRule {
    /// The SPIFFE ID template; `{name}` captures one path segment.
    #[serde(rename = "match")]
    pub pattern: String,
    /// The principal ARN template.
    pub principal: String,
}

/// JWT claims from Envoy's metadata.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSection {
    /// The filter whose metadata holds the payload.
    #[serde(default = "default_jwt_filter")]
    pub filter: String,
    /// The key under which `jwt_authn` stores the payload (`payload_in_metadata`).
    #[serde(default = "default_jwt_key")]
    pub payload_key: String,
    /// The principal ARN template; `{claim}` is replaced with the claim's value, e.g.
    /// `arn:aws:iam::111122223333:user/{sub}`.
    pub principal: String,
    /// A claim holding the session issuer (for federated users), optional.
    #[serde(default)]
    pub session_issuer: Option<String>,
    /// Claims copied to `aws:PrincipalTag/<claim>`.
    #[serde(default)]
    pub tag_claims: Vec<String>,
}

fn default_jwt_filter() -> String {
    "envoy.filters.http.jwt_authn".into()
}
fn default_jwt_key() -> String {
    "jwt_payload".into()
}

/// Condition keys derived from the request.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSection {
    /// Proxies in front of Envoy whose `X-Forwarded-For` entries are trusted (0: use the peer
    /// address).
    #[serde(default)]
    pub trusted_hops: usize,
    /// Headers copied into `aws:RequestTag/<tag>` (and `aws:TagKeys`): header name → tag key.
    #[serde(default)]
    pub request_tags: BTreeMap<HeaderName, String>,
    /// The region requests are served in: `aws:RequestedRegion` unless a route sets it.
    #[serde(default)]
    pub region: Option<String>,
}

/// Enforcement.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeSection {
    /// `false`: dry run — decide and log every request, but always allow.
    #[serde(default = "yes")]
    pub enforce: bool,
    /// A candidate account export (path or URL) evaluated beside the live one on real traffic; every
    /// disagreement is logged and counted.
    #[serde(default)]
    pub shadow_accounts: Option<String>,
    /// The candidate's organization file.
    #[serde(default)]
    pub shadow_organization: Option<String>,
}

fn yes() -> bool {
    true
}

impl Default for ModeSection {
    fn default() -> Self {
        ModeSection {
            enforce: true,
            shadow_accounts: None,
            shadow_organization: None,
        }
    }
}

/// What clients see.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponsesSection {
    /// `true`: deny bodies carry the reason (the decision and the deciding statement); `false`: only
    /// the request id.
    #[serde(default)]
    pub verbose_denials: bool,
    /// `true`: requests no route maps are allowed (and logged); `false`: denied.
    #[serde(default)]
    pub allow_unmapped: bool,
    /// `true`: Iamlet's own failures (store down, engine trap, time-out, overload) allow. Never do
    /// this in production. What a client causes is denied regardless.
    #[serde(default)]
    pub fail_open: bool,
    /// The header carrying the resolved principal upstream on allow.
    #[serde(default = "default_principal_header")]
    pub principal_header: String,
}

fn default_principal_header() -> String {
    "x-iamlet-principal".into()
}

impl Default for ResponsesSection {
    fn default() -> Self {
        ResponsesSection {
            verbose_denials: false,
            allow_unmapped: false,
            fail_open: false,
            principal_header: default_principal_header(),
        }
    }
}

/// Durations as `500ms`, `2s`, `5m`, `1h`, `90d`: the one reader of durations, for the configuration
/// and the command line.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{t}` has no unit; write e.g. `500ms`, `2s`, `5m`"))?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{t}` is not a duration like `500ms`, `2s`, `5m`"))?;
    let seconds = |per: u64| {
        n.checked_mul(per)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("`{t}` is too long a duration"))
    };
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        _ => Err(format!(
            "`{t}`: unknown unit `{unit}`; use ms, s, m, h or d"
        )),
    }
}

/// `#[serde(with = "duration")]`: a duration field written as `2s`.
pub mod duration {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    /// Reads `500ms`, `2s`, `5m`, `1h`, `90d`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(default, with = "duration_opt")]`: an optional duration field.
pub mod duration_opt {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    /// Reads an optional `500ms`, `2s`, `5m`, `1h`, `90d`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_duration(&s)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_units_and_never_overflow() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration(" 2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert!(parse_duration("12").unwrap_err().contains("no unit"));
        assert!(parse_duration("2 parsecs").unwrap_err().contains("parsecs"));
        assert!(parse_duration("99999999999999999h")
            .unwrap_err()
            .contains("too long"));
    }

    /// Requests' header names are lower-case: a configured name in another case is read the same.
    #[test]
    fn configured_header_names_are_lower_cased() {
        let principal: PrincipalSection =
            serde_json::from_str(r#"{"trusted_header":"X-Iamlet-Principal"}"#).unwrap();
        assert_eq!(
            principal.trusted_header.as_ref().map(HeaderName::as_str),
            Some("x-iamlet-principal")
        );
        let context: ContextSection =
            serde_json::from_str(r#"{"request_tags":{"X-Team":"team"}}"#).unwrap();
        let names: Vec<&str> = context
            .request_tags
            .keys()
            .map(HeaderName::as_str)
            .collect();
        assert_eq!(names, ["x-team"]);
    }
}
