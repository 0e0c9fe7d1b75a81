//! Invariants of AWS's evaluation logic, checked on generated policy sets and requests.
//!
//! Policies are drawn from a small alphabet (three services, a handful of actions and resources,
//! wildcards, `NotAction`/`NotResource`, string, `Bool`, `Null` and set conditions on a few context
//! keys) so that generated statements often apply to generated requests. The properties:
//!
//! - an applicable `Deny` anywhere makes the decision `ExplicitDeny`; a statement that does not apply
//!   changes nothing;
//! - adding an `Allow` statement never turns `Allow` into a deny (nor `ExplicitDeny` into anything else);
//! - adding a `Deny` statement, policy, boundary, SCP level or session policy never turns a deny into
//!   `Allow`;
//! - neither statement order nor policy order (nor the order of SCP levels) changes the decision or
//!   the statements that decided it;
//! - a permissions boundary or a level of SCPs only ever removes access.
//!
//! 256 cases per property by default; set `PROPTEST_CASES` for more or fewer.

use iamlet_engine::{ContextMap, Decision, Policy, PolicySet, PolicyType, PrincipalKind, Request};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "ec2:RunInstances",
    "ec2:DescribeInstances",
    "iam:CreateUser",
    "iam:GetUser",
];

const RESOURCES: &[&str] = &[
    "arn:aws:s3:::bucket-a/key1",
    "arn:aws:s3:::bucket-a/alice/notes.txt",
    "arn:aws:s3:::bucket-b/dir/key2",
    "arn:aws:s3:::bucket-a",
    "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
    "arn:aws:ec2:eu-west-1:444455556666:instance/i-0def",
    "arn:aws:iam::111122223333:user/bob",
];

const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:role/dev",
    "arn:aws:sts::111122223333:assumed-role/dev/session-1",
    "arn:aws:sts::111122223333:federated-user/carol",
    "111122223333",
];

const TEAM: &str = "aws:PrincipalTag/team";
const MFA: &str = "aws:MultiFactorAuthPresent";
const TAG_KEYS: &str = "aws:TagKeys";

/// An action pattern derived from a real action: some forms match it, some match others too.
fn action_form(action: &str, form: usize) -> String {
    let (svc, name) = action.split_once(':').unwrap_or((action, ""));
    match form {
        0 => action.to_owned(),
        1 => action.to_ascii_lowercase(),
        2 => format!("{svc}:*"),
        3 => "*".to_owned(),
        4 => format!("{svc}:{}*", name.get(..3).unwrap_or(name)),
        5 => format!(
            "{svc}:*{}",
            name.get(name.len().saturating_sub(4)..).unwrap_or(name)
        ),
        6 => format!(
            "{svc}:{}?{}",
            name.get(..1).unwrap_or(""),
            name.get(2..).unwrap_or("")
        ),
        _ => action.to_ascii_uppercase(),
    }
}
const MATCHING_ACTION_FORMS: usize = 8;

/// A resource pattern derived from a real ARN: forms 0 to 5 match it.
fn resource_form(arn: &str, form: usize) -> String {
    let svc = arn.split(':').nth(2).unwrap_or("s3");
    match form {
        0 => arn.to_owned(),
        1 => "*".to_owned(),
        2 => {
            let cut = arn.rfind('/').or_else(|| arn.rfind(':')).unwrap_or(0);
            format!("{}*", arn.get(..=cut).unwrap_or(""))
        }
        3 => format!("arn:aws:{svc}:*"),
        4 => format!("{}?", arn.get(..arn.len() - 1).unwrap_or("")),
        5 => {
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            format!("arn:aws:{svc}:*:*:{}", parts.get(5).unwrap_or(&""))
        }
        6 => arn.to_ascii_uppercase().replacen("ARN:AWS:", "arn:aws:", 1),
        _ => "arn:aws:s3:::bucket-a/${aws:username}/*".to_owned(),
    }
}
const MATCHING_RESOURCE_FORMS: usize = 6;

#[derive(Clone, Debug)]
struct Cond {
    op: &'static str,
    key: &'static str,
    values: Vec<&'static str>,
}

#[derive(Clone, Debug)]
struct Stmt {
    sid: String,
    allow: bool,
    not_action: bool,
    actions: Vec<String>,
    not_resource: bool,
    resources: Vec<String>,
    conditions: Vec<Cond>,
    /// Used only in resource-based policies.
    principal: Value,
}

impl Stmt {
    fn to_json(&self, with_principal: bool) -> Value {
        let mut s = Map::new();
        s.insert("Sid".into(), json!(self.sid));
        s.insert(
            "Effect".into(),
            json!(if self.allow { "Allow" } else { "Deny" }),
        );
        if with_principal {
            s.insert("Principal".into(), self.principal.clone());
        }
        let action_key = if self.not_action {
            "NotAction"
        } else {
            "Action"
        };
        s.insert(action_key.into(), json!(self.actions));
        let resource_key = if self.not_resource {
            "NotResource"
        } else {
            "Resource"
        };
        s.insert(resource_key.into(), json!(self.resources));
        if !self.conditions.is_empty() {
            let mut block: BTreeMap<&str, BTreeMap<&str, Vec<&str>>> = BTreeMap::new();
            for c in &self.conditions {
                block
                    .entry(c.op)
                    .or_default()
                    .insert(c.key, c.values.clone());
            }
            s.insert("Condition".into(), json!(block));
        }
        Value::Object(s)
    }

    fn with_effect(&self, allow: bool) -> Stmt {
        Stmt {
            allow,
            ..self.clone()
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Pol {
    name: String,
    stmts: Vec<Stmt>,
}

impl Pol {
    #[expect(
        clippy::panic,
        reason = "a generator that makes invalid policies must stop the test"
    )]
    fn parse(&self, policy_type: PolicyType) -> Policy {
        let with_principal = policy_type == PolicyType::Resource;
        let doc = json!({
            "Version": "2012-10-17",
            "Statement": self.stmts.iter().map(|s| s.to_json(with_principal)).collect::<Vec<_>>(),
        });
        Policy::parse_named(&self.name, &doc.to_string(), policy_type)
            .unwrap_or_else(|e| panic!("a generated policy does not parse: {e}\n{doc}"))
    }
}

/// Where a policy goes in a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Identity,
    Resource,
    Boundary,
    Scp,
    Session,
}

#[derive(Clone, Debug, Default)]
struct SetSpec {
    identity: Vec<Pol>,
    resource: Option<Pol>,
    boundaries: Vec<Pol>,
    scps: Vec<Vec<Pol>>,
    session: Vec<Pol>,
}

impl SetSpec {
    fn build(&self) -> PolicySet {
        let mut set = PolicySet::new();
        for p in &self.identity {
            set.add(p.parse(PolicyType::Identity));
        }
        if let Some(p) = &self.resource {
            set.add(p.parse(PolicyType::Resource));
        }
        for p in &self.boundaries {
            set.add(p.parse(PolicyType::Boundary));
        }
        for level in &self.scps {
            set.add_scp_level(level.iter().map(|p| p.parse(PolicyType::Scp)).collect());
        }
        for p in &self.session {
            set.add(p.parse(PolicyType::Session));
        }
        set
    }

    /// Gives every policy a unique name and every statement a unique `Sid`.
    fn named(mut self) -> Self {
        let name = |p: &mut Pol, n: String| {
            for (i, s) in p.stmts.iter_mut().enumerate() {
                s.sid = format!("{n}s{i}");
            }
            p.name = n;
        };
        for (i, p) in self.identity.iter_mut().enumerate() {
            name(p, format!("identity{i}"));
        }
        if let Some(p) = self.resource.as_mut() {
            name(p, "resource".into());
        }
        for (i, p) in self.boundaries.iter_mut().enumerate() {
            name(p, format!("boundary{i}"));
        }
        for (l, level) in self.scps.iter_mut().enumerate() {
            for (i, p) in level.iter_mut().enumerate() {
                name(p, format!("scp{l}x{i}"));
            }
        }
        for (i, p) in self.session.iter_mut().enumerate() {
            name(p, format!("session{i}"));
        }
        self
    }

    /// Every existing policy as (slot, level, index).
    fn places(&self) -> Vec<(Slot, usize, usize)> {
        let mut out = Vec::new();
        out.extend((0..self.identity.len()).map(|i| (Slot::Identity, 0, i)));
        if self.resource.is_some() {
            out.push((Slot::Resource, 0, 0));
        }
        out.extend((0..self.boundaries.len()).map(|i| (Slot::Boundary, 0, i)));
        for (l, level) in self.scps.iter().enumerate() {
            out.extend((0..level.len()).map(|i| (Slot::Scp, l, i)));
        }
        out.extend((0..self.session.len()).map(|i| (Slot::Session, 0, i)));
        out
    }

    fn policy_mut(&mut self, (slot, level, i): (Slot, usize, usize)) -> Option<&mut Pol> {
        match slot {
            Slot::Identity => self.identity.get_mut(i),
            Slot::Resource => self.resource.as_mut(),
            Slot::Boundary => self.boundaries.get_mut(i),
            Slot::Scp => self.scps.get_mut(level).and_then(|l| l.get_mut(i)),
            Slot::Session => self.session.get_mut(i),
        }
    }

    /// The set with `stmt` added to the existing policy chosen by `pick` (modulo their number), or as
    /// a new identity-based policy when there is none or `pick` says so.
    fn with_statement(&self, stmt: &Stmt, pick: usize) -> (SetSpec, Slot) {
        let mut out = self.clone();
        let places = self.places();
        let place = places.get(pick % (places.len() + 1)).copied();
        match place.and_then(|p| out.policy_mut(p).map(|pol| (p.0, pol))) {
            Some((slot, pol)) => {
                pol.stmts.push(stmt.clone());
                (out, slot)
            }
            None => {
                out.identity.push(Pol {
                    name: "added".into(),
                    stmts: vec![stmt.clone()],
                });
                (out, Slot::Identity)
            }
        }
    }

    /// A set holding only `stmt`, in a new policy of the given slot.
    fn only(stmt: &Stmt, slot: Slot) -> SetSpec {
        let pol = Pol {
            name: "only".into(),
            stmts: vec![stmt.clone()],
        };
        let mut out = SetSpec::default();
        match slot {
            Slot::Identity => out.identity.push(pol),
            Slot::Resource => out.resource = Some(pol),
            Slot::Boundary => out.boundaries.push(pol),
            Slot::Scp => out.scps.push(vec![pol]),
            Slot::Session => out.session.push(pol),
        }
        out
    }

    /// The same policies with statements, policies and SCP levels permuted by `seed`.
    fn shuffled(&self, seed: u64) -> SetSpec {
        let mut rng = seed;
        let mut next = move || {
            // splitmix64: deterministic, so a failing case replays.
            rng = rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        fn shuffle<T>(v: &mut [T], next: &mut impl FnMut() -> u64) {
            for i in (1..v.len()).rev() {
                let j = (next() % (i as u64 + 1)) as usize;
                v.swap(i, j);
            }
        }
        fn shuffle_pols(ps: &mut [Pol], next: &mut impl FnMut() -> u64) {
            for p in ps.iter_mut() {
                shuffle(&mut p.stmts, next);
            }
            shuffle(ps, next);
        }
        let mut out = self.clone();
        shuffle_pols(&mut out.identity, &mut next);
        shuffle_pols(&mut out.boundaries, &mut next);
        shuffle_pols(&mut out.session, &mut next);
        for level in out.scps.iter_mut() {
            shuffle_pols(level, &mut next);
        }
        shuffle(&mut out.scps, &mut next);
        if let Some(p) = out.resource.as_mut() {
            shuffle(&mut p.stmts, &mut next);
        }
        out
    }
}

#[derive(Clone, Debug)]
struct Req {
    principal: &'static str,
    action: &'static str,
    resource: &'static str,
    team: Option<&'static str>,
    mfa: Option<bool>,
    tag_keys: Option<Vec<&'static str>>,
}

impl Req {
    #[expect(
        clippy::panic,
        reason = "a generator that makes invalid requests must stop the test"
    )]
    fn build(&self) -> Request {
        let mut ctx = ContextMap::new();
        if let Some(t) = self.team {
            ctx.insert(TEAM, t);
        }
        if let Some(m) = self.mfa {
            ctx.insert(MFA, m);
        }
        if let Some(k) = &self.tag_keys {
            ctx.insert(TAG_KEYS, k.clone());
        }
        Request::new(self.principal, self.action, self.resource)
            .unwrap_or_else(|e| panic!("a generated request is invalid: {e}"))
            .with_context(ctx)
    }
}

/// The decision and the statements that decided it, by policy name and `Sid` (order-free).
fn outcome(set: &SetSpec, req: &Request) -> (Decision, Vec<(String, String)>) {
    let set = set.build();
    let verdict = set.decide(req);
    let mut deciding: Vec<(String, String)> = verdict
        .deciding
        .iter()
        .map(|r| (r.policy.clone(), r.sid.clone().unwrap_or_default()))
        .collect();
    deciding.sort();
    (verdict.decision, deciding)
}

fn decision(set: &SetSpec, req: &Request) -> Decision {
    outcome(set, req).0
}

// ===== strategies =====

fn action_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (select(ACTIONS), 0..MATCHING_ACTION_FORMS).prop_map(|(a, f)| action_form(a, f)),
        1 => select(&["zzz:*", "s3:Delete*", "ec2:*Instances", "iam:?etUser"][..]).prop_map(str::to_owned),
    ]
}

fn resource_pattern() -> impl Strategy<Value = String> {
    (select(RESOURCES), 0..8usize).prop_map(|(r, f)| resource_form(r, f))
}

fn condition() -> impl Strategy<Value = Cond> {
    let team_values = subsequence(&["red", "blue"][..], 1..=2);
    let tag_values = subsequence(&["env", "owner"][..], 1..=2);
    prop_oneof![
        (
            select(&["StringEquals", "StringNotEquals", "StringEqualsIfExists"][..]),
            team_values
        )
            .prop_map(|(op, values)| Cond {
                op,
                key: TEAM,
                values
            }),
        select(&["r*", "b?ue", "*"][..]).prop_map(|v| Cond {
            op: "StringLike",
            key: TEAM,
            values: vec![v]
        }),
        (
            select(&["Bool", "BoolIfExists"][..]),
            select(&["true", "false"][..])
        )
            .prop_map(|(op, v)| Cond {
                op,
                key: MFA,
                values: vec![v]
            }),
        (
            select(&["ForAnyValue:StringEquals", "ForAllValues:StringEquals"][..]),
            tag_values
        )
            .prop_map(|(op, values)| Cond {
                op,
                key: TAG_KEYS,
                values
            }),
        (select(&[TEAM, MFA][..]), select(&["true", "false"][..])).prop_map(|(key, v)| Cond {
            op: "Null",
            key,
            values: vec![v]
        }),
    ]
}

fn principal_element() -> impl Strategy<Value = Value> {
    select(
        &[
            "*",
            "111122223333",
            "444455556666",
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:role/dev",
        ][..],
    )
    .prop_map(|p| {
        if p == "*" {
            json!("*")
        } else {
            json!({ "AWS": p })
        }
    })
}

fn statement_with(allow: impl Strategy<Value = bool>) -> impl Strategy<Value = Stmt> {
    (
        allow,
        prop::bool::weighted(0.15),
        prop::collection::vec(action_pattern(), 1..=3),
        prop::bool::weighted(0.15),
        prop::collection::vec(resource_pattern(), 1..=3),
        prop::collection::vec(condition(), 0..=2),
        principal_element(),
    )
        .prop_map(
            |(allow, not_action, actions, not_resource, resources, conditions, principal)| Stmt {
                sid: "new".into(),
                allow,
                not_action,
                actions,
                not_resource,
                resources,
                conditions,
                principal,
            },
        )
}

fn statement() -> impl Strategy<Value = Stmt> {
    statement_with(prop::bool::weighted(0.7))
}

fn policy(max_statements: usize) -> impl Strategy<Value = Pol> {
    prop::collection::vec(statement(), 1..=max_statements).prop_map(|stmts| Pol {
        name: String::new(),
        stmts,
    })
}

fn policy_set() -> impl Strategy<Value = SetSpec> {
    (
        prop::collection::vec(policy(4), 0..=3),
        prop::option::weighted(0.3, policy(3)),
        prop::collection::vec(policy(3), 0..=1),
        prop::collection::vec(prop::collection::vec(policy(2), 1..=2), 0..=2),
        prop::collection::vec(policy(2), 0..=1),
    )
        .prop_map(|(identity, resource, boundaries, scps, session)| {
            SetSpec {
                identity,
                resource,
                boundaries,
                scps,
                session,
            }
            .named()
        })
}

fn request() -> impl Strategy<Value = Req> {
    (
        select(PRINCIPALS),
        select(ACTIONS),
        select(RESOURCES),
        prop::option::of(select(&["red", "blue", "green"][..])),
        prop::option::of(any::<bool>()),
        prop::option::of(subsequence(&["env", "owner", "cost"][..], 0..=3)),
    )
        .prop_map(|(principal, action, resource, team, mfa, tag_keys)| Req {
            principal,
            action,
            resource,
            team,
            mfa,
            tag_keys,
        })
}

/// A `Deny` statement that applies to the request by construction: action and resource patterns
/// drawn from forms that match them (or `NotAction`/`NotResource` naming something else), and
/// conditions that hold for the request's context.
fn applicable_deny(req: Req) -> impl Strategy<Value = Stmt> {
    (
        0..MATCHING_ACTION_FORMS + 1,
        0..MATCHING_RESOURCE_FORMS + 1,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(move |(af, rf, on_team, on_mfa)| {
            let (not_action, actions) = if af == MATCHING_ACTION_FORMS {
                (true, vec!["zzz:*".to_owned()])
            } else {
                (false, vec![action_form(req.action, af)])
            };
            let (not_resource, resources) = if rf == MATCHING_RESOURCE_FORMS {
                (true, vec!["arn:aws:zzz:::nothing".to_owned()])
            } else {
                (false, vec![resource_form(req.resource, rf)])
            };
            let mut conditions = Vec::new();
            if on_team {
                conditions.push(match req.team {
                    Some(t) => Cond {
                        op: "StringEquals",
                        key: TEAM,
                        values: vec![t, "never"],
                    },
                    None => Cond {
                        op: "Null",
                        key: TEAM,
                        values: vec!["true"],
                    },
                });
            }
            if on_mfa {
                conditions.push(match req.mfa {
                    Some(m) => Cond {
                        op: "Bool",
                        key: MFA,
                        values: vec![if m { "true" } else { "false" }],
                    },
                    None => Cond {
                        op: "BoolIfExists",
                        key: MFA,
                        values: vec!["true"],
                    },
                });
            }
            Stmt {
                sid: "applicable".into(),
                allow: false,
                not_action,
                actions,
                not_resource,
                resources,
                conditions,
                principal: json!("*"),
            }
        })
}

proptest! {
    /// A `Deny` built to apply to the request, added to any policy of any set (or as a new one),
    /// makes the decision `ExplicitDeny` and is among the deciding statements.
    #[test]
    fn an_applicable_deny_is_final(
        (set, req, deny) in (policy_set(), request())
            .prop_flat_map(|(s, r)| (Just(s), Just(r.clone()), applicable_deny(r))),
        pick in any::<usize>(),
    ) {
        let request = req.build();
        let (with, slot) = set.with_statement(&deny, pick);
        let session = matches!(
            request.principal().kind(),
            PrincipalKind::AssumedRole | PrincipalKind::FederatedUser
        );
        if slot == Slot::Session && !session {
            // Session policies apply only to sessions: for anyone else the deny changes nothing.
            prop_assert_eq!(outcome(&with, &request), outcome(&set, &request));
            return Ok(());
        }
        let (d, deciding) = outcome(&with, &request);
        prop_assert_eq!(d, Decision::ExplicitDeny);
        prop_assert!(deciding.iter().any(|(_, sid)| sid == "applicable"), "{:?}", deciding);
    }

    /// Any statement added to an existing policy (or as a new identity-based policy): if it applies
    /// on its own as a `Deny`, the decision becomes `ExplicitDeny`; if it does not apply, nothing
    /// changes, not even the statements that decided.
    #[test]
    fn a_deny_dominates_and_a_non_applicable_one_changes_nothing(
        set in policy_set(),
        req in request(),
        stmt in statement_with(Just(false)),
        pick in any::<usize>(),
    ) {
        let request = req.build();
        let (with, slot) = set.with_statement(&stmt, pick);
        let applies = decision(&SetSpec::only(&stmt, slot), &request) == Decision::ExplicitDeny;
        if applies {
            prop_assert_eq!(decision(&with, &request), Decision::ExplicitDeny);
        } else {
            prop_assert_eq!(outcome(&with, &request), outcome(&set, &request));
        }
    }

    /// Adding an `Allow` statement to an existing policy, or a new identity-based policy, only ever
    /// grants: `Allow` stays `Allow`, and `ExplicitDeny` stays `ExplicitDeny`.
    #[test]
    fn adding_an_allow_never_removes_access(
        set in policy_set(),
        req in request(),
        stmt in statement_with(Just(true)),
        pick in any::<usize>(),
    ) {
        let request = req.build();
        let before = decision(&set, &request);
        let after = decision(&set.with_statement(&stmt, pick).0, &request);
        match before {
            Decision::Allow => prop_assert_eq!(after, Decision::Allow),
            Decision::ExplicitDeny => prop_assert_eq!(after, Decision::ExplicitDeny),
            Decision::ImplicitDeny => {}
        }
    }

    /// Adding a `Deny` statement anywhere, or a new policy of only denies in any slot (a boundary,
    /// an SCP level, a session policy), never grants.
    #[test]
    fn adding_a_deny_never_grants(
        set in policy_set(),
        req in request(),
        stmt in statement_with(Just(false)),
        pick in any::<usize>(),
        new_slot in select(&[None, Some(Slot::Boundary), Some(Slot::Scp), Some(Slot::Session), Some(Slot::Identity)][..]),
    ) {
        let request = req.build();
        let before = decision(&set, &request);
        let with = match new_slot {
            None => set.with_statement(&stmt, pick).0,
            Some(slot) => {
                let mut with = set.clone();
                let pol = Pol { name: "new".into(), stmts: vec![stmt.clone()] };
                match slot {
                    Slot::Boundary => with.boundaries.push(pol),
                    Slot::Scp => with.scps.push(vec![pol]),
                    Slot::Session => with.session.push(pol),
                    _ => with.identity.push(pol),
                }
                with
            }
        };
        let after = decision(&with, &request);
        if before != Decision::Allow {
            prop_assert_ne!(after, Decision::Allow);
        }
        if before == Decision::ExplicitDeny {
            prop_assert_eq!(after, Decision::ExplicitDeny);
        }
    }

    /// Permuting statements within policies, policies within their group, and SCP levels changes
    /// neither the decision nor which statements decided it.
    #[test]
    fn order_does_not_matter(set in policy_set(), req in request(), seed in any::<u64>()) {
        let request = req.build();
        // Every entry point agrees.
        let built = set.build();
        let d = built.decide(&request).decision;
        prop_assert_eq!(built.evaluate(&request), d);
        prop_assert_eq!(built.explain(&request).decision, d);
        prop_assert_eq!(outcome(&set.shuffled(seed), &request), outcome(&set, &request));
    }

    /// A new permissions boundary or a new level of SCPs (of any statements, allows included) only
    /// removes access, and removes all of it when none of its `Allow` statements applies; the same
    /// policy as a boundary and as an SCP at once removes no less.
    #[test]
    fn boundaries_and_scps_only_remove_access(
        set in policy_set(),
        req in request(),
        guard in policy(3),
        slot in select(&[Slot::Boundary, Slot::Scp][..]),
    ) {
        let request = req.build();
        let before = decision(&set, &request);
        let mut with = set.clone();
        let mut guard = guard;
        guard.name = "guard".into();
        for (i, s) in guard.stmts.iter_mut().enumerate() {
            s.sid = format!("guard{i}");
        }
        match slot {
            Slot::Boundary => with.boundaries.push(guard.clone()),
            _ => with.scps.push(vec![guard.clone()]),
        }
        let after = decision(&with, &request);
        if before != Decision::Allow {
            prop_assert_ne!(after, Decision::Allow);
        }
        if before == Decision::ExplicitDeny {
            prop_assert_eq!(after, Decision::ExplicitDeny);
        }
        // A guard none of whose `Allow` statements applies denies, whatever else allows (short of a
        // resource-based policy naming the principal, which boundaries do not limit).
        let guard_allows = guard.stmts.iter().any(|s| {
            s.allow
                && decision(&SetSpec::only(&s.with_effect(false), Slot::Identity), &request)
                    == Decision::ExplicitDeny
        });
        if !guard_allows && (slot == Slot::Scp || set.resource.is_none()) {
            prop_assert_ne!(after, Decision::Allow);
        }
        // The guard as both: still no more than either alone.
        let mut both = set.clone();
        both.boundaries.push(guard.clone());
        both.scps.push(vec![guard.clone()]);
        if after != Decision::Allow {
            prop_assert_ne!(decision(&both, &request), Decision::Allow);
        }
    }

    /// An `Allow` statement granting the request outright, in a lone identity-based policy of a
    /// principal in the resource's account, allows; the same statement as a `Deny` denies.
    #[test]
    fn a_lone_applicable_statement_decides(req in request()
        .prop_filter("same account, not a federated user session", |r| {
            !r.resource.contains("444455556666") && !r.principal.contains("federated-user")
        })
        .prop_flat_map(|r| (Just(r.clone()), applicable_deny(r))))
    {
        let (req, deny) = req;
        let request = req.build();
        let allow = deny.with_effect(true);
        prop_assert_eq!(decision(&SetSpec::only(&allow, Slot::Identity), &request), Decision::Allow);
        prop_assert_eq!(decision(&SetSpec::only(&deny, Slot::Identity), &request), Decision::ExplicitDeny);
    }
}

#[test]
fn the_alphabet_produces_valid_policies_and_requests() {
    // Every form of every action and resource parses, and every form the generators treat as
    // matching does match: a guard against a generator that silently stops exercising anything.
    for a in ACTIONS {
        for f in 0..MATCHING_ACTION_FORMS {
            for r in RESOURCES {
                for rf in 0..MATCHING_RESOURCE_FORMS {
                    let stmt = Stmt {
                        sid: "s".into(),
                        allow: true,
                        not_action: false,
                        actions: vec![action_form(a, f)],
                        not_resource: false,
                        resources: vec![resource_form(r, rf)],
                        conditions: Vec::new(),
                        principal: json!("*"),
                    };
                    let req = Req {
                        principal: PRINCIPALS[0],
                        action: a,
                        resource: r,
                        team: None,
                        mfa: None,
                        tag_keys: None,
                    }
                    .build();
                    let d = decision(
                        &SetSpec::only(&stmt.with_effect(false), Slot::Identity),
                        &req,
                    );
                    assert_eq!(d, Decision::ExplicitDeny, "{a} form {f}, {r} form {rf}");
                }
            }
        }
    }
    // The non-matching forms really do not match.
    let req = Req {
        principal: PRINCIPALS[0],
        action: ACTIONS[0],
        resource: RESOURCES[0],
        team: None,
        mfa: None,
        tag_keys: None,
    }
    .build();
    for rf in [6, 7] {
        let stmt = Stmt {
            sid: "s".into(),
            allow: false,
            not_action: false,
            actions: vec!["*".into()],
            not_resource: false,
            resources: vec![resource_form(RESOURCES[0], rf)],
            conditions: Vec::new(),
            principal: json!("*"),
        };
        assert_eq!(
            decision(&SetSpec::only(&stmt, Slot::Identity), &req),
            Decision::ImplicitDeny,
            "form {rf}"
        );
    }
}
