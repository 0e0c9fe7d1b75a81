//! One principal at a time, on a cache miss: a user (`GetUser`) with its inline and attached
//! policies and those of each of its groups (`ListGroupsForUser`), or a role (`GetRole`) with its
//! policies and trust policy; managed policies by `GetPolicy` + `GetPolicyVersion`, kept by ARN and
//! version so that one attached everywhere is downloaded once.
//!
//! Users, groups and roles are read the same way; only the SDK's calls differ, which [`Entity`]
//! chooses in one place.

use super::{account_of, classify, compile, last_segment, partition_and_account};
use super::{client, IamApiConfig};
use crate::{BoxFuture, FetchError, Fetcher, LoadError, Parts, PrincipalKey};
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::Client;
use iamlet_engine::{Policy, PolicyType, PrincipalKind};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Every item of a paginated list call, its error classified under the operation's name.
macro_rules! list_all {
    ($who:expr, $op:literal, $call:expr) => {
        collect(
            $who,
            $op,
            $call.into_paginator().items().send().try_collect().await,
        )
    };
}

/// Fetches principals one by one.
#[derive(Debug)]
pub struct IamApiFetcher {
    client: Client,
    /// Managed policy documents by (ARN, version id, as boundary).
    managed: Mutex<HashMap<(String, String, bool), Policy>>,
}

/// An IAM entity that holds policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entity {
    User,
    Group,
    Role,
}

impl Entity {
    /// `user`, `group` or `role`: how policies are named in explanations (`user/alice:inline/p`).
    fn label(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Group => "group",
            Entity::Role => "role",
        }
    }
}

/// What a user or role call returned that the principal's parts are made of.
struct Holder {
    arn: String,
    unique_id: String,
    boundary: Option<String>,
    tags: Vec<(String, String)>,
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

    /// One inline policy's document.
    async fn inline_document(
        &self,
        who: &str,
        entity: Entity,
        name: &str,
        policy: &str,
    ) -> Result<String, FetchError> {
        let c = &self.client;
        let document = match entity {
            Entity::User => {
                let call = c.get_user_policy().user_name(name).policy_name(policy);
                collect(who, "GetUserPolicy", call.send().await)?.policy_document
            }
            Entity::Group => {
                let call = c.get_group_policy().group_name(name).policy_name(policy);
                collect(who, "GetGroupPolicy", call.send().await)?.policy_document
            }
            Entity::Role => {
                let call = c.get_role_policy().role_name(name).policy_name(policy);
                collect(who, "GetRolePolicy", call.send().await)?.policy_document
            }
        };
        Ok(document)
    }

    /// The names of an entity's inline policies, and the ARNs of its attached managed ones.
    async fn policy_lists(
        &self,
        who: &str,
        entity: Entity,
        name: &str,
    ) -> Result<(Vec<String>, Vec<String>), FetchError> {
        let c = &self.client;
        // A line per call and kind of entity: the SDK has an operation for each.
        #[rustfmt::skip]
        let (inline, attached): (Vec<String>, Vec<aws_sdk_iam::types::AttachedPolicy>) = match entity {
            Entity::User => (
                list_all!(who, "ListUserPolicies", c.list_user_policies().user_name(name))?,
                list_all!(who, "ListAttachedUserPolicies", c.list_attached_user_policies().user_name(name))?,
            ),
            Entity::Group => (
                list_all!(who, "ListGroupPolicies", c.list_group_policies().group_name(name))?,
                list_all!(who, "ListAttachedGroupPolicies", c.list_attached_group_policies().group_name(name))?,
            ),
            Entity::Role => (
                list_all!(who, "ListRolePolicies", c.list_role_policies().role_name(name))?,
                list_all!(who, "ListAttachedRolePolicies", c.list_attached_role_policies().role_name(name))?,
            ),
        };
        let arns = attached
            .iter()
            .filter_map(|a| a.policy_arn().map(str::to_owned))
            .collect();
        Ok((inline, arns))
    }

    /// An entity's identity-based policies: its inline ones, then its attached managed ones not in
    /// `out` already, appended to `out`.
    async fn identity_policies(
        &self,
        who: &str,
        entity: Entity,
        name: &str,
        out: &mut Vec<Policy>,
    ) -> Result<(), FetchError> {
        let label = entity.label();
        let (inline, attached) = self.policy_lists(who, entity, name).await?;
        for p in inline {
            let text = self.inline_document(who, entity, name, &p).await?;
            out.push(compile(
                &format!("{label}/{name}:inline/{p}"),
                &text,
                PolicyType::Identity,
                &format!("{label} {name} inline policy {p}"),
            )?);
        }
        for arn in attached {
            if !out.iter().any(|p| p.name() == arn) {
                out.push(self.managed_policy(who, &arn, PolicyType::Identity).await?);
            }
        }
        Ok(())
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

    /// The parts every user and role has: its own policies, its boundary, its tags.
    async fn holder_parts(
        &self,
        who: &str,
        entity: Entity,
        name: &str,
        kind: PrincipalKind,
        holder: Holder,
    ) -> Result<Parts, FetchError> {
        let mut identity = Vec::new();
        self.identity_policies(who, entity, name, &mut identity)
            .await?;
        let boundary = match &holder.boundary {
            Some(b) => Some(self.managed_policy(who, b, PolicyType::Boundary).await?),
            None => None,
        };
        Ok(Parts {
            kind,
            account: account_of(&holder.arn).map(str::to_owned),
            unique_id: Some(holder.unique_id),
            issuer: None,
            groups: Vec::new(),
            identity,
            boundary,
            tags: holder.tags,
            trust: None,
            max_session_duration: None,
            entity: holder.arn,
        })
    }

    async fn user(&self, arn: &str, kind: PrincipalKind) -> Result<Parts, FetchError> {
        let name = last_segment(arn);
        let got = collect(
            arn,
            "GetUser",
            self.client.get_user().user_name(name).send().await,
        )?;
        let user = got
            .user()
            .filter(|u| u.arn() == arn)
            .ok_or_else(|| FetchError::NotFound(arn.to_owned()))?;
        let holder = Holder {
            arn: user.arn().to_owned(),
            unique_id: user.user_id().to_owned(),
            boundary: user
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned),
            tags: user
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
        };
        let mut parts = self
            .holder_parts(arn, Entity::User, name, kind, holder)
            .await?;
        let groups: Vec<aws_sdk_iam::types::Group> = list_all!(
            arn,
            "ListGroupsForUser",
            self.client.list_groups_for_user().user_name(name)
        )?;
        for g in &groups {
            parts.groups.push(g.arn().to_owned());
            self.identity_policies(arn, Entity::Group, g.group_name(), &mut parts.identity)
                .await?;
        }
        Ok(parts)
    }

    /// `exact`: the role's ARN must be this (with its path); otherwise (a session's role, known
    /// without its path) its partition, account and name must match.
    async fn role(&self, arn: &str, exact: bool, kind: PrincipalKind) -> Result<Parts, FetchError> {
        let name = last_segment(arn);
        let got = collect(
            arn,
            "GetRole",
            self.client.get_role().role_name(name).send().await,
        )?;
        let role = got
            .role()
            .filter(|r| {
                if exact {
                    r.arn() == arn
                } else {
                    partition_and_account(r.arn()) == partition_and_account(arn)
                }
            })
            .ok_or_else(|| FetchError::NotFound(arn.to_owned()))?;
        let trust = match role.assume_role_policy_document() {
            Some(doc) => Some(compile(
                &format!("role/{name}:trust"),
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
            if let Ok(t) = self.client.list_role_tags().role_name(name).send().await {
                tags = t
                    .tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect();
            }
        }
        let holder = Holder {
            arn: role.arn().to_owned(),
            unique_id: role.role_id().to_owned(),
            boundary: role
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_owned),
            tags,
        };
        let mut parts = self
            .holder_parts(arn, Entity::Role, name, kind, holder)
            .await?;
        parts.trust = trust;
        parts.max_session_duration = role.max_session_duration().map(i64::from);
        if kind == PrincipalKind::AssumedRole {
            parts.issuer = Some(parts.entity.clone());
        }
        Ok(parts)
    }
}

/// A call's answer, or its error classified ("no such entity" is `NotFound`).
fn collect<T, E>(who: &str, op: &str, result: Result<T, E>) -> Result<T, FetchError>
where
    E: ProvideErrorMetadata + std::error::Error,
{
    result.map_err(|e| classify(who, op, e))
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
