//! AWS's policy evaluation logic, single-account and cross-account.
//!
//! 1. An applicable `Deny` in any policy (RCPs, SCPs, resource-based, identity-based, boundaries,
//!    session policies) is final: `ExplicitDeny`.
//! 2. Every level of resource control policies must allow, then every level of service control
//!    policies (neither applies to service principals).
//! 3. Resource-based policies. In the resource's own account, an allow that names the caller itself
//!    (user, role session, federated user) is final; one that names the session's role is limited by
//!    boundaries and session policies but needs no identity-based allow; one that names the account
//!    delegates to identity-based policies. (`NotPrincipal` in a `Deny` always covers a principal that has a
//!    permissions boundary.) Across accounts, the resource-based policy must allow and
//!    so must the caller's own side. Role trust policies and KMS key policies must always allow.
//! 4. Identity-based policies must allow (the root user has every permission in its own account).
//! 5. Every permissions boundary must allow.
//! 6. For sessions, the session policies must allow; a federated user session without one has no
//!    permissions.

use crate::context::Context;
use crate::explain::{
    Explanation, StatementExplanation, StatementRef, Step, StepKind, StepOutcome,
};
use crate::policy::principal::Grant;
use crate::policy::{Effect, Policy, PolicyType, Statement};
use crate::request::{PrincipalKind, Request};
use serde::{Deserialize, Serialize};

/// The outcome of an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub enum Decision {
    /// At least one applicable policy allows, and nothing that must also allow stands in the way.
    Allow,
    /// An applicable statement denies.
    ExplicitDeny,
    /// Nothing allows (or a policy that must allow, such as a boundary or SCP, does not).
    ImplicitDeny,
}

impl Decision {
    /// Whether access is granted.
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
    /// The decision's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "Allow",
            Decision::ExplicitDeny => "ExplicitDeny",
            Decision::ImplicitDeny => "ImplicitDeny",
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision and the statements that decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct Verdict {
    /// The decision.
    pub decision: Decision,
    /// The applicable denies for `ExplicitDeny`, the allows that granted access for `Allow`.
    pub deciding: Vec<StatementRef>,
}

/// Every policy that applies to one principal's requests, grouped as AWS's evaluation groups them.
#[derive(Clone, Debug, Default)]
pub struct PolicySet {
    identity: Vec<Policy>,
    resource: Vec<Policy>,
    boundaries: Vec<Policy>,
    scps: Vec<Vec<Policy>>,
    rcps: Vec<Vec<Policy>>,
    session: Vec<Policy>,
}

/// Where a policy sits in a [`PolicySet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Rcp(usize),
    Scp(usize),
    Resource,
    Identity,
    Boundary,
    Session,
}

impl PolicySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a policy where its type puts it: identity-based, resource-based (or trust), boundary or
    /// session. SCPs and RCPs come in organization levels: use [`PolicySet::add_scp_level`] and
    /// [`PolicySet::add_rcp_level`]; a single SCP or RCP added here forms a level of its own.
    pub fn add(&mut self, policy: Policy) -> &mut Self {
        match policy.policy_type {
            PolicyType::Identity => self.identity.push(policy),
            PolicyType::Resource | PolicyType::Trust => self.resource.push(policy),
            PolicyType::Boundary => self.boundaries.push(policy),
            PolicyType::Session => self.session.push(policy),
            PolicyType::Scp => self.scps.push(vec![policy]),
            PolicyType::Rcp => self.rcps.push(vec![policy]),
        }
        self
    }

    /// Adds the SCPs attached at one level of the organization (root first, the account last):
    /// one of them must allow.
    pub fn add_scp_level(&mut self, policies: Vec<Policy>) -> &mut Self {
        self.scps.push(policies);
        self
    }

    /// Adds the RCPs attached at one level of the organization: one of them must allow.
    pub fn add_rcp_level(&mut self, policies: Vec<Policy>) -> &mut Self {
        self.rcps.push(policies);
        self
    }

    /// Every policy with its slot, in evaluation order.
    pub(crate) fn slots(&self) -> impl Iterator<Item = (Slot, &Policy)> {
        let rcps = self
            .rcps
            .iter()
            .enumerate()
            .flat_map(|(i, l)| l.iter().map(move |p| (Slot::Rcp(i), p)));
        let scps = self
            .scps
            .iter()
            .enumerate()
            .flat_map(|(i, l)| l.iter().map(move |p| (Slot::Scp(i), p)));
        rcps.chain(scps)
            .chain(self.resource.iter().map(|p| (Slot::Resource, p)))
            .chain(self.identity.iter().map(|p| (Slot::Identity, p)))
            .chain(self.boundaries.iter().map(|p| (Slot::Boundary, p)))
            .chain(self.session.iter().map(|p| (Slot::Session, p)))
    }

    /// The total number of statements in the set.
    pub fn statement_count(&self) -> usize {
        self.slots().map(|(_, p)| p.statements.len()).sum()
    }

    /// Decides a request.
    pub fn evaluate(&self, req: &Request) -> Decision {
        evaluate(self, req, None).decision
    }

    /// Decides a request and names the statements that decided (the applicable denies, or the allows
    /// that granted access), without the full explanation.
    pub fn decide(&self, req: &Request) -> Verdict {
        let out = evaluate(self, req, None);
        Verdict {
            decision: out.decision,
            deciding: out.deciding,
        }
    }

    /// Decides a request and explains the decision: which statements decided, what each step of the
    /// evaluation found, and for every statement that did not apply, the first reason why.
    pub fn explain(&self, req: &Request) -> Explanation {
        let mut trace = Vec::new();
        let out = evaluate(self, req, Some(&mut trace));
        let mut statements = trace;
        statements.sort_by_key(|s| s.order);
        Explanation::build(
            out.decision,
            out.deciding,
            out.steps,
            statements,
            out.summary,
        )
    }
}

/// A statement that applied.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hit<'p> {
    pub(crate) slot: Slot,
    pub(crate) policy: &'p Policy,
    pub(crate) stmt: &'p Statement,
    pub(crate) grant: Option<Grant>,
}

impl Hit<'_> {
    pub(crate) fn to_ref(self) -> StatementRef {
        StatementRef::new(self.slot, self.policy, self.stmt)
    }
}

pub(crate) struct Outcome {
    pub(crate) decision: Decision,
    pub(crate) deciding: Vec<StatementRef>,
    pub(crate) steps: Vec<Step>,
    pub(crate) summary: String,
}

#[derive(Default)]
struct Group<'p> {
    allows: Vec<Hit<'p>>,
    denies: Vec<Hit<'p>>,
}

impl<'p> Group<'p> {
    fn allows(&self) -> bool {
        !self.allows.is_empty()
    }
    fn best_grant(&self) -> Option<Grant> {
        self.allows.iter().filter_map(|h| h.grant).max()
    }
    fn refs_with_grant(&self, g: Grant) -> Vec<StatementRef> {
        self.allows
            .iter()
            .filter(|h| h.grant == Some(g))
            .map(|h| h.to_ref())
            .collect()
    }
}

fn run_group<'p>(
    slot: Slot,
    policies: &'p [Policy],
    has_boundary: bool,
    req: &Request,
    ctx: &Context<'_>,
    trace: &mut Option<&mut Vec<StatementExplanation>>,
    order: &mut usize,
) -> Group<'p> {
    let mut g = Group::default();
    for policy in policies {
        for stmt in &policy.statements {
            *order += 1;
            let result = stmt.applies(req, ctx, has_boundary);
            if let Some(t) = trace.as_deref_mut() {
                t.push(StatementExplanation::new(
                    *order,
                    StatementRef::new(slot, policy, stmt),
                    result.as_ref().err(),
                    stmt,
                    req,
                    ctx,
                ));
            }
            if let Ok(grant) = result {
                let hit = Hit {
                    slot,
                    policy,
                    stmt,
                    grant,
                };
                match stmt.effect {
                    Effect::Allow => g.allows.push(hit),
                    Effect::Deny => g.denies.push(hit),
                }
            }
        }
    }
    g
}

pub(crate) fn evaluate(
    set: &PolicySet,
    req: &Request,
    mut trace: Option<&mut Vec<StatementExplanation>>,
) -> Outcome {
    let tracing = trace.is_some();
    let ctx = req.ctx();
    let kind = req.principal.kind;
    let mut order = 0usize;
    let mut steps: Vec<Step> = Vec::new();
    let mut step = |s: Step| {
        if tracing {
            steps.push(s)
        }
    };

    let is_service_or_anon = matches!(kind, PrincipalKind::Service | PrincipalKind::Anonymous);
    let session_applies = kind.is_session();
    let hb = !set.boundaries.is_empty();

    let rcps: Vec<Group<'_>> = set
        .rcps
        .iter()
        .enumerate()
        .map(|(i, l)| run_group(Slot::Rcp(i), l, hb, req, &ctx, &mut trace, &mut order))
        .collect();
    // SCPs limit the principals of member accounts: not service principals or anonymous callers.
    let scps: Vec<Group<'_>> = if is_service_or_anon {
        Vec::new()
    } else {
        set.scps
            .iter()
            .enumerate()
            .map(|(i, l)| run_group(Slot::Scp(i), l, hb, req, &ctx, &mut trace, &mut order))
            .collect()
    };
    let resource = run_group(
        Slot::Resource,
        &set.resource,
        hb,
        req,
        &ctx,
        &mut trace,
        &mut order,
    );
    let identity = run_group(
        Slot::Identity,
        &set.identity,
        hb,
        req,
        &ctx,
        &mut trace,
        &mut order,
    );
    let boundaries: Vec<Group<'_>> = set
        .boundaries
        .chunks(1)
        .map(|b| run_group(Slot::Boundary, b, hb, req, &ctx, &mut trace, &mut order))
        .collect();
    let session = if session_applies {
        run_group(
            Slot::Session,
            &set.session,
            hb,
            req,
            &ctx,
            &mut trace,
            &mut order,
        )
    } else {
        Group::default()
    };

    // 1. Explicit deny anywhere.
    let denies: Vec<StatementRef> = rcps
        .iter()
        .chain(scps.iter())
        .chain([&resource, &identity])
        .chain(boundaries.iter())
        .chain([&session])
        .flat_map(|g| g.denies.iter().map(|h| h.to_ref()))
        .collect();
    if let Some(first) = denies.first() {
        let summary = format!("explicitly denied by {}", first.describe());
        step(Step::new(
            StepKind::ExplicitDeny,
            None,
            StepOutcome::Deny,
            summary.clone(),
        ));
        return Outcome {
            decision: Decision::ExplicitDeny,
            deciding: denies,
            steps,
            summary,
        };
    }
    step(Step::new(
        StepKind::ExplicitDeny,
        None,
        StepOutcome::Pass,
        "no applicable Deny statement".into(),
    ));

    let what = format!("`{}` on `{}`", req.action, req.resource);
    let implicit = |steps: Vec<Step>, summary: String| Outcome {
        decision: Decision::ImplicitDeny,
        deciding: Vec::new(),
        steps,
        summary,
    };

    // 2. RCPs, then SCPs: every level must allow.
    for (i, g) in rcps.iter().enumerate() {
        if !g.allows() {
            let s = format!(
                "implicitly denied: no resource control policy at organization level {i} allows {what}"
            );
            step(Step::new(
                StepKind::Rcp,
                Some(i),
                StepOutcome::Deny,
                s.clone(),
            ));
            return implicit(steps, s);
        }
        step(Step::new(
            StepKind::Rcp,
            Some(i),
            StepOutcome::Pass,
            format!("level {i} allows"),
        ));
    }
    for (i, g) in scps.iter().enumerate() {
        if !g.allows() {
            let s = format!(
                "implicitly denied: no service control policy at organization level {i} allows {what}"
            );
            step(Step::new(
                StepKind::Scp,
                Some(i),
                StepOutcome::Deny,
                s.clone(),
            ));
            return implicit(steps, s);
        }
        step(Step::new(
            StepKind::Scp,
            Some(i),
            StepOutcome::Pass,
            format!("level {i} allows"),
        ));
    }

    let cross = req.is_cross_account();
    let root_here = kind == PrincipalKind::Root;
    let identity_allows = root_here || identity.allows();
    let boundary_fail = boundaries.iter().position(|g| !g.allows());
    let session_ok = if !session_applies {
        true
    } else if set.session.is_empty() {
        // A role session without session policies keeps the role's permissions; a federated user
        // session (GetFederationToken) without one has none.
        kind == PrincipalKind::AssumedRole
    } else {
        session.allows()
    };
    let rbp_grant = resource.best_grant();
    let service = req.action_lower.split(':').next().unwrap_or("");
    let must_have_rbp = !set.resource.is_empty()
        && (service == "kms"
            || set
                .resource
                .iter()
                .any(|p| p.policy_type == PolicyType::Trust));

    let boundary_summary = |i: usize| {
        let name = boundaries
            .get(i)
            .and_then(|_| set.boundaries.get(i))
            .map(|p| p.name.clone())
            .unwrap_or_default();
        format!("implicitly denied: the permissions boundary `{name}` does not allow {what}")
    };
    let session_summary = || {
        if set.session.is_empty() {
            "implicitly denied: a federated user session has only the permissions its session policy grants, and it has none".to_owned()
        } else {
            format!("implicitly denied: no session policy allows {what}")
        }
    };

    // 3. Resource-based policies.
    match rbp_grant {
        Some(g) => step(Step::new(
            StepKind::ResourcePolicy,
            None,
            StepOutcome::Allow,
            format!("the resource-based policy allows, naming {}", g.describe()),
        )),
        None if set.resource.is_empty() => step(Step::new(
            StepKind::ResourcePolicy,
            None,
            StepOutcome::NotApplicable,
            "no resource-based policy".into(),
        )),
        None => step(Step::new(
            StepKind::ResourcePolicy,
            None,
            StepOutcome::Pass,
            "the resource-based policy does not allow".into(),
        )),
    }
    if must_have_rbp && rbp_grant.is_none() {
        let s = format!(
            "implicitly denied: role trust policies and KMS key policies must allow the principal, and the {} does not allow {what}",
            set.resource.first().map(|p| p.policy_type.label()).unwrap_or("resource-based policy")
        );
        step(Step::new(
            StepKind::ResourcePolicy,
            None,
            StepOutcome::Deny,
            s.clone(),
        ));
        return implicit(steps, s);
    }
    if cross || is_service_or_anon {
        if rbp_grant.is_none() {
            let s = if is_service_or_anon {
                format!("implicitly denied: {} principals get access only from a resource-based policy, and none allows {what}", if kind == PrincipalKind::Service { "service" } else { "anonymous" })
            } else {
                format!(
                    "implicitly denied: cross-account access needs the resource-based policy of account {} to allow {what}, and it does not",
                    req.resource_account().unwrap_or("?")
                )
            };
            step(Step::new(
                StepKind::ResourcePolicy,
                None,
                StepOutcome::Deny,
                s.clone(),
            ));
            return implicit(steps, s);
        }
        if is_service_or_anon {
            return allow_outcome(
                steps,
                resource.allows.iter().map(|h| h.to_ref()).collect(),
                tracing,
                "the resource-based policy",
            );
        }
    } else if let Some(g) = rbp_grant {
        if g == Grant::Direct {
            let s = "the resource-based policy names the principal itself; within one account that grant is not limited by implicit denies in identity-based policies, boundaries or session policies";
            step(Step::new(
                StepKind::ResourcePolicy,
                None,
                StepOutcome::Allow,
                s.into(),
            ));
            return allow_outcome(
                steps,
                resource.refs_with_grant(Grant::Direct),
                tracing,
                "the resource-based policy",
            );
        }
        if g == Grant::Issuer {
            if let Some(i) = boundary_fail {
                let s = boundary_summary(i);
                step(Step::new(
                    StepKind::Boundary,
                    Some(i),
                    StepOutcome::Deny,
                    s.clone(),
                ));
                return implicit(steps, s);
            }
            if !session_ok {
                let s = session_summary();
                step(Step::new(
                    StepKind::Session,
                    None,
                    StepOutcome::Deny,
                    s.clone(),
                ));
                return implicit(steps, s);
            }
            return allow_outcome(
                steps,
                resource.refs_with_grant(Grant::Issuer),
                tracing,
                "the resource-based policy",
            );
        }
    }

    // 4. Identity-based policies.
    if !identity_allows {
        let s = format!("implicitly denied: no identity-based policy allows {what}");
        step(Step::new(
            StepKind::Identity,
            None,
            StepOutcome::Deny,
            s.clone(),
        ));
        return implicit(steps, s);
    }
    step(Step::new(
        StepKind::Identity,
        None,
        StepOutcome::Allow,
        if root_here && !identity.allows() {
            "the account's root user has every permission in its own account".into()
        } else {
            "an identity-based policy allows".into()
        },
    ));
    // 5. Boundaries.
    if let Some(i) = boundary_fail {
        let s = boundary_summary(i);
        step(Step::new(
            StepKind::Boundary,
            Some(i),
            StepOutcome::Deny,
            s.clone(),
        ));
        return implicit(steps, s);
    }
    if !boundaries.is_empty() {
        step(Step::new(
            StepKind::Boundary,
            None,
            StepOutcome::Pass,
            "every permissions boundary allows".into(),
        ));
    }
    // 6. Session policies.
    if !session_ok {
        let s = session_summary();
        step(Step::new(
            StepKind::Session,
            None,
            StepOutcome::Deny,
            s.clone(),
        ));
        return implicit(steps, s);
    }
    if session_applies && !set.session.is_empty() {
        step(Step::new(
            StepKind::Session,
            None,
            StepOutcome::Pass,
            "a session policy allows".into(),
        ));
    }
    let mut deciding: Vec<StatementRef> = identity.allows.iter().map(|h| h.to_ref()).collect();
    if cross {
        deciding.extend(resource.allows.iter().map(|h| h.to_ref()));
    }
    let by = if cross {
        "identity-based and resource-based policies"
    } else if root_here && identity.allows.is_empty() {
        "the root user's own permissions"
    } else {
        "an identity-based policy"
    };
    allow_outcome(steps, deciding, tracing, by)
}

fn allow_outcome(
    steps: Vec<Step>,
    deciding: Vec<StatementRef>,
    tracing: bool,
    by: &str,
) -> Outcome {
    let summary = if tracing {
        match deciding.first() {
            Some(first) => format!("allowed by {}", first.describe()),
            None => format!("allowed by {by}"),
        }
    } else {
        String::new()
    };
    Outcome {
        decision: Decision::Allow,
        deciding,
        steps,
        summary,
    }
}
