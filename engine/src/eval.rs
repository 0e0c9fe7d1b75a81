//! AWS's policy evaluation logic, single-account and cross-account.
//!
//! 1. An applicable `Deny` in any policy (RCPs, SCPs, resource-based, identity-based, boundaries,
//!    session policies) is final: `ExplicitDeny`.
//! 2. Every level of service control policies must allow (they do not apply to service principals).
//!    Resource control policies only deny: AWS Organizations supports `Allow` only in
//!    `RCPFullAWSAccess`, which it attaches to every root, OU and account and which cannot be
//!    detached, so an RCP level never withholds an allow; its `Deny` statements count in step 1.
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

use crate::explain::{Explanation, StatementExplanation, StatementRef, Step};
use crate::policy::principal::Grant;
use crate::policy::{Effect, Policy, PolicyType, Statement};
use crate::request::{Prepared, Request};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

mod flow;
mod missing;
use flow::{Flow, Steps};

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
pub struct Verdict {
    /// The decision.
    pub decision: Decision,
    /// The applicable denies for `ExplicitDeny`, the allows that granted access for `Allow`.
    pub deciding: Vec<StatementRef>,
}

/// Every policy that applies to one principal's requests, grouped as AWS's evaluation groups them.
///
/// Each group is shared (`Arc`), copied only when a policy is added to it: a server clones a
/// principal's set for every request whose resource adds a policy, and that clone must not copy the
/// principal's policies.
#[derive(Clone, Debug, Default)]
pub struct PolicySet {
    identity: Arc<Vec<Policy>>,
    resource: Arc<Vec<Policy>>,
    boundaries: Arc<Vec<Policy>>,
    scps: Arc<Vec<Vec<Policy>>>,
    rcps: Arc<Vec<Vec<Policy>>>,
    session: Arc<Vec<Policy>>,
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
            PolicyType::Identity => Arc::make_mut(&mut self.identity).push(policy),
            PolicyType::Resource | PolicyType::Trust => {
                Arc::make_mut(&mut self.resource).push(policy)
            }
            PolicyType::Boundary => Arc::make_mut(&mut self.boundaries).push(policy),
            PolicyType::Session => Arc::make_mut(&mut self.session).push(policy),
            PolicyType::Scp => Arc::make_mut(&mut self.scps).push(vec![policy]),
            PolicyType::Rcp => Arc::make_mut(&mut self.rcps).push(vec![policy]),
        }
        self
    }

    /// Adds the SCPs attached at one level of the organization (root first, the account last):
    /// one of them must allow.
    pub fn add_scp_level(&mut self, policies: Vec<Policy>) -> &mut Self {
        Arc::make_mut(&mut self.scps).push(policies);
        self
    }

    /// Adds the RCPs attached at one level of the organization. RCPs only deny: their `Deny`
    /// statements apply as any other, and an `Allow` in them neither grants nor withholds anything
    /// (AWS supports `Allow` only in `RCPFullAWSAccess`, attached everywhere).
    pub fn add_rcp_level(&mut self, policies: Vec<Policy>) -> &mut Self {
        Arc::make_mut(&mut self.rcps).push(policies);
        self
    }

    /// Every policy of the set, in evaluation order.
    pub(crate) fn policies(&self) -> Vec<&Policy> {
        self.slots().map(|(_, p)| p).collect()
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
            deciding: out.deciding_refs(),
        }
    }

    /// Decides a request and explains the decision: which statements decided, what each step of the
    /// evaluation found, and for every statement that did not apply, the first reason why.
    pub fn explain(&self, req: &Request) -> Explanation {
        let mut trace = Vec::new();
        let out = evaluate(self, req, Some(&mut trace));
        let deciding = out.deciding_refs();
        let mut statements = trace;
        statements.sort_by_key(|s| s.order);
        Explanation::build(out.decision, deciding, out.steps, statements, out.summary)
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

/// The statements of one evaluation group that applied, in policy and statement order.
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
    fn record(&mut self, hit: Hit<'p>) {
        match hit.stmt.effect {
            Effect::Allow => self.allows.push(hit),
            Effect::Deny => self.denies.push(hit),
        }
    }
}

/// Every group's applicable statements.
struct Groups<'p> {
    /// One per organization level: their denies only.
    rcps: Vec<Group<'p>>,
    /// One per organization level; none for service principals and anonymous callers.
    scps: Vec<Group<'p>>,
    resource: Group<'p>,
    identity: Group<'p>,
    /// One per permissions boundary.
    boundaries: Vec<Group<'p>>,
    /// Empty unless the principal is a session.
    session: Group<'p>,
}

impl<'p> Groups<'p> {
    /// Every applicable `Deny`, in evaluation order.
    fn denies(&self) -> impl Iterator<Item = &Hit<'p>> {
        self.rcps
            .iter()
            .chain(&self.scps)
            .chain([&self.resource, &self.identity])
            .chain(&self.boundaries)
            .chain([&self.session])
            .flat_map(|g| g.denies.iter())
    }
}

/// Which applicable statements decided.
#[derive(Clone, Copy, Debug)]
enum Deciding {
    /// An implicit deny: no statement decided.
    Nothing,
    /// Every applicable `Deny`.
    Denies,
    /// The resource-based policy's allows: all of them, or those whose principal matched this way.
    Resource(Option<Grant>),
    /// The identity-based allows, and for cross-account access the resource-based ones after them.
    Identity { and_resource: bool },
}

impl Deciding {
    fn hits<'p>(self, g: &Groups<'p>) -> Vec<Hit<'p>> {
        match self {
            Deciding::Nothing => Vec::new(),
            Deciding::Denies => g.denies().copied().collect(),
            Deciding::Resource(None) => g.resource.allows.clone(),
            Deciding::Resource(Some(grant)) => g
                .resource
                .allows
                .iter()
                .filter(|h| h.grant == Some(grant))
                .copied()
                .collect(),
            Deciding::Identity { and_resource } => {
                let resource: &[Hit<'p>] = if and_resource {
                    &g.resource.allows
                } else {
                    &[]
                };
                g.identity.allows.iter().chain(resource).copied().collect()
            }
        }
    }
}

pub(crate) struct Outcome<'p> {
    pub(crate) decision: Decision,
    deciding: Deciding,
    groups: Groups<'p>,
    /// Empty unless explaining.
    pub(crate) steps: Vec<Step>,
    /// Empty unless explaining.
    pub(crate) summary: String,
}

impl Outcome<'_> {
    /// The statements that decided: the applicable denies for `ExplicitDeny`, the allows that granted
    /// access for `Allow`.
    pub(crate) fn deciding_refs(&self) -> Vec<StatementRef> {
        self.deciding
            .hits(&self.groups)
            .into_iter()
            .map(Hit::to_ref)
            .collect()
    }
}

/// Finds the applicable statements of one group. Explaining, every statement is matched and
/// explained; deciding, only those the index offers for the action's service (the others cannot
/// match the action, so the decision is the same).
fn run_group<'p>(
    slot: Slot,
    policies: &'p [Policy],
    has_boundary: bool,
    target: &Prepared<'_>,
    trace: &mut Option<&mut Vec<StatementExplanation>>,
    order: &mut usize,
) -> Group<'p> {
    let mut g = Group::default();
    // An RCP's `Allow` neither grants nor withholds anything: only its denies are kept (and only
    // its denies are matched when deciding).
    let denies_only = matches!(slot, Slot::Rcp(_));
    for policy in policies {
        let mut record = |stmt: &'p Statement, grant| {
            if denies_only && stmt.effect == Effect::Allow {
                return;
            }
            g.record(Hit {
                slot,
                policy,
                stmt,
                grant,
            })
        };
        match trace.as_deref_mut() {
            Some(trace) => {
                for stmt in policy.statements.iter() {
                    *order += 1;
                    let result = stmt.applies(target, has_boundary);
                    trace.push(StatementExplanation::new(
                        *order,
                        StatementRef::new(slot, policy, stmt),
                        result.as_ref().err(),
                        stmt,
                        target.req,
                        &target.ctx,
                    ));
                    if let Ok(grant) = result {
                        record(stmt, grant);
                    }
                }
            }
            None => {
                let candidates = policy.index.candidates(&target.service);
                for stmt in candidates.filter_map(|i| policy.statements.get(i)) {
                    if denies_only && stmt.effect == Effect::Allow {
                        continue;
                    }
                    if let Ok(grant) = stmt.applies(target, has_boundary) {
                        record(stmt, grant);
                    }
                }
            }
        }
    }
    g
}

pub(crate) fn evaluate<'p>(
    set: &'p PolicySet,
    req: &Request,
    mut trace: Option<&mut Vec<StatementExplanation>>,
) -> Outcome<'p> {
    let explaining = trace.is_some();
    let target = Prepared::new(req);
    let kind = req.principal.kind;
    let is_service_or_anon = kind.only_resource_policies();
    let hb = !set.boundaries.is_empty();
    let mut order = 0usize;
    let mut run = |slot: Slot, policies: &'p [Policy]| {
        run_group(slot, policies, hb, &target, &mut trace, &mut order)
    };

    let rcps: Vec<Group<'p>> = set
        .rcps
        .iter()
        .enumerate()
        .map(|(i, l)| run(Slot::Rcp(i), l))
        .collect();
    // SCPs limit the principals of member accounts: not service principals or anonymous callers.
    let scps: Vec<Group<'p>> = if is_service_or_anon {
        Vec::new()
    } else {
        set.scps
            .iter()
            .enumerate()
            .map(|(i, l)| run(Slot::Scp(i), l))
            .collect()
    };
    let resource = run(Slot::Resource, &set.resource);
    let identity = run(Slot::Identity, &set.identity);
    let boundaries: Vec<Group<'p>> = set
        .boundaries
        .chunks(1)
        .map(|b| run(Slot::Boundary, b))
        .collect();
    let session = if kind.is_session() {
        run(Slot::Session, &set.session)
    } else {
        Group::default()
    };
    let groups = Groups {
        rcps,
        scps,
        resource,
        identity,
        boundaries,
        session,
    };

    let mut flow = Flow {
        set,
        target: &target,
        groups: &groups,
        steps: Steps {
            explaining,
            list: Vec::new(),
        },
    };
    let end = flow.run();
    let steps = flow.steps.list;
    Outcome {
        decision: end.decision,
        deciding: end.deciding,
        groups,
        steps,
        summary: end.summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ContextMap;
    use crate::explain::{StepKind, StepOutcome};

    /// A small deterministic generator (an LCG): the same cases on every run.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) as usize) % n
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.next(items.len())]
        }
    }

    const ACTIONS: &[&str] = &[
        r#""Action":"*""#,
        r#""Action":"s3:*""#,
        r#""Action":"S3:GetObject""#,
        r#""Action":"s3:get*""#,
        r#""Action":"s3:Get?bject""#,
        r#""Action":["s3:PutObject","EC2:DescribeInstances"]"#,
        r#""Action":["iam:*","s3:List*"]"#,
        r#""Action":["ec2:*","*"]"#,
        r#""Action":"ec2:Describe*""#,
        r#""Action":"iam:PassRole""#,
        r#""Action":"sqs:SendMessage""#,
        r#""NotAction":"s3:*""#,
        r#""NotAction":["iam:*","S3:GetObject"]"#,
        r#""NotAction":"kms:*""#,
    ];
    const RESOURCES: &[&str] = &[
        r#""Resource":"*""#,
        r#""Resource":"arn:aws:s3:::bucket/*""#,
        r#""Resource":["arn:aws:ec2:*:111122223333:instance/*","arn:aws:iam::111122223333:role/*"]"#,
        r#""NotResource":"arn:aws:s3:::secret/*""#,
    ];
    const CONDITIONS: &[&str] = &[
        "",
        "",
        r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":"search"}}"#,
        r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":"payments"}}"#,
    ];
    const PRINCIPALS: &[&str] = &[
        r#""Principal":"*","#,
        r#""Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"#,
        r#""Principal":{"AWS":"arn:aws:iam::111122223333:role/Admin"},"#,
        r#""Principal":{"AWS":"111122223333"},"#,
    ];

    fn policy(g: &mut Gen, policy_type: PolicyType, name: &str) -> Policy {
        let n = 1 + g.next(6);
        let mut statements = Vec::new();
        for i in 0..n {
            let effect = if g.next(4) == 0 { "Deny" } else { "Allow" };
            let principal = match policy_type {
                PolicyType::Resource => g.pick(PRINCIPALS),
                PolicyType::Rcp => r#""Principal":"*","#,
                _ => "",
            };
            statements.push(format!(
                r#"{{"Sid":"S{i}","Effect":"{effect}",{principal}{},{}{}}}"#,
                g.pick(ACTIONS),
                g.pick(RESOURCES),
                g.pick(CONDITIONS)
            ));
        }
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            statements.join(",")
        );
        Policy::parse_named(name, &text, policy_type).unwrap()
    }

    fn policy_set(g: &mut Gen) -> PolicySet {
        let mut set = PolicySet::new();
        for i in 0..1 + g.next(3) {
            set.add(policy(g, PolicyType::Identity, &format!("identity{i}")));
        }
        if g.next(3) == 0 {
            set.add(policy(g, PolicyType::Resource, "resource"));
        }
        for i in 0..g.next(3) {
            set.add(policy(g, PolicyType::Boundary, &format!("boundary{i}")));
        }
        if g.next(3) == 0 {
            set.add(policy(g, PolicyType::Session, "session"));
        }
        if g.next(3) == 0 {
            let level = (0..1 + g.next(2))
                .map(|i| policy(g, PolicyType::Scp, &format!("scp{i}")))
                .collect();
            set.add_scp_level(level);
        }
        if g.next(4) == 0 {
            set.add(policy(g, PolicyType::Rcp, "rcp"));
        }
        set
    }

    fn requests() -> Vec<Request> {
        let principals = [
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:sts::111122223333:assumed-role/Admin/s1",
        ];
        let actions = [
            "s3:GetObject",
            "S3:getobject",
            "s3:PutObject",
            "s3:ListBucket",
            "ec2:DescribeInstances",
            "iam:PassRole",
            "sqs:SendMessage",
            "kms:Decrypt",
        ];
        let resources = [
            "arn:aws:s3:::bucket/key",
            "arn:aws:s3:::secret/key",
            "arn:aws:ec2:us-east-1:111122223333:instance/i-1",
            "*",
        ];
        let mut out = Vec::new();
        for (pi, p) in principals.iter().enumerate() {
            for a in actions {
                for r in resources {
                    let mut ctx = ContextMap::new();
                    ctx.insert(
                        "aws:PrincipalTag/team",
                        if pi == 0 { "search" } else { "payments" },
                    );
                    out.push(Request::new(p, a, r).unwrap().with_context(ctx));
                }
            }
        }
        out
    }

    /// The index only narrows which statements are tried: `decide` and `evaluate` (indexed) give the
    /// decision and the deciding statements that `explain` (every statement) gives.
    #[test]
    fn indexed_decisions_equal_a_scan_of_every_statement() {
        let mut g = Gen(8);
        let requests = requests();
        let mut seen = std::collections::HashMap::new();
        for _ in 0..300 {
            let set = policy_set(&mut g);
            for req in &requests {
                let explained = set.explain(req);
                let verdict = set.decide(req);
                assert_eq!(verdict.decision, explained.decision, "{req:?}\n{explained}");
                assert_eq!(verdict.deciding, explained.deciding, "{req:?}\n{explained}");
                assert_eq!(set.evaluate(req), explained.decision);
                *seen.entry(explained.decision).or_insert(0usize) += 1;
            }
        }
        // The generated cases reach every outcome, each many times.
        for d in [
            Decision::Allow,
            Decision::ExplicitDeny,
            Decision::ImplicitDeny,
        ] {
            assert!(seen.get(&d).copied().unwrap_or(0) > 500, "{seen:?}");
        }
    }

    /// Denies filed under the action's service and denies considered for every action are reported
    /// together in statement order, as a scan reports them.
    #[test]
    fn deciding_statements_keep_statement_order_across_buckets() {
        let text = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},
            {"Sid":"D1","Effect":"Deny","Action":"s3:Get*","Resource":"*"},
            {"Sid":"D2","Effect":"Deny","NotAction":"iam:*","Resource":"*"},
            {"Sid":"D3","Effect":"Deny","Action":"EC2:Describe*","Resource":"*"},
            {"Sid":"D4","Effect":"Deny","Action":["ec2:Run*","S3:GetObject"],"Resource":"*"},
            {"Sid":"D5","Effect":"Deny","Action":"*","Resource":"*"}
        ]}"#;
        let mut set = PolicySet::new();
        set.add(Policy::parse_named("p", text, PolicyType::Identity).unwrap());
        let sids = |action: &str| {
            let req = Request::new("arn:aws:iam::111122223333:user/alice", action, "*").unwrap();
            let v = set.decide(&req);
            assert_eq!(v.decision, Decision::ExplicitDeny);
            assert_eq!(v.deciding, set.explain(&req).deciding);
            v.deciding
                .into_iter()
                .filter_map(|r| r.sid)
                .collect::<Vec<_>>()
        };
        assert_eq!(sids("s3:GetObject"), ["D1", "D2", "D4", "D5"]);
        assert_eq!(sids("ec2:DescribeVpcs"), ["D2", "D3", "D5"]);
        assert_eq!(sids("iam:PassRole"), ["D5"]);
    }

    /// AWS decides an `sts:` action on a role with the role's trust policy: without one (a role that
    /// does not exist, or a caller that named it by another path or partition) identity policies
    /// alone never allow it.
    #[test]
    fn an_sts_action_on_a_role_needs_its_trust_policy() {
        let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let mut set = PolicySet::new();
        set.add(Policy::parse_named("admin", admin, PolicyType::Identity).unwrap());
        for (action, role) in [
            (
                "sts:AssumeRole",
                "arn:aws:iam::111122223333:role/break-glass",
            ),
            (
                "STS:assumerole",
                "arn:aws:iam::111122223333:role/anything/break-glass",
            ),
            (
                "sts:TagSession",
                "arn:aws-cn:iam::111122223333:role/break-glass",
            ),
            (
                "sts:AssumeRoleWithWebIdentity",
                "arn:aws:iam::111122223333:role/x",
            ),
        ] {
            let req = Request::new("arn:aws:iam::111122223333:user/bob", action, role).unwrap();
            let e = set.explain(&req);
            assert_eq!(e.decision, Decision::ImplicitDeny, "{action} {role}\n{e}");
            assert!(e.to_string().contains("no trust policy was given"), "{e}");
        }
        // Other actions on a role ARN, and sts: actions on other resources, are not affected.
        for (action, resource) in [
            ("iam:GetRole", "arn:aws:iam::111122223333:role/break-glass"),
            ("sts:GetCallerIdentity", "*"),
        ] {
            let req = Request::new("arn:aws:iam::111122223333:user/bob", action, resource).unwrap();
            assert_eq!(set.evaluate(&req), Decision::Allow, "{action}");
        }
        // With the trust policy, the trust policy decides with the identity policies.
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;
        set.add(Policy::parse_named("trust", trust, PolicyType::Trust).unwrap());
        let req = Request::new(
            "arn:aws:iam::111122223333:user/bob",
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/break-glass",
        )
        .unwrap();
        assert_eq!(set.evaluate(&req), Decision::Allow);
    }

    /// RCPs only deny: a level without any `Allow` (or with none at all) withholds nothing, an
    /// `Allow` in one grants nothing, and a `Deny` denies.
    #[test]
    fn rcp_levels_only_deny() {
        let rcp = |text: &str| Policy::parse_named("rcp", text, PolicyType::Rcp).unwrap();
        let deny_s3 = rcp(
            r#"{"Version":"2012-10-17","Statement":{"Sid":"NoS3","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
        );
        let allow_all = rcp(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}"#,
        );
        let identity = Policy::parse_named(
            "id",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"*"}}"#,
            PolicyType::Identity,
        )
        .unwrap();
        let req = |action: &str| {
            Request::new(
                "arn:aws:iam::111122223333:user/alice",
                action,
                "arn:aws:sqs:us-east-1:111122223333:queue",
            )
            .unwrap()
        };
        let mut set = PolicySet::new();
        set.add(identity);
        set.add_rcp_level(vec![deny_s3.clone()]);
        set.add_rcp_level(Vec::new());
        let e = set.explain(&req("sqs:SendMessage"));
        assert_eq!(e.decision, Decision::Allow, "{e}");
        assert_eq!(set.evaluate(&req("sqs:SendMessage")), Decision::Allow);
        let rcp_steps: Vec<&Step> = e.steps.iter().filter(|s| s.step == StepKind::Rcp).collect();
        assert_eq!(rcp_steps.len(), 2);
        assert!(rcp_steps
            .iter()
            .all(|s| s.outcome == StepOutcome::Pass && s.detail.contains("only deny")));
        assert_eq!(set.evaluate(&req("s3:GetObject")), Decision::ExplicitDeny);

        // An Allow in an RCP grants nothing: without an identity-based allow, implicitly denied.
        let mut only_rcp = PolicySet::new();
        only_rcp.add_rcp_level(vec![allow_all, deny_s3]);
        let v = only_rcp.decide(&req("sqs:SendMessage"));
        assert_eq!(v.decision, Decision::ImplicitDeny);
        assert!(v.deciding.is_empty());
    }
}
