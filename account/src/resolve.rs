//! Principal resolution: from a principal's ARN to everything that takes part in evaluating its
//! requests — its identity-based policies (its own, inline and managed, then those of each of its
//! groups), its permissions boundary, its tags, and the SCP and RCP levels of its account — compiled
//! once into a [`PolicySet`].
//!
//! [`Parts`] is what any source (a [`Snapshot`](crate::Snapshot), or the live IAM API) finds for one
//! principal; [`Resolved`] is what the cache keeps.

use crate::error::StoreError;
use crate::organization::Organization;
use iamlet_engine::{
    ContextMap, ContextValue, Policy, PolicySet, PrincipalKind, PrincipalName, Request,
    RequestError,
};
use serde::Serialize;
use std::fmt;

/// What the cache keys compiled policies by: the principal's ARN, except that every session of a
/// role shares its role's entry, and a federated user session is keyed with its issuing user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalKey {
    /// An IAM user, by ARN (path included).
    User(String),
    /// An IAM role used directly, by ARN (path included).
    Role(String),
    /// Any session of a role: the role ARN as a session ARN gives it (without the role's path).
    RoleSession(String),
    /// A federated user session and the ARN of the IAM user that called `GetFederationToken`.
    FederatedUser {
        /// The session's ARN.
        arn: String,
        /// The issuing IAM user's ARN.
        issuer: String,
    },
    /// An account's root user, by account id.
    Root(String),
    /// An AWS service principal (`ec2.amazonaws.com`): no IAM entity behind it.
    Service(String),
    /// An unauthenticated caller.
    Anonymous,
}

impl PrincipalKey {
    /// The key of a principal ARN. `issuer` is needed for federated user sessions only: the ARN of
    /// the IAM user that issued it.
    pub fn for_principal(principal: &str, issuer: Option<&str>) -> Result<Self, StoreError> {
        // Read in place: this runs on every check, and the key copies one string at most.
        let p = PrincipalName::parse(principal)?;
        let arn = || p.arn().into_owned();
        Ok(match p.kind() {
            PrincipalKind::User => PrincipalKey::User(arn()),
            PrincipalKind::Role => PrincipalKey::Role(arn()),
            PrincipalKind::AssumedRole => {
                PrincipalKey::RoleSession(p.session_role_arn().unwrap_or_else(arn))
            }
            PrincipalKind::FederatedUser => match issuer {
                Some(i) => PrincipalKey::FederatedUser {
                    arn: arn(),
                    issuer: i.to_owned(),
                },
                None => return Err(StoreError::MissingIssuer(arn())),
            },
            PrincipalKind::Root => PrincipalKey::Root(p.account().unwrap_or_default().to_owned()),
            PrincipalKind::Service => PrincipalKey::Service(arn()),
            // A provider is no principal of the store's: it has no policies, and only STS's
            // federation calls evaluate it, against a role's trust policy alone.
            PrincipalKind::WebIdentity => {
                return Err(StoreError::Request(iamlet_engine::RequestError::Principal(
                    arn(),
                )))
            }
            PrincipalKind::Anonymous => PrincipalKey::Anonymous,
        })
    }

    /// The principal the key names (for messages).
    pub fn describe(&self) -> &str {
        match self {
            PrincipalKey::User(a)
            | PrincipalKey::Role(a)
            | PrincipalKey::RoleSession(a)
            | PrincipalKey::Root(a)
            | PrincipalKey::Service(a)
            | PrincipalKey::FederatedUser { arn: a, .. } => a,
            PrincipalKey::Anonymous => "anonymous",
        }
    }
}

impl fmt::Display for PrincipalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrincipalKey::RoleSession(role) => write!(f, "sessions of {role}"),
            PrincipalKey::FederatedUser { arn, issuer } => write!(f, "{arn} (issued by {issuer})"),
            other => f.write_str(other.describe()),
        }
    }
}

/// What a source found for one principal, before the organization's policies are added.
#[derive(Clone, Debug)]
pub struct Parts {
    /// What kind of principal this is.
    pub kind: PrincipalKind,
    /// The IAM entity whose policies these are: a user or role ARN with its path, a root ARN, a
    /// service name.
    pub entity: String,
    /// The principal's account.
    pub account: Option<String>,
    /// `UserId` / `RoleId`.
    pub unique_id: Option<String>,
    /// For sessions: the role ARN with its path, or the issuing user's ARN.
    pub issuer: Option<String>,
    /// The names of a user's groups.
    pub groups: Vec<String>,
    /// Identity-based policies: the entity's own (inline, then managed), then each group's.
    pub identity: Vec<Policy>,
    /// The permissions boundary.
    pub boundary: Option<Policy>,
    /// The entity's tags.
    pub tags: Vec<(String, String)>,
    /// A role's trust policy.
    pub trust: Option<Policy>,
    /// A role's `MaxSessionDuration` in seconds, when the source knows it (the IAM database and
    /// API do; an export does not carry it).
    pub max_session_duration: Option<i64>,
}

impl Parts {
    /// No policies: a root, a service, the anonymous principal.
    pub fn empty(kind: PrincipalKind, entity: &str, account: Option<&str>) -> Self {
        Parts {
            kind,
            entity: entity.to_owned(),
            account: account.map(str::to_owned),
            unique_id: None,
            issuer: None,
            groups: Vec::new(),
            identity: Vec::new(),
            boundary: None,
            tags: Vec::new(),
            trust: None,
            max_session_duration: None,
        }
    }

    /// Adds the organization's SCP and RCP levels of the principal's account and compiles the sets.
    pub fn assemble(self, org: Option<&Organization>) -> Resolved {
        let mut base = PolicySet::new();
        let mut summary = Summary {
            kind: self.kind,
            entity: self.entity.clone(),
            groups: self.groups.clone(),
            policies: self.identity.iter().map(|p| p.name().to_owned()).collect(),
            boundary: self.boundary.as_ref().map(|p| p.name().to_owned()),
            scp_levels: Vec::new(),
            rcp_levels: Vec::new(),
            tags: self.tags.clone(),
        };
        for p in &self.identity {
            base.add(p.clone());
        }
        if let Some(b) = &self.boundary {
            base.add(b.clone());
        }
        let mut set = base.clone();
        let mut org_keys = None;
        if let (Some(org), Some(account)) = (org, self.account.as_deref()) {
            if org.scps_enabled() {
                for level in org.levels(account) {
                    base.add_scp_level(level.scps.clone());
                    set.add_scp_level(level.scps.clone());
                    summary
                        .scp_levels
                        .push(LevelSummary::of(&level.id, &level.scps));
                }
            }
            if org.rcps_enabled() {
                for level in org.levels(account) {
                    set.add_rcp_level(level.rcps.clone());
                    summary
                        .rcp_levels
                        .push(LevelSummary::of(&level.id, &level.rcps));
                }
            }
            org_keys = org.principal_org_keys(account);
        }
        let tag_keys = self
            .tags
            .iter()
            .map(|(k, v)| (format!("aws:PrincipalTag/{k}"), v.clone()))
            .collect();
        Resolved {
            tag_keys,
            parts: self,
            base,
            set,
            org_keys,
            summary,
        }
    }
}

/// The compiled input of every evaluation for one principal.
#[derive(Debug)]
pub struct Resolved {
    parts: Parts,
    /// Identity-based policies, boundary and SCP levels.
    base: PolicySet,
    /// `base` plus the RCP levels of the principal's own account (for resources in that account).
    set: PolicySet,
    org_keys: Option<(String, String)>,
    /// The tags as condition keys (`aws:PrincipalTag/k`, value), formatted once.
    tag_keys: Vec<(String, String)>,
    summary: Summary,
}

impl Resolved {
    /// The policies for a request on a resource in the principal's own account: identity-based,
    /// boundary, SCP levels, and RCP levels.
    pub fn policy_set(&self) -> &PolicySet {
        &self.set
    }

    /// The same without RCPs: RCPs belong to the resource's account, so a request on a resource in
    /// another account adds that account's levels to this.
    pub fn policy_set_without_rcps(&self) -> &PolicySet {
        &self.base
    }

    /// The principal's account.
    pub fn account(&self) -> Option<&str> {
        self.parts.account.as_deref()
    }

    /// What kind of principal this is.
    pub fn kind(&self) -> PrincipalKind {
        self.parts.kind
    }

    /// A role's `MaxSessionDuration`, when the source knows it.
    pub fn max_session_duration(&self) -> Option<i64> {
        self.parts.max_session_duration
    }

    /// The IAM entity whose policies these are: a user's or role's ARN with its path (for sessions,
    /// the role's or the issuing user's), a root ARN, a service name.
    pub fn entity(&self) -> &str {
        &self.parts.entity
    }

    /// `UserId` / `RoleId` (`AIDA…`, `AROA…`), when the source knows it.
    pub fn unique_id(&self) -> Option<&str> {
        self.parts.unique_id.as_deref()
    }

    /// The role's trust policy (for roles and their sessions).
    pub fn trust_policy(&self) -> Option<&Policy> {
        self.parts.trust.as_ref()
    }

    /// What applies to the principal, for people.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The principal's tags.
    pub fn tags(&self) -> &[(String, String)] {
        &self.parts.tags
    }

    /// The session issuer: a role session's role ARN with its path, or the IAM user behind a
    /// federated user session.
    pub fn session_issuer(&self) -> Option<&str> {
        self.parts.issuer.as_deref()
    }

    /// What the store knows of `principal` as condition keys — its tags, `aws:userid`, the
    /// organization's keys — exactly as [`Resolved::request`] adds them to a request's context (for
    /// tools that build many requests of their own, such as `diff` and `access::granted`).
    pub fn principal_context(&self, principal: &str) -> Result<ContextMap, RequestError> {
        // Which action and resource does not matter: none of these keys depends on them.
        Ok(self
            .request(principal, "iam:GetUser", "*", ContextMap::new())?
            .context()
            .clone())
    }

    /// Builds the request for `principal` (the ARN this was resolved from), adding what the store
    /// knows about it to the context: `aws:PrincipalTag/…` (the stored tags are authoritative for
    /// users and roles; for sessions, session tags already in the context override them, as in
    /// AWS), and when absent `aws:userid`, `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths`.
    pub fn request(
        &self,
        principal: &str,
        action: &str,
        resource: &str,
        mut context: ContextMap,
    ) -> Result<Request, RequestError> {
        let mut req = Request::new(principal, action, resource)?;
        let kind = req.principal().kind();
        if let Some(issuer) = &self.parts.issuer {
            req = req.with_session_issuer(issuer.clone());
        }
        for (key, v) in &self.tag_keys {
            if !(kind.is_session() && context.contains(key)) {
                context.insert(key, v.as_str());
            }
        }
        let user_id = match (kind, &self.parts.unique_id) {
            (PrincipalKind::User | PrincipalKind::Role, Some(id)) => Some(id.clone()),
            (PrincipalKind::AssumedRole, Some(id)) => principal
                .rsplit('/')
                .next()
                .map(|session| format!("{id}:{session}")),
            (PrincipalKind::FederatedUser, _) => {
                let name = principal.rsplit('/').next().unwrap_or_default();
                req.principal().account().map(|a| format!("{a}:{name}"))
            }
            _ => None,
        };
        if let Some(id) = user_id {
            if !context.contains("aws:userid") {
                context.insert("aws:userid", id);
            }
        }
        if let Some((org, path)) = &self.org_keys {
            if !context.contains("aws:PrincipalOrgID") {
                context.insert("aws:PrincipalOrgID", org.as_str());
            }
            if !context.contains("aws:PrincipalOrgPaths") {
                context.insert(
                    "aws:PrincipalOrgPaths",
                    ContextValue::multi(vec![path.clone()]),
                );
            }
        }
        Ok(req.with_context(context))
    }
}

/// What applies to a principal: for `iamlet principals` and debugging.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The kind of principal.
    pub kind: PrincipalKind,
    /// The user or role ARN (for sessions, the role's; for federated users, the issuing user's).
    pub entity: String,
    /// Its groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Its identity-based policies, as named in explanations.
    pub policies: Vec<String>,
    /// Its permissions boundary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary: Option<String>,
    /// SCPs per organization level, root first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scp_levels: Vec<LevelSummary>,
    /// RCPs per organization level, root first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rcp_levels: Vec<LevelSummary>,
    /// Its tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
}

/// The policies at one organization level.
#[derive(Clone, Debug, Serialize)]
pub struct LevelSummary {
    /// The root, OU or account id.
    pub level: String,
    /// The policies' names.
    pub policies: Vec<String>,
}

impl LevelSummary {
    fn of(level: &str, policies: &[Policy]) -> Self {
        LevelSummary {
            level: level.to_owned(),
            policies: policies.iter().map(|p| p.name().to_owned()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_principal_has_its_key() {
        let key = |p: &str, issuer: Option<&str>| PrincipalKey::for_principal(p, issuer);
        let user = "arn:aws:iam::111122223333:user/division/alice";
        assert_eq!(key(user, None), Ok(PrincipalKey::User(user.into())));
        let role = "arn:aws-cn:iam::111122223333:role/ops/Admin";
        assert_eq!(key(role, None), Ok(PrincipalKey::Role(role.into())));
        // Every session of a role shares the role's key (its ARN without the path).
        for session in ["s1", "s2"] {
            assert_eq!(
                key(
                    &format!("arn:aws-cn:sts::111122223333:assumed-role/Admin/{session}"),
                    None
                ),
                Ok(PrincipalKey::RoleSession(
                    "arn:aws-cn:iam::111122223333:role/Admin".into()
                ))
            );
        }
        let fed = "arn:aws:sts::111122223333:federated-user/bob";
        assert_eq!(
            key(fed, Some(user)),
            Ok(PrincipalKey::FederatedUser {
                arn: fed.into(),
                issuer: user.into()
            })
        );
        assert_eq!(key(fed, None), Err(StoreError::MissingIssuer(fed.into())));
        for root in ["111122223333", "arn:aws:iam::111122223333:root"] {
            assert_eq!(
                key(root, None),
                Ok(PrincipalKey::Root("111122223333".into()))
            );
        }
        assert_eq!(
            key("ec2.amazonaws.com", None),
            Ok(PrincipalKey::Service("ec2.amazonaws.com".into()))
        );
        for anonymous in ["anonymous", "*"] {
            assert_eq!(key(anonymous, None), Ok(PrincipalKey::Anonymous));
        }
        for bad in [
            "arn:aws:iam::111122223333:oidc-provider/example.com",
            "arn:aws:sts::111122223333:assumed-role/Admin",
            "arn:aws:iam:::user/alice",
            "bob",
        ] {
            assert!(key(bad, None).is_err(), "{bad}");
        }
    }
}
