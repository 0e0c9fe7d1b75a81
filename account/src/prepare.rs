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
            self.additions = mix(self.additions, (p.name(), p.policy_type()));
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

/// Adds the resource's side to a resolved principal and builds the engine's request. `org` is the
/// organization file in force; `trust` the trust policy of [`trusted_role`]'s role, when it has one.
pub fn prepare(
    resolved: Arc<Resolved>,
    query: Query,
    org: Option<&Organization>,
    trust: Option<Policy>,
) -> Result<Prepared, StoreError> {
    let mut request = resolved.request(
        &query.principal,
        &query.action,
        &query.resource,
        query.context,
    )?;
    let mut resource_policies = Vec::new();
    if let Some(rp) = org.and_then(|o| o.resource_policy(&query.resource)) {
        resource_policies.push(rp.policy.clone());
        if let (Some(a), None) = (&rp.account, &query.resource_account) {
            request = request.with_resource_account(a.clone());
        }
    }
    if let Some(a) = &query.resource_account {
        request = request.with_resource_account(a.clone());
    }
    if let Some(trust) = trust {
        resource_policies.push(trust);
    }

    let resource_account = request.resource_account().map(str::to_owned);
    if let (Some(o), Some(acct)) = (org, resource_account.as_deref()) {
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

    let other_account = resource_account.as_deref() != resolved.account();
    let rcps_differ = other_account
        && request.principal().kind() != PrincipalKind::Service
        && org.is_some_and(|o| o.rcps_enabled());
    let mut additions = 0;
    let own = if resource_policies.is_empty() && !rcps_differ {
        None
    } else {
        let mut set = if rcps_differ {
            let mut set = resolved.policy_set_without_rcps().clone();
            if let (Some(o), Some(acct)) = (org, resource_account.as_deref()) {
                additions = mix(additions, ("rcps of", acct));
                for level in o.levels(acct) {
                    set.add_rcp_level(level.rcps.clone());
                }
            }
            set
        } else {
            resolved.policy_set().clone()
        };
        for p in resource_policies {
            additions = mix(additions, (p.name(), p.policy_type()));
            set.add(p);
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
