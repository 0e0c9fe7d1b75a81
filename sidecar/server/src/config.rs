//! The sidecar's configuration: one TOML file (see `sidecar/examples/iamlet.toml`), checked in full
//! before any port is bound; every problem is reported with where it is. A module per section;
//! the check path's own sections (`[principal]`, `[context]`, `[mode]`, `[responses]`) are
//! `iamlet_authz::settings`'.

mod admin;
mod cache;
mod decision_log;
mod engine;
mod iam;
mod limits;
mod listen;
mod store;
mod sts;

pub use admin::AdminSection;
pub use cache::CacheSection;
pub use decision_log::DecisionLogSection;
pub use engine::{EngineKind, EngineSection};
pub use iam::IamSection;
pub use iamlet_authz::settings::{
    parse_duration, ContextSection, CredentialsFile, JwtSection, ModeSection, PrincipalSection,
    ResponsesSection, SigV4Section, SpiffeRule,
};
pub use limits::LimitsSection;
pub use listen::{ForwardAuthStyle, Listen};
pub use store::StoreSection;
pub use sts::StsSection;

use iamlet_authz::Settings;
use iamlet_iam_store::DatabaseUrl;
use iamlet_routes::{RouteError, RouteSpec, Routes};
use iamlet_store::{AccountSource, OrganizationSource};
use serde::Deserialize;
use std::path::{Path, PathBuf};

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
    /// The decision cache.
    #[serde(default)]
    pub cache: CacheSection,
    /// Who may change the sidecar through the admin port.
    #[serde(default)]
    pub admin: AdminSection,
    /// The STS endpoint (`AssumeRole`, `GetSessionToken`, `GetCallerIdentity`); off when absent.
    #[serde(default)]
    pub sts: Option<StsSection>,
    /// The IAM database and the IAM API; off when absent.
    #[serde(default)]
    pub iam: Option<IamSection>,
    /// The route map: request → IAM action and resource.
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
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

/// A checked configuration: the file's contents with its routes compiled, its sources read and
/// relative paths resolved against the file's directory.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The configuration.
    pub config: Config,
    /// The compiled route map.
    pub routes: Routes,
    /// `[store] accounts`, read.
    pub accounts: AccountSource,
    /// `[store] organization`, read.
    pub organization: Option<OrganizationSource>,
    /// `[mode] shadow_accounts`, read.
    pub shadow_accounts: Option<AccountSource>,
    /// `[mode] shadow_organization` (else the live organization), read.
    pub shadow_organization: Option<OrganizationSource>,
    /// `[iam] database`, read.
    pub database: Option<DatabaseUrl>,
}

impl Checked {
    /// What the check path is configured with.
    pub fn settings(&self) -> Settings {
        let c = &self.config;
        Settings {
            principal: c.principal.clone(),
            context: c.context.clone(),
            mode: c.mode.clone(),
            responses: c.responses.clone(),
            max_header_bytes: c.limits.max_header_bytes,
            max_body_bytes: c.limits.max_body_bytes,
            routes: self.routes.clone(),
        }
    }
}

/// The largest route map accepted.
const MAX_ROUTES: usize = 10_000;

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
        config.limits.check().map_err(invalid)?;
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
            if Path::new(p.as_str()).is_relative() {
                *p = base.join(p.as_str()).to_string_lossy().into_owned();
            }
        };
        let accounts = AccountSource::parse(&config.store.accounts, base);
        let organization = config
            .store
            .organization
            .as_deref()
            .map(|o| OrganizationSource::parse(o, base));
        let shadow_accounts = config
            .mode
            .shadow_accounts
            .as_deref()
            .map(|a| AccountSource::parse(a, base));
        let shadow_organization = config
            .mode
            .shadow_organization
            .as_deref()
            .map(|o| OrganizationSource::parse(o, base))
            .or_else(|| organization.clone());
        if let Some(SigV4Section::File(s)) = config.principal.sigv4.as_mut() {
            resolve(&mut s.credentials);
            if s.poll_interval.is_zero() {
                return Err(invalid(
                    "principal.sigv4.poll_interval must be more than 0".into(),
                ));
            }
        }
        let database = match &config.iam {
            Some(iam) => {
                if iam.poll_interval.is_zero() {
                    return Err(invalid("iam.poll_interval must be more than 0".into()));
                }
                Some(
                    DatabaseUrl::parse(&iam.database, base)
                        .map_err(|e| invalid(format!("iam.database: {}", e.message)))?,
                )
            }
            None => None,
        };
        if database.is_none() {
            if matches!(accounts, AccountSource::Database(_)) {
                return Err(invalid(
                    "store.accounts = \"database\" reads the IAM database: configure [iam] database".into(),
                ));
            }
            if config.principal.sigv4 == Some(SigV4Section::Database) {
                return Err(invalid(
                    "principal.sigv4 = \"database\" reads the IAM database: configure [iam] database".into(),
                ));
            }
        }
        if config.iam.as_ref().is_some_and(|i| i.listen.is_some())
            && config.principal.sigv4 != Some(SigV4Section::Database)
            && !matches!(accounts, AccountSource::Database(_))
        {
            tracing::info!("the IAM API verifies and authorizes its callers with the database's keys and principals; the sidecar's checks use [store] and [principal] as configured");
        }
        if let Some(sts) = &config.sts {
            if config.principal.sigv4.is_none() {
                return Err(invalid(
                    "[sts] needs [principal] sigv4 (the credentials file or the database): it holds the keys callers sign with and the key sessions are sealed with".into(),
                ));
            }
            if let Some(bad) = sts
                .saml_audiences
                .iter()
                .chain(&sts.saml_recipients)
                .find(|v| v.trim().is_empty() || v.trim() != v.as_str() || !v.contains(':'))
            {
                return Err(invalid(format!(
                    "sts.saml_audiences and sts.saml_recipients are URIs (an entity ID, an https:// ACS URL), not `{bad}`"
                )));
            }
            let hours = sts.max_session_duration.as_secs_f64() / 3600.0;
            if !(1.0..=12.0).contains(&hours) {
                return Err(invalid(format!(
                    "sts.max_session_duration must be from 1h to 12h, not {:?}",
                    sts.max_session_duration
                )));
            }
        }
        if config.listen.forward_auth.is_some() && config.listen.forward_auth_style.is_none() {
            return Err(invalid(
                "listen.forward_auth needs listen.forward_auth_style: \"nginx\" (X-Original-Method, X-Original-URI) or \"traefik\" / \"caddy\" (X-Forwarded-Method, X-Forwarded-Uri)".into(),
            ));
        }
        if let Some(p) = config.admin.token_file.as_mut() {
            resolve(p);
        }
        if let Some(p) = config.decision_log.path.as_mut() {
            if p != "-" {
                resolve(p);
            }
        }
        Ok(Checked {
            config,
            routes,
            accounts,
            organization,
            shadow_accounts,
            shadow_organization,
            database,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
        assert!(
            matches!(&c.accounts, AccountSource::Path(p) if p == Path::new("/etc/iamlet/account.json"))
        );
        assert_eq!(c.config.store.poll_interval, Some(Duration::from_secs(2)));
        assert_eq!(c.config.engine.kind, EngineKind::Native);
        let Some(SigV4Section::File(sigv4)) = c.config.principal.sigv4.as_ref() else {
            panic!("a credentials file")
        };
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
            e.to_string().contains("[sts] needs [principal] sigv4"),
            "{e}"
        );
        let c = Config::parse(&format!("{base}{sigv4}[sts]\n"), Path::new("/etc/c.toml")).unwrap();
        let sts = c.config.sts.unwrap();
        assert_eq!(sts.listen, sts::default_sts());
        assert_eq!(sts.max_session_duration, Duration::from_secs(3600));
        for bad in ["30m", "13h"] {
            let e = Config::parse(
                &format!("{base}{sigv4}[sts]\nmax_session_duration = \"{bad}\"\n"),
                Path::new("/etc/c.toml"),
            )
            .unwrap_err();
            assert!(e.to_string().contains("1h to 12h"), "{e}");
        }
        let c = Config::parse(
            &format!("{base}{sigv4}[sts]\nsaml_audiences = [\"urn:iamlet:sts\"]\nsaml_recipients = [\"https://sts.example.internal/saml\"]\n"),
            Path::new("/etc/c.toml"),
        )
        .unwrap();
        assert_eq!(c.config.sts.unwrap().saml_audiences, vec!["urn:iamlet:sts"]);
        for bad in ["\"\"", "\"sts\"", "\" urn:x\""] {
            let e = Config::parse(
                &format!("{base}{sigv4}[sts]\nsaml_recipients = [{bad}]\n"),
                Path::new("/etc/c.toml"),
            )
            .unwrap_err();
            assert!(e.to_string().contains("are URIs"), "{e}");
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
            iamlet_authz::settings::parse_duration("5124095576030431h"),
            Ok(Duration::from_secs(5_124_095_576_030_431 * 3600))
        );
    }

    #[test]
    fn the_decision_cache_is_on_unless_turned_off() {
        let base = "[store]\naccounts = \"a\"\n";
        let c = Config::parse(base, Path::new("c.toml")).unwrap();
        assert!(c.config.cache.decision_cache().is_some());
        let c = Config::parse(
            &format!("{base}[cache]\ndecisions = false\n"),
            Path::new("c.toml"),
        )
        .unwrap();
        assert!(c.config.cache.decision_cache().is_none());
        let c = Config::parse(
            &format!("{base}[cache]\nmax_entries = 5\nmax_bytes = 4096\n"),
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(
            c.config.cache.decision_cache().map(|d| d.max_entries),
            Some(5)
        );
    }

    #[test]
    fn forward_auth_names_its_headers() {
        let base = "[store]\naccounts = \"a\"\n";
        let e = Config::parse(
            &format!("[listen]\nforward_auth = \"127.0.0.1:9195\"\n{base}"),
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("forward_auth_style"), "{e}");
        let c = Config::parse(
            &format!("[listen]\nforward_auth = \"127.0.0.1:9195\"\nforward_auth_style = \"nginx\"\n{base}"),
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(
            c.config.listen.forward_auth_style,
            Some(ForwardAuthStyle::Nginx)
        );
        let e = Config::parse(
            &format!("[listen]\nforward_auth = \"127.0.0.1:9195\"\nforward_auth_style = \"guess\"\n{base}"),
            Path::new("c.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("guess"), "{e}");
    }

    #[test]
    fn listeners_are_capped_and_time_out_header_reads() {
        let base = "[store]\naccounts = \"a\"\n";
        let c = Config::parse(base, Path::new("c.toml")).unwrap();
        assert_eq!(c.config.limits.max_connections, 512);
        assert_eq!(c.config.limits.header_read_timeout, Duration::from_secs(30));
        assert_eq!(c.config.limits.max_streams_per_connection, 100);
        assert_eq!(c.config.limits.max_body_bytes, 1024 * 1024);
        assert_eq!(c.settings().max_body_bytes, 1024 * 1024);
        let none = Config::parse(
            &format!("{base}[limits]\nmax_body_bytes = 0\n"),
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(none.settings().max_body_bytes, 0);
        for bad in [
            "max_body_bytes = 67108865",
            "max_body_bytes = -1",
            "max_connections = 0",
            "header_read_timeout = \"0s\"",
            "max_streams_per_connection = 0",
            "max_streams_per_connection = -1",
        ] {
            let e = Config::parse(&format!("{base}[limits]\n{bad}\n"), Path::new("c.toml"))
                .unwrap_err()
                .to_string();
            // Named: by our check (`limits.key must ...`) or by TOML's (the line, the column).
            let key = bad.split(' ').next().unwrap();
            assert!(
                e.contains(&format!("limits.{key}")) || e.contains("line 4"),
                "{e}"
            );
            assert!(e.contains(key), "{e}");
        }
    }
}
