//! The live IAM API, through the official AWS SDK for Rust.
//!
//! Two modes:
//! - [`IamApiMode::PerPrincipal`]: on a cache miss, fetch that principal only — `GetUser`,
//!   `ListGroupsForUser`, `ListUserPolicies`/`GetUserPolicy`, `ListAttachedUserPolicies`, and per
//!   group `ListGroupPolicies`/`GetGroupPolicy`/`ListAttachedGroupPolicies`; `GetRole`,
//!   `ListRolePolicies`/`GetRolePolicy`, `ListAttachedRolePolicies` for roles and their sessions; and
//!   `GetPolicy` + `GetPolicyVersion` for each managed policy (documents are kept by ARN and version,
//!   so an AWS-managed policy attached everywhere is downloaded once).
//! - [`IamApiMode::AccountSnapshot`]: the whole account with `GetAccountAuthorizationDetails`, refreshed
//!   every poll interval like a file.
//! - [`IamApiMode::Watched`]: per principal from an Iamlet control plane, forgotten as its change
//!   feed names them ([`WatchedIamApi`]).
//!
//! The HTTPS client is hyper with rustls on ring (not the SDK's default aws-lc), with the system's
//! root certificates. Credentials come from the SDK's default chain (environment, shared profile
//! files, web identity, ECS and EC2 instance metadata) unless given.

mod feed;
mod principal;
mod snapshot;

pub use feed::WatchedIamApi;
pub use principal::IamApiFetcher;
pub use snapshot::IamApiSnapshotLoader;

use crate::account::Document;
use crate::FetchError;
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_iam::Client;
use iamlet_engine::{Arn, Policy, PolicyType};

/// How to use the IAM API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IamApiMode {
    /// Fetch each principal on a cache miss.
    #[default]
    PerPrincipal,
    /// Fetch the whole account with `GetAccountAuthorizationDetails` and poll it.
    AccountSnapshot,
    /// Fetch each principal on a cache miss, and forget it when an Iamlet control plane's change
    /// feed (`WatchChanges`) says it changed.
    Watched,
}

/// Static credentials (tests, or a dedicated reader user).
#[derive(Clone, PartialEq, Eq)]
pub struct StaticCredentials {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Where and how to reach IAM.
#[derive(Clone, Debug, Default)]
pub struct IamApiConfig {
    /// Per principal, or the whole account.
    pub mode: IamApiMode,
    /// Another endpoint than AWS's (a test server).
    pub endpoint_url: Option<String>,
    /// The signing region (IAM is global; default: the SDK's region chain, else `us-east-1`).
    pub region: Option<String>,
    /// Credentials; default: the SDK's default chain.
    pub credentials: Option<StaticCredentials>,
}

/// Builds an IAM client: rustls on ring, the default credential chain unless given.
pub async fn client(config: &IamApiConfig) -> Client {
    let sdk = sdk_config(config).await;
    // IAM is global: sign for us-east-1 when no region is configured anywhere.
    let mut iam = aws_sdk_iam::config::Builder::from(&sdk);
    if sdk.region().is_none() {
        iam = iam.region(aws_config::Region::new("us-east-1"));
    }
    Client::from_conf(iam.build())
}

/// The SDK's configuration: rustls on ring, the default credential chain unless given.
pub(crate) async fn sdk_config(config: &IamApiConfig) -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    // The loader hands this client to the default credential and region chains it builds too.
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http);
    if let Some(r) = &config.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    if let Some(url) = &config.endpoint_url {
        loader = loader.endpoint_url(url.clone());
    }
    if config.mode != IamApiMode::AccountSnapshot {
        // A principal is fetched while a check waits (500 ms by default): one attempt, connected
        // within a second. A failure is the identity cache's to ride out (it serves what it holds
        // within max_stale, and retries after retry_after_error); retries with backoff here would
        // only turn that quick answer into a timeout.
        loader = loader
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(std::time::Duration::from_secs(1))
                    .build(),
            );
    }
    if let Some(c) = &config.credentials {
        loader = loader.credentials_provider(aws_sdk_iam::config::Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.clone(),
            None,
            None,
            "iamlet",
        ));
    }
    loader.load().await
}

/// A failed call: "no such entity" is `NotFound`, anything else a failure the cache may ride out.
fn classify<E>(principal: &str, op: &str, e: E) -> FetchError
where
    E: ProvideErrorMetadata + std::error::Error,
{
    if e.code() == Some("NoSuchEntity") {
        FetchError::NotFound(principal.to_owned())
    } else {
        FetchError::Failed(format!("IAM {op}: {}", DisplayErrorContext(&e)))
    }
}

fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn account_of(arn: &str) -> Option<&str> {
    Arn::parse(arn).map(|a| a.account).filter(|a| !a.is_empty())
}

/// Partition and account: a role session names its role by these and the role's name.
fn partition_and_account(arn: &str) -> Option<(&str, &str)> {
    Arn::parse(arn).map(|a| (a.partition, a.account))
}

fn compile(name: &str, text: &str, ty: PolicyType, what: &str) -> Result<Policy, FetchError> {
    let doc = Document::from_text(text).map_err(|e| FetchError::Failed(format!("{what}: {e}")))?;
    Policy::parse_named(name, doc.text(), ty).map_err(|e| {
        let details: Vec<String> = e
            .errors()
            .iter()
            .map(|x| format!("{what}: {}: {}", x.path(), x.message()))
            .collect();
        FetchError::Failed(details.join("; "))
    })
}
