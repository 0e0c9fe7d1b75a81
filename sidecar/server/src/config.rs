//! The sidecar's configuration: one TOML file (see `sidecar/examples/iamlet.toml`), checked in full
//! before any port is bound; every problem is reported with where it is.

use crate::routes::{RouteError, RouteSpec, Routes};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The configuration as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where to listen.
    #[serde(default)]
    pub listen: Listen,
    /// The identity store.
    pub store: StoreSection,
    /// Which engine evaluates.
    #[serde(default)]
    pub engine: EngineSection,
    /// How the principal is established.
    #[serde(default)]
    pub principal: PrincipalSection,
    /// How condition keys are derived from the request.
    #[serde(default)]
    pub context: ContextSection,
    /// Enforcement, dry-run and shadow evaluation.
    #[serde(default)]
    pub mode: ModeSection,
    /// What a deny tells the client, and unmapped requests.
    #[serde(default)]
    pub responses: ResponsesSection,
    /// Timeouts, concurrency and size limits.
    #[serde(default)]
    pub limits: LimitsSection,
    /// The decision log.
    #[serde(default)]
    pub decision_log: DecisionLogSection,
    /// Who may change the sidecar through the admin port.
    #[serde(default)]
    pub admin: AdminSection,
    /// The STS endpoint (`AssumeRole`, `GetSessionToken`, `GetCallerIdentity`); off when absent.
    #[serde(default)]
    pub sts: Option<StsSection>,
    /// The route map: request → IAM action and resource.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
}

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
}

fn default_sts() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9193))
}
fn default_max_session() -> Duration {
    Duration::from_secs(3600)
}

/// Listening addresses.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    /// gRPC ext_authz (`envoy.service.auth.v3.Authorization`).
    #[serde(default = "default_grpc")]
    pub grpc: SocketAddr,
    /// Envoy's HTTP ext_authz mode.
    #[serde(default = "default_http")]
    pub http: SocketAddr,
    /// Metrics and health.
    #[serde(default = "default_admin")]
    pub admin: SocketAddr,
    /// In HTTP mode, the `path_prefix` Envoy puts before forwarded paths, stripped before routing.
    #[serde(default)]
    pub http_path_prefix: String,
}

fn default_grpc() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9191))
}
fn default_http() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9192))
}
fn default_admin() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8181))
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            grpc: default_grpc(),
            http: default_http(),
            admin: default_admin(),
            http_path_prefix: String::new(),
        }
    }
}

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

/// The engine.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// `component` (the WebAssembly component under wasmtime) or `native`.
    #[serde(default)]
    pub kind: EngineKind,
    /// Warm component instances.
    #[serde(default)]
    pub instances: Option<usize>,
    /// Memory per instance, in MiB.
    #[serde(default)]
    pub max_memory_mib: Option<usize>,
    /// Time per guest call.
    #[serde(default, with = "duration_opt")]
    pub call_timeout: Option<Duration>,
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            kind: EngineKind::Component,
            instances: None,
            max_memory_mib: None,
            call_timeout: None,
        }
    }
}

/// Which engine evaluates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// The WebAssembly component under wasmtime.
    #[default]
    Component,
    /// The engine compiled into the sidecar.
    Native,
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
    pub trusted_header: Option<String>,
    /// SigV4-signed requests, verified with IAM users' access keys.
    #[serde(default)]
    pub sigv4: Option<SigV4Section>,
}

/// `[principal.sigv4]`: where the access keys are (`iamlet keys` writes the file).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigV4Section {
    /// The credentials file (mode 0600; relative to the configuration file).
    pub credentials: String,
    /// How often the file is checked for changes (a deactivated key stops working within this).
    #[serde(default = "default_credentials_poll", with = "duration")]
    pub poll_interval: Duration,
}

fn default_credentials_poll() -> Duration {
    Duration::from_secs(2)
}

/// One SPIFFE mapping: `spiffe://cluster.local/ns/{ns}/sa/{sa}` → `arn:aws:sts::…:assumed-role/{sa}/{ns}`.
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
    pub request_tags: BTreeMap<String, String>,
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
    /// `true`: an internal failure (store down, engine trap) allows. Never do this in production.
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

/// Limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Time for one check; past it the check is denied.
    #[serde(default = "default_timeout", with = "duration")]
    pub check_timeout: Duration,
    /// Checks in flight at once; more are shed at once with a deny.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Total bytes of request headers accepted.
    #[serde(default = "default_header_bytes")]
    pub max_header_bytes: usize,
    /// Grace period to drain in-flight checks on shutdown.
    #[serde(default = "default_grace", with = "duration")]
    pub shutdown_grace: Duration,
    /// Connections each listener (gRPC, HTTP, admin, STS) holds at once; more wait in the
    /// kernel's backlog until one closes.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Time for a request's headers to arrive, and for an idle keep-alive connection's next
    /// request (then it is closed); on gRPC, the HTTP/2 keep-alive ping interval and timeout.
    #[serde(default = "default_header_read_timeout", with = "duration")]
    pub header_read_timeout: Duration,
    /// Threads serving checks; by default one per core. Like Envoy's `--concurrency`: a sidecar
    /// sharing its node with the application it guards can be held to fewer cores (BENCHMARKS.md
    /// measures one thread against two).
    #[serde(default)]
    pub worker_threads: Option<usize>,
}

fn default_timeout() -> Duration {
    Duration::from_millis(500)
}
fn default_concurrency() -> usize {
    1024
}
fn default_header_bytes() -> usize {
    64 * 1024
}
fn default_grace() -> Duration {
    Duration::from_secs(10)
}
fn default_max_connections() -> usize {
    512
}
fn default_header_read_timeout() -> Duration {
    Duration::from_secs(30)
}

impl Default for LimitsSection {
    fn default() -> Self {
        LimitsSection {
            check_timeout: default_timeout(),
            concurrency: default_concurrency(),
            max_header_bytes: default_header_bytes(),
            shutdown_grace: default_grace(),
            max_connections: default_max_connections(),
            header_read_timeout: default_header_read_timeout(),
            worker_threads: None,
        }
    }
}

/// The decision log.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionLogSection {
    /// `-` for stdout, a file path to append to, absent for none.
    #[serde(default)]
    pub path: Option<String>,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped fields.
    #[error("{path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// toml's message, with line and column.
        message: String,
    },
    /// The routes do not compile.
    #[error("{path}: {0}", path = .1.display())]
    Routes(RouteError, PathBuf),
    /// Something else is inconsistent.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What.
        message: String,
    },
}

/// A checked configuration: the file's contents with its routes compiled and relative paths resolved
/// against the file's directory.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The configuration.
    pub config: Config,
    /// The compiled route map.
    pub routes: Routes,
}

/// The largest route map accepted.
const MAX_ROUTES: usize = 10_000;
/// More threads than this is a typo, not a machine.
const MAX_WORKER_THREADS: usize = 1024;

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Checked, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Checks configuration text; `path` names it in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Checked, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        if config.routes.len() > MAX_ROUTES {
            return Err(invalid(format!(
                "{} routes; at most {MAX_ROUTES} are accepted",
                config.routes.len()
            )));
        }
        let routes =
            Routes::compile(&config.routes).map_err(|e| ConfigError::Routes(e, path.to_owned()))?;
        if config.limits.concurrency == 0 {
            return Err(invalid("limits.concurrency must be at least 1".into()));
        }
        if config.limits.max_connections == 0 {
            return Err(invalid("limits.max_connections must be at least 1".into()));
        }
        if config.limits.header_read_timeout.is_zero() {
            return Err(invalid(
                "limits.header_read_timeout must be more than 0".into(),
            ));
        }
        if let Some(n) = config.limits.worker_threads {
            if !(1..=MAX_WORKER_THREADS).contains(&n) {
                return Err(invalid(format!(
                    "limits.worker_threads is {n}; it must be 1 to {MAX_WORKER_THREADS}"
                )));
            }
        }
        for (i, r) in config.principal.spiffe.iter().enumerate() {
            if !r.pattern.starts_with("spiffe://") {
                return Err(invalid(format!(
                    "principal.spiffe[{i}].match `{}` is not a spiffe:// ID template",
                    r.pattern
                )));
            }
        }
        if let Some(j) = config
            .principal
            .jwt
            .as_ref()
            .filter(|j| !j.principal.contains('{'))
        {
            return Err(invalid(format!(
                "principal.jwt.principal `{}` names no claim; use e.g. `arn:aws:iam::111122223333:user/{{sub}}`",
                j.principal
            )));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut String| {
            if !p.contains("://") && p != "iam-api" && Path::new(p.as_str()).is_relative() {
                *p = base.join(p.as_str()).to_string_lossy().into_owned();
            }
        };
        resolve(&mut config.store.accounts);
        if let Some(o) = config.store.organization.as_mut() {
            resolve(o);
        }
        if let Some(s) = config.mode.shadow_accounts.as_mut() {
            resolve(s);
        }
        if let Some(s) = config.mode.shadow_organization.as_mut() {
            resolve(s);
        }
        if let Some(s) = config.principal.sigv4.as_mut() {
            resolve(&mut s.credentials);
            if s.poll_interval.is_zero() {
                return Err(invalid(
                    "principal.sigv4.poll_interval must be more than 0".into(),
                ));
            }
        }
        if let Some(sts) = &config.sts {
            if config.principal.sigv4.is_none() {
                return Err(invalid(
                    "[sts] needs [principal.sigv4]: its credentials file holds the keys callers sign with and the key sessions are sealed with".into(),
                ));
            }
            let hours = sts.max_session_duration.as_secs_f64() / 3600.0;
            if !(1.0..=12.0).contains(&hours) {
                return Err(invalid(format!(
                    "sts.max_session_duration must be from 1h to 12h, not {:?}",
                    sts.max_session_duration
                )));
            }
        }
        if let Some(p) = config.admin.token_file.as_mut() {
            resolve(p);
        }
        if let Some(p) = config.decision_log.path.as_mut() {
            if p != "-" {
                resolve(p);
            }
        }
        Ok(Checked { config, routes })
    }
}

/// Durations as `500ms`, `2s`, `5m`, `1h`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
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
        _ => Err(format!("`{t}`: unknown unit `{unit}`; use ms, s, m or h")),
    }
}

mod duration {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

mod duration_opt {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
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
    fn parses_a_full_config() {
        let text = r#"
[listen]
grpc = "127.0.0.1:19191"

[store]
accounts = "account.json"
poll_interval = "2s"

[engine]
kind = "native"

[principal]
trusted_header = "x-principal"
sigv4 = { credentials = "credentials.json" }
[[principal.spiffe]]
match = "spiffe://cluster.local/ns/{ns}/sa/{sa}"
principal = "arn:aws:sts::111122223333:assumed-role/{sa}/{ns}"

[[routes]]
method = "GET"
path = "/buckets/{bucket}/objects/{key*}"
action = "s3:GetObject"
resource = "arn:aws:s3:::{bucket}/{key}"
"#;
        let c = Config::parse(text, Path::new("/etc/iamlet/iamlet.toml")).unwrap();
        assert_eq!(c.config.listen.grpc.port(), 19191);
        assert_eq!(c.config.listen.admin.port(), 8181);
        assert_eq!(c.config.store.accounts, "/etc/iamlet/account.json");
        assert_eq!(c.config.store.poll_interval, Some(Duration::from_secs(2)));
        assert_eq!(c.config.engine.kind, EngineKind::Native);
        let sigv4 = c.config.principal.sigv4.as_ref().unwrap();
        assert_eq!(sigv4.credentials, "/etc/iamlet/credentials.json");
        assert_eq!(sigv4.poll_interval, Duration::from_secs(2));
        assert!(c.config.mode.enforce);
        assert_eq!(c.routes.len(), 1);
    }

    #[test]
    fn errors_say_where() {
        let e = Config::parse("[store]\naccounts = 1\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().starts_with("c.toml: "), "{e}");
        let e = Config::parse(
            "[store]\naccounts = \"a\"\nbogus = 1\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let e = Config::parse(
            "[store]\naccounts = \"a\"\npoll_interval = \"2 parsecs\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("parsecs"), "{e}");
        let e = Config::parse(
            "[store]\naccounts = \"a\"\n[[routes]]\npath = \"/x/{a}\"\naction = \"s3:GetObject\"\nresource = \"arn:aws:s3:::{b}\"\n",
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("routes[0]"), "{e}");
    }

    #[test]
    fn sts_needs_the_credentials_file_and_an_aws_session_limit() {
        let base = "[store]\naccounts = \"a\"\n";
        let sigv4 = "[principal]\nsigv4 = { credentials = \"creds.json\" }\n";
        let e = Config::parse(&format!("{base}[sts]\n"), Path::new("/etc/c.toml")).unwrap_err();
        assert!(
            e.to_string().contains("[sts] needs [principal.sigv4]"),
            "{e}"
        );
        let c = Config::parse(&format!("{base}{sigv4}[sts]\n"), Path::new("/etc/c.toml")).unwrap();
        let sts = c.config.sts.unwrap();
        assert_eq!(sts.listen, default_sts());
        assert_eq!(sts.max_session_duration, Duration::from_secs(3600));
        for bad in ["30m", "13h"] {
            let e = Config::parse(
                &format!("{base}{sigv4}[sts]\nmax_session_duration = \"{bad}\"\n"),
                Path::new("/etc/c.toml"),
            )
            .unwrap_err();
            assert!(e.to_string().contains("1h to 12h"), "{e}");
        }
    }

    #[test]
    fn worker_threads_are_a_positive_count() {
        let base = "[store]\naccounts = \"a\"\n";
        let c = Config::parse(base, Path::new("c.toml")).unwrap();
        assert_eq!(c.config.limits.worker_threads, None);
        let c = Config::parse(
            &format!("{base}[limits]\nworker_threads = 1\n"),
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(c.config.limits.worker_threads, Some(1));
        for bad in ["0", "5000"] {
            let e = Config::parse(
                &format!("{base}[limits]\nworker_threads = {bad}\n"),
                Path::new("c.toml"),
            )
            .unwrap_err();
            assert!(e.to_string().contains("limits.worker_threads is"), "{e}");
        }
    }

    /// Found by the security review: `parse_duration` overflowed on huge values (a panic in a debug
    /// build, a wrong duration in a release one).
    #[test]
    fn huge_durations_are_a_clear_error() {
        for bad in [
            "99999999999999999h",
            "18446744073709551615m",
            "99999999999999999999999s",
        ] {
            let e = Config::parse(
                &format!("[store]\naccounts = \"a\"\npoll_interval = \"{bad}\"\n"),
                Path::new("c.toml"),
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains(bad), "{e}");
        }
        assert_eq!(
            parse_duration("5124095576030431h"),
            Ok(Duration::from_secs(5_124_095_576_030_431 * 3600))
        );
    }

    #[test]
    fn listeners_are_capped_and_time_out_header_reads() {
        let base = "[store]\naccounts = \"a\"\n";
        let c = Config::parse(base, Path::new("c.toml")).unwrap();
        assert_eq!(c.config.limits.max_connections, 512);
        assert_eq!(c.config.limits.header_read_timeout, Duration::from_secs(30));
        for bad in ["max_connections = 0", "header_read_timeout = \"0s\""] {
            let e = Config::parse(&format!("{base}[limits]\n{bad}\n"), Path::new("c.toml"))
                .unwrap_err();
            assert!(e.to_string().contains("limits."), "{e}");
        }
    }
}
