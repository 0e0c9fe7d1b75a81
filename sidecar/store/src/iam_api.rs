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
//!
//! The HTTPS client is hyper with rustls on ring (not the SDK's default aws-lc), with the system's
//! root certificates. Credentials come from the SDK's default chain (environment, shared profile
//! files, web identity, ECS and EC2 instance metadata) unless given.

use super::account::{
    AccountDetails, AttachedPolicy, Document, GroupDetail, InlinePolicy, ManagedPolicyDetail,
    PermissionsBoundary, PolicyVersion, RoleDetail, Tag, UserDetail,
};
use super::{BoxFuture, Documents, Fetcher, Loader};
use super::{FetchError, LoadError};
use super::{Parts, PrincipalKey};
use aws_sdk_iam::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_iam::Client;
use iamlet_engine::{Arn, Policy, PolicyType, PrincipalKind};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// How to use the IAM API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IamApiMode {
    /// Fetch each principal on a cache miss.
    #[default]
    PerPrincipal,
    /// Fetch the whole account with `GetAccountAuthorizationDetails` and poll it.
    AccountSnapshot,
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
    if let Some(c) = &config.credentials {
        loader = loader.credentials_provider(aws_sdk_iam::config::Credentials::new(
            c.access_key_id.clone(),
            c.secret_access_key.clone(),
            None,
            None,
            "iamlet",
        ));
    }
    let sdk = loader.load().await;
    // IAM is global: sign for us-east-1 when no region is configured anywhere.
    let mut iam = aws_sdk_iam::config::Builder::from(&sdk);
    if sdk.region().is_none() {
        iam = iam.region(aws_config::Region::new("us-east-1"));
    }
    Client::from_conf(iam.build())
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

/// Fetches principals one by one.
#[derive(Debug)]
pub struct IamApiFetcher {
    client: Client,
    /// Managed policy documents by (ARN, version id, as boundary).
    managed: Mutex<HashMap<(String, String, bool), Policy>>,
}

impl IamApiFetcher {
    /// A fetcher over a client built from `config`.
    pub async fn new(config: &IamApiConfig) -> Result<Self, LoadError> {
        Ok(Self::with_client(client(config).await))
    }

    /// A fetcher over an existing client.
    pub fn with_client(client: Client) -> Self {
        IamApiFetcher {
            client,
            managed: Mutex::new(HashMap::new()),
        }
    }

    async fn managed_policy(
        &self,
        who: &str,
        arn: &str,
        ty: PolicyType,
    ) -> Result<Policy, FetchError> {
        let got = self
            .client
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| classify_policy(who, arn, "GetPolicy", e))?;
        let version = got
            .policy()
            .and_then(|p| p.default_version_id())
            .ok_or_else(|| FetchError::Failed(format!("IAM GetPolicy {arn}: no default version")))?
            .to_owned();
        let key = (arn.to_owned(), version.clone(), ty == PolicyType::Boundary);
        if let Some(p) = self
            .managed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(p.clone());
        }
        let v = self
            .client
            .get_policy_version()
            .policy_arn(arn)
            .version_id(&version)
            .send()
            .await
            .map_err(|e| classify_policy(who, arn, "GetPolicyVersion", e))?;
        let text = v
            .policy_version()
            .and_then(|pv| pv.document())
            .ok_or_else(|| {
                FetchError::Failed(format!("IAM GetPolicyVersion {arn} {version}: no document"))
            })?;
        let policy = compile(arn, text, ty, &format!("managed policy {arn} {version}"))?;
        self.managed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, policy.clone());
        Ok(policy)
    }

    async fn attached(
        &self,
        who: &str,
        arns: Vec<String>,
        out: &mut Vec<Policy>,
    ) -> Result<(), FetchError> {
        for arn in arns {
            if out.iter().any(|p| p.name() == arn) {
                continue;
            }
            out.push(self.managed_policy(who, &arn, PolicyType::Identity).await?);
        }
        Ok(())
    }

    async fn user(&self, arn: &str, kind: PrincipalKind) -> Result<Parts, FetchError> {
        let c = &self.client;
        let name = last_segment(arn);
        let got = c
            .get_user()
            .user_name(name)
            .send()
            .await
            .map_err(|e| classify(arn, "GetUser", e))?;
        let user = got
            .user()
            .ok_or_else(|| FetchError::NotFound(arn.to_owned()))?;
        if user.arn() != arn {
            return Err(FetchError::NotFound(arn.to_owned()));
        }
        let owner = format!("user/{name}");
        let mut identity = Vec::new();
        let names: Vec<String> = c
            .list_user_policies()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(arn, "ListUserPolicies", e))?;
        for p in names {
            let got = c
                .get_user_policy()
                .user_name(name)
                .policy_name(&p)
                .send()
                .await
                .map_err(|e| classify(arn, "GetUserPolicy", e))?;
            let what = format!("user {name} inline policy {p}");
            identity.push(compile(
                &format!("{owner}:inline/{p}"),
                got.policy_document(),
                PolicyType::Identity,
                &what,
            )?);
        }
        let attached: Vec<String> = c
            .list_attached_user_policies()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(arn, "ListAttachedUserPolicies", e))?
            .iter()
            .filter_map(|a| a.policy_arn().map(str::to_owned))
            .collect();
        self.attached(arn, attached, &mut identity).await?;
        let groups = c
            .list_groups_for_user()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(arn, "ListGroupsForUser", e))?;
        let mut group_arns = Vec::new();
        for g in &groups {
            let gname = g.group_name();
            group_arns.push(g.arn().to_owned());
            let names: Vec<String> = c
                .list_group_policies()
                .group_name(gname)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| classify(arn, "ListGroupPolicies", e))?;
            for p in names {
                let got = c
                    .get_group_policy()
                    .group_name(gname)
                    .policy_name(&p)
                    .send()
                    .await
                    .map_err(|e| classify(arn, "GetGroupPolicy", e))?;
                let what = format!("group {gname} inline policy {p}");
                identity.push(compile(
                    &format!("group/{gname}:inline/{p}"),
                    got.policy_document(),
                    PolicyType::Identity,
                    &what,
                )?);
            }
            let attached: Vec<String> = c
                .list_attached_group_policies()
                .group_name(gname)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| classify(arn, "ListAttachedGroupPolicies", e))?
                .iter()
                .filter_map(|a| a.policy_arn().map(str::to_owned))
                .collect();
            self.attached(arn, attached, &mut identity).await?;
        }
        let boundary = match user
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
        {
            Some(b) => Some(self.managed_policy(arn, b, PolicyType::Boundary).await?),
            None => None,
        };
        Ok(Parts {
            kind,
            entity: user.arn().to_owned(),
            account: account_of(user.arn()).map(str::to_owned),
            unique_id: Some(user.user_id().to_owned()),
            issuer: None,
            groups: group_arns,
            identity,
            boundary,
            tags: user
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
            trust: None,
        })
    }

    /// `exact`: the role's ARN must be this (with its path); otherwise only its account must match.
    async fn role(&self, arn: &str, exact: bool, kind: PrincipalKind) -> Result<Parts, FetchError> {
        let c = &self.client;
        let name = last_segment(arn);
        let got = c
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| classify(arn, "GetRole", e))?;
        let role = got
            .role()
            .ok_or_else(|| FetchError::NotFound(arn.to_owned()))?;
        let matches = if exact {
            role.arn() == arn
        } else {
            partition_and_account(role.arn()) == partition_and_account(arn)
        };
        if !matches {
            return Err(FetchError::NotFound(arn.to_owned()));
        }
        let owner = format!("role/{name}");
        let mut identity = Vec::new();
        let names: Vec<String> = c
            .list_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(arn, "ListRolePolicies", e))?;
        for p in names {
            let got = c
                .get_role_policy()
                .role_name(name)
                .policy_name(&p)
                .send()
                .await
                .map_err(|e| classify(arn, "GetRolePolicy", e))?;
            let what = format!("role {name} inline policy {p}");
            identity.push(compile(
                &format!("{owner}:inline/{p}"),
                got.policy_document(),
                PolicyType::Identity,
                &what,
            )?);
        }
        let attached: Vec<String> = c
            .list_attached_role_policies()
            .role_name(name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(arn, "ListAttachedRolePolicies", e))?
            .iter()
            .filter_map(|a| a.policy_arn().map(str::to_owned))
            .collect();
        self.attached(arn, attached, &mut identity).await?;
        let boundary = match role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
        {
            Some(b) => Some(self.managed_policy(arn, b, PolicyType::Boundary).await?),
            None => None,
        };
        let trust = match role.assume_role_policy_document() {
            Some(doc) => Some(compile(
                &format!("{owner}:trust"),
                doc,
                PolicyType::Trust,
                &format!("role {name} trust policy"),
            )?),
            None => None,
        };
        // GetRole returns tags; older servers may not, so ask when none came back.
        let mut tags: Vec<(String, String)> = role
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        if tags.is_empty() {
            if let Ok(t) = c.list_role_tags().role_name(name).send().await {
                tags = t
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect();
            }
        }
        Ok(Parts {
            kind,
            entity: role.arn().to_owned(),
            account: account_of(role.arn()).map(str::to_owned),
            unique_id: Some(role.role_id().to_owned()),
            issuer: (kind == PrincipalKind::AssumedRole).then(|| role.arn().to_owned()),
            groups: Vec::new(),
            identity,
            boundary,
            tags,
            trust,
        })
    }
}

fn classify_policy<E>(principal: &str, policy: &str, op: &str, e: E) -> FetchError
where
    E: ProvideErrorMetadata + std::error::Error,
{
    // A managed policy that vanished between the listing and the fetch is a failure, not an unknown
    // principal.
    match classify(principal, op, e) {
        FetchError::NotFound(_) => {
            FetchError::Failed(format!("IAM {op}: no managed policy `{policy}`"))
        }
        other => other,
    }
}

impl Fetcher for IamApiFetcher {
    fn fetch<'a>(&'a self, key: &'a PrincipalKey) -> BoxFuture<'a, Result<Parts, FetchError>> {
        Box::pin(async move {
            match key {
                PrincipalKey::User(arn) => self.user(arn, PrincipalKind::User).await,
                PrincipalKey::FederatedUser { issuer, .. } => {
                    let mut parts = self.user(issuer, PrincipalKind::FederatedUser).await?;
                    parts.issuer = Some(parts.entity.clone());
                    Ok(parts)
                }
                PrincipalKey::Role(arn) => self.role(arn, true, PrincipalKind::Role).await,
                PrincipalKey::RoleSession(role) => {
                    self.role(role, false, PrincipalKind::AssumedRole).await
                }
                PrincipalKey::Root(account) => Ok(Parts::empty(
                    PrincipalKind::Root,
                    &format!("arn:aws:iam::{account}:root"),
                    Some(account),
                )),
                PrincipalKey::Service(name) => Ok(Parts::empty(PrincipalKind::Service, name, None)),
                PrincipalKey::Anonymous => {
                    Ok(Parts::empty(PrincipalKind::Anonymous, "anonymous", None))
                }
            }
        })
    }
}

/// The whole account with `GetAccountAuthorizationDetails`, as a document for the snapshot builder.
#[derive(Debug)]
pub struct IamApiSnapshotLoader {
    client: Client,
    name: String,
}

impl IamApiSnapshotLoader {
    /// A loader over a client built from `config`.
    pub async fn new(config: &IamApiConfig) -> Result<Self, LoadError> {
        let name = match &config.endpoint_url {
            Some(u) => format!("IAM GetAccountAuthorizationDetails at {u}"),
            None => "IAM GetAccountAuthorizationDetails".to_owned(),
        };
        Ok(IamApiSnapshotLoader {
            client: client(config).await,
            name,
        })
    }

    /// Every page, merged into one export.
    pub async fn fetch_details(&self) -> Result<AccountDetails, LoadError> {
        let mut pages = self
            .client
            .get_account_authorization_details()
            .into_paginator()
            .send();
        let mut details = AccountDetails::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| LoadError::Read {
                source_name: self.name.clone(),
                message: DisplayErrorContext(&e).to_string(),
            })?;
            let bad = |m: String| LoadError::Read {
                source_name: self.name.clone(),
                message: m,
            };
            for u in page.user_detail_list() {
                details.user_detail_list.push(convert_user(u).map_err(bad)?);
            }
            for g in page.group_detail_list() {
                details
                    .group_detail_list
                    .push(convert_group(g).map_err(bad)?);
            }
            for r in page.role_detail_list() {
                details.role_detail_list.push(convert_role(r).map_err(bad)?);
            }
            for p in page.policies() {
                details.policies.push(convert_policy(p).map_err(bad)?);
            }
        }
        Ok(details)
    }
}

impl Loader for IamApiSnapshotLoader {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Option<Documents>, LoadError>> {
        Box::pin(async move {
            let details = self.fetch_details().await?;
            let text = serde_json::to_string(&details).map_err(|e| LoadError::Read {
                source_name: self.name.clone(),
                message: e.to_string(),
            })?;
            Ok(Some(vec![(self.name.clone(), text)]))
        })
    }
}

// ===== SDK types → the export model =====

fn required(v: Option<&str>, what: &str) -> Result<String, String> {
    v.map(str::to_owned)
        .ok_or_else(|| format!("an entry without {what}"))
}

fn doc(text: Option<&str>, what: &str) -> Result<Document, String> {
    Document::from_text(text.ok_or_else(|| format!("{what} has no document"))?)
}

fn inline(
    list: &[aws_sdk_iam::types::PolicyDetail],
    owner: &str,
) -> Result<Vec<InlinePolicy>, String> {
    list.iter()
        .map(|p| {
            let name = required(p.policy_name(), "PolicyName")?;
            Ok(InlinePolicy {
                policy_document: doc(
                    p.policy_document(),
                    &format!("{owner} inline policy {name}"),
                )?,
                policy_name: name,
            })
        })
        .collect()
}

fn attached(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<AttachedPolicy> {
    list.iter()
        .filter_map(|a| {
            Some(AttachedPolicy {
                policy_name: a.policy_name().map(str::to_owned),
                policy_arn: a.policy_arn()?.to_owned(),
            })
        })
        .collect()
}

fn boundary(
    b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>,
) -> Option<PermissionsBoundary> {
    let b = b?;
    Some(PermissionsBoundary {
        permissions_boundary_type: b.permissions_boundary_type().map(|t| t.as_str().to_owned()),
        permissions_boundary_arn: b.permissions_boundary_arn()?.to_owned(),
    })
}

fn tags(list: &[aws_sdk_iam::types::Tag]) -> Vec<Tag> {
    list.iter()
        .map(|t| Tag {
            key: t.key().to_owned(),
            value: t.value().to_owned(),
        })
        .collect()
}

fn convert_user(u: &aws_sdk_iam::types::UserDetail) -> Result<UserDetail, String> {
    let name = required(u.user_name(), "UserName")?;
    Ok(UserDetail {
        arn: required(u.arn(), "Arn")?,
        user_id: u.user_id().map(str::to_owned),
        path: u.path().map(str::to_owned),
        create_date: u.create_date().and_then(|d| {
            d.fmt(aws_sdk_iam::primitives::DateTimeFormat::DateTime)
                .ok()
        }),
        user_policy_list: inline(u.user_policy_list(), &format!("user {name}"))?,
        group_list: u.group_list().to_vec(),
        attached_managed_policies: attached(u.attached_managed_policies()),
        permissions_boundary: boundary(u.permissions_boundary()),
        tags: tags(u.tags()),
        user_name: name,
    })
}

fn convert_group(g: &aws_sdk_iam::types::GroupDetail) -> Result<GroupDetail, String> {
    let name = required(g.group_name(), "GroupName")?;
    Ok(GroupDetail {
        arn: required(g.arn(), "Arn")?,
        group_policy_list: inline(g.group_policy_list(), &format!("group {name}"))?,
        attached_managed_policies: attached(g.attached_managed_policies()),
        group_name: name,
    })
}

fn convert_role(r: &aws_sdk_iam::types::RoleDetail) -> Result<RoleDetail, String> {
    let name = required(r.role_name(), "RoleName")?;
    Ok(RoleDetail {
        arn: required(r.arn(), "Arn")?,
        role_id: r.role_id().map(str::to_owned),
        path: r.path().map(str::to_owned),
        assume_role_policy_document: r
            .assume_role_policy_document()
            .map(|d| doc(Some(d), &format!("role {name} trust policy")))
            .transpose()?,
        role_policy_list: inline(r.role_policy_list(), &format!("role {name}"))?,
        attached_managed_policies: attached(r.attached_managed_policies()),
        permissions_boundary: boundary(r.permissions_boundary()),
        tags: tags(r.tags()),
        role_name: name,
    })
}

fn convert_policy(
    p: &aws_sdk_iam::types::ManagedPolicyDetail,
) -> Result<ManagedPolicyDetail, String> {
    let arn = required(p.arn(), "Arn")?;
    let versions = p
        .policy_version_list()
        .iter()
        .map(|v| {
            let id = v.version_id().unwrap_or_default().to_owned();
            Ok(PolicyVersion {
                document: v
                    .document()
                    .map(|d| doc(Some(d), &format!("managed policy {arn} {id}")))
                    .transpose()?,
                version_id: id,
                is_default_version: v.is_default_version(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(ManagedPolicyDetail {
        // Some IAM look-alikes (moto) leave the name out: it is the ARN's last segment.
        policy_name: p
            .policy_name()
            .unwrap_or_else(|| last_segment(&arn))
            .to_owned(),
        default_version_id: p.default_version_id().map(str::to_owned),
        policy_version_list: versions,
        arn,
    })
}
