//! The resource's side of a request, as IAM evaluates it: to the principal's compiled policies,
//! [`prepare`] adds the resource-based policy that applies (from the organization file), the role's
//! trust policy for the `sts:` actions on a role, and for a resource in another account that
//! account's RCP levels instead of the principal's; and the resource's `aws:ResourceOrgID` and
//! `aws:ResourceOrgPaths`. Pure: whoever holds the documents (the identity store) looks the role up.

use crate::organization::Organization;
use crate::{Resolved, StoreError};
use iamlet_engine::{
    Arn, ContextMap, ContextValue, Decision, Explanation, Policy, PolicySet, PrincipalKind, Request,
};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A request to authorize, as the store takes it.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// The principal's ARN (user, role, assumed-role session, federated user, root, service).
    pub principal: String,
    /// For a federated user session: the IAM user that issued it.
    pub session_issuer: Option<String>,
    /// `service:Action`.
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// The account owning the resource, for ARNs without one (S3) not named in the organization file.
    pub resource_account: Option<String>,
    /// Condition keys of the request.
    pub context: ContextMap,
}

/// Everything one evaluation needs: the principal's compiled policies plus the resource's side, and
/// the request.
#[derive(Debug)]
pub struct Prepared {
    resolved: Arc<Resolved>,
    /// A set of its own when the resource adds policies (else the principal's set is used as is).
    own: Option<PolicySet>,
    /// Names what `own` added to the principal's set (0: nothing), so an engine that keeps compiled
    /// sets can find this combination again without looking at the documents.
    additions: u64,
    request: Request,
}

/// Folds an added policy (or level) into [`Prepared::additions`].
fn mix(key: u64, what: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    (key, what).hash(&mut h);
    h.finish() | 1
}

impl Prepared {
    /// The policies.
    pub fn policy_set(&self) -> &PolicySet {
        self.own
            .as_ref()
            .unwrap_or_else(|| self.resolved.policy_set())
    }

    /// The request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The principal's compiled policies.
    pub fn resolved(&self) -> &Arc<Resolved> {
        &self.resolved
    }

    /// What was added to the principal's policies for this request (by name, type and level), as a
    /// key: 0 when nothing was. Two requests with the same principal set and the same key evaluate
    /// the same policies.
    pub fn additions(&self) -> u64 {
        self.additions
    }

    /// Adds policies (session policies, extra identity policies to try) to this evaluation only.
    pub fn with_policies(mut self, policies: impl IntoIterator<Item = Policy>) -> Self {
        let set = self
            .own
            .get_or_insert_with(|| self.resolved.policy_set().clone());
        for p in policies {
            self.additions = additions_with(self.additions, [&p]);
            set.add(p);
        }
        self
    }

    /// Adds organization levels of SCPs or RCPs to this evaluation only.
    pub fn with_org_levels(mut self, scps: Vec<Vec<Policy>>, rcps: Vec<Vec<Policy>>) -> Self {
        let set = self
            .own
            .get_or_insert_with(|| self.resolved.policy_set().clone());
        for l in scps {
            let names: Vec<&str> = l.iter().map(Policy::name).collect();
            self.additions = mix(self.additions, ("scp", &names));
            set.add_scp_level(l);
        }
        for l in rcps {
            let names: Vec<&str> = l.iter().map(Policy::name).collect();
            self.additions = mix(self.additions, ("rcp", &names));
            set.add_rcp_level(l);
        }
        self
    }

    /// The decision.
    pub fn evaluate(&self) -> Decision {
        self.policy_set().evaluate(&self.request)
    }

    /// The decision, explained.
    pub fn explain(&self) -> Explanation {
        self.policy_set().explain(&self.request)
    }
}

/// The role whose trust policy decides a request: the resource of an `sts:` action, when it is an
/// IAM role ARN (`AssumeRole`, `TagSession`, `SetSourceIdentity`, …).
pub fn trusted_role<'a>(action: &str, resource: &'a str) -> Option<&'a str> {
    let sts = action
        .split_once(':')
        .is_some_and(|(service, _)| service.eq_ignore_ascii_case("sts"));
    let role =
        Arn::parse(resource).is_some_and(|a| a.service == "iam" && a.resource.starts_with("role/"));
    (sts && role).then_some(resource)
}

/// What the resource adds to a principal's policies for one request, worked out from the
/// principal, the resource and the organization alone — before the request is built, so a caller
/// that remembers decisions can name the policy set ([`ResourceSide::additions`]) without
/// preparing the request.
///
/// It borrows what it is worked out from (the principal, the request's fields, the organization):
/// a check that finds its decision cached copies nothing of it.
#[derive(Debug)]
pub struct ResourceSide<'a> {
    /// The resource-based policy that applies (from the organization file).
    policy: Option<&'a Policy>,
    /// The account set with the request: given, or the one the organization file names for the
    /// resource.
    set_account: Option<&'a str>,
    /// The account owning the resource ([`iamlet_engine::resource_account`]).
    account: Option<&'a str>,
    /// Whether the resource's account's RCP levels replace the principal's.
    rcps_differ: bool,
    additions: u64,
}

impl ResourceSide<'_> {
    /// What the resource adds, as a key ([`Prepared::additions`] before a trust policy or session
    /// policies join).
    pub fn additions(&self) -> u64 {
        self.additions
    }
}

/// The resource's side of a request on `resource` by `resolved`'s principal: the resource-based
/// policy that applies, the resource's account, and, for a resource in another account, that
/// account's RCP levels instead of the principal's.
pub fn resource_side<'a>(
    resolved: &'a Resolved,
    resource: &'a str,
    resource_account: Option<&'a str>,
    org: Option<&'a Organization>,
) -> ResourceSide<'a> {
    let resource_policy = org.and_then(|o| o.resource_policy(resource));
    let set_account = resource_account
        .or_else(|| resource_policy.and_then(|rp| rp.account.as_deref()))
        .filter(|a| !a.is_empty());
    // The principal's account is the resolved entity's: a session's or a federated user's is its
    // role's or issuing user's, the same account by construction.
    let account = iamlet_engine::resource_account(resource, set_account, resolved.account());
    let rcps_differ = account != resolved.account()
        && resolved.kind() != PrincipalKind::Service
        && org.is_some_and(|o| o.rcps_enabled());
    let mut additions = 0;
    if let (true, Some(acct)) = (rcps_differ, account) {
        additions = mix(additions, ("rcps of", acct));
    }
    let policy = resource_policy.map(|rp| &rp.policy);
    if let Some(p) = policy {
        additions = mix(additions, (p.name(), p.policy_type()));
    }
    ResourceSide {
        policy,
        set_account,
        account,
        rcps_differ,
        additions,
    }
}

/// [`Prepared::additions`] once `policies` (session policies) join a set named `additions`.
pub fn additions_with<'p>(additions: u64, policies: impl IntoIterator<Item = &'p Policy>) -> u64 {
    policies
        .into_iter()
        .fold(additions, |key, p| mix(key, (p.name(), p.policy_type())))
}

/// Adds the resource's side to a resolved principal and builds the engine's request. `org` is the
/// organization file in force; `trust` the trust policy of [`trusted_role`]'s role, when it has one.
pub fn prepare(
    resolved: Arc<Resolved>,
    query: Query,
    org: Option<&Organization>,
    trust: Option<Policy>,
) -> Result<Prepared, StoreError> {
    let side = resource_side(
        &resolved,
        &query.resource,
        query.resource_account.as_deref(),
        org,
    );
    let mut request = resolved.request(
        &query.principal,
        &query.action,
        &query.resource,
        query.context,
    )?;
    if let Some(a) = side.set_account {
        request = request.with_resource_account(a);
    }
    if let (Some(o), Some(acct)) = (org, side.account) {
        if let Some((id, path)) = o.principal_org_keys(acct) {
            let context = request.context_mut();
            if !context.contains("aws:ResourceOrgID") {
                context.insert("aws:ResourceOrgID", id.as_str());
            }
            if !context.contains("aws:ResourceOrgPaths") {
                context.insert("aws:ResourceOrgPaths", ContextValue::multi(vec![path]));
            }
        }
    }

    let mut additions = side.additions;
    let own = if side.policy.is_none() && trust.is_none() && !side.rcps_differ {
        None
    } else {
        let mut set = if side.rcps_differ {
            let mut set = resolved.policy_set_without_rcps().clone();
            if let (Some(o), Some(acct)) = (org, side.account) {
                for level in o.levels(acct) {
                    set.add_rcp_level(level.rcps.clone());
                }
            }
            set
        } else {
            resolved.policy_set().clone()
        };
        if let Some(p) = side.policy {
            set.add(p.clone());
        }
        if let Some(trust) = trust {
            additions = additions_with(additions, [&trust]);
            set.add(trust);
        }
        Some(set)
    };
    Ok(Prepared {
        resolved,
        own,
        additions,
        request,
    })
}
