//! Generated policy sets and requests, shared by the invariant tests (`properties.rs`) and the
//! native/component/npm parity test on generated cases (`parity.rs`).
//!
//! Policies are drawn from a small alphabet (three services, a handful of actions and resources,
//! wildcards, `NotAction`/`NotResource`, string, `Bool`, `Null` and set conditions on a few context
//! keys) so that generated statements often apply to generated requests.

#![allow(
    dead_code,
    reason = "shared by two test binaries, each using part of it"
)]

use iamlet_engine::{ContextMap, Policy, PolicySet, PolicyType, Request};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "ec2:RunInstances",
    "ec2:DescribeInstances",
    "iam:CreateUser",
    "iam:GetUser",
];

pub const RESOURCES: &[&str] = &[
    "arn:aws:s3:::bucket-a/key1",
    "arn:aws:s3:::bucket-a/alice/notes.txt",
    "arn:aws:s3:::bucket-b/dir/key2",
    "arn:aws:s3:::bucket-a",
    "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
    "arn:aws:ec2:eu-west-1:444455556666:instance/i-0def",
    "arn:aws:iam::111122223333:user/bob",
];

pub const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:role/dev",
    "arn:aws:sts::111122223333:assumed-role/dev/session-1",
    "arn:aws:sts::111122223333:federated-user/carol",
    "111122223333",
];

pub const TEAM: &str = "aws:PrincipalTag/team";
pub const MFA: &str = "aws:MultiFactorAuthPresent";
pub const TAG_KEYS: &str = "aws:TagKeys";

/// An action pattern derived from a real action: some forms match it, some match others too.
pub fn action_form(action: &str, form: usize) -> String {
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
pub const MATCHING_ACTION_FORMS: usize = 8;

/// A resource pattern derived from a real ARN: forms 0 to 5 match it.
pub fn resource_form(arn: &str, form: usize) -> String {
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
pub const MATCHING_RESOURCE_FORMS: usize = 6;

#[derive(Clone, Debug)]
pub struct Cond {
    pub op: &'static str,
    pub key: &'static str,
    pub values: Vec<&'static str>,
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub sid: String,
    pub allow: bool,
    pub not_action: bool,
    pub actions: Vec<String>,
    pub not_resource: bool,
    pub resources: Vec<String>,
    pub conditions: Vec<Cond>,
    /// Used only in resource-based policies.
    pub principal: Value,
}

impl Stmt {
    pub fn to_json(&self, with_principal: bool) -> Value {
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

    pub fn with_effect(&self, allow: bool) -> Stmt {
        Stmt {
            allow,
            ..self.clone()
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Pol {
    pub name: String,
    pub stmts: Vec<Stmt>,
}

impl Pol {
    #[expect(
        clippy::panic,
        reason = "a generator that makes invalid policies must stop the test"
    )]
    pub fn parse(&self, policy_type: PolicyType) -> Policy {
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
pub enum Slot {
    Identity,
    Resource,
    Boundary,
    Scp,
    Session,
}

#[derive(Clone, Debug, Default)]
pub struct SetSpec {
    pub identity: Vec<Pol>,
    pub resource: Option<Pol>,
    pub boundaries: Vec<Pol>,
    pub scps: Vec<Vec<Pol>>,
    pub session: Vec<Pol>,
}

impl SetSpec {
    pub fn build(&self) -> PolicySet {
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
    pub fn named(mut self) -> Self {
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
    pub fn places(&self) -> Vec<(Slot, usize, usize)> {
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

    pub fn policy_mut(&mut self, (slot, level, i): (Slot, usize, usize)) -> Option<&mut Pol> {
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
    pub fn with_statement(&self, stmt: &Stmt, pick: usize) -> (SetSpec, Slot) {
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
    pub fn only(stmt: &Stmt, slot: Slot) -> SetSpec {
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
    pub fn shuffled(&self, seed: u64) -> SetSpec {
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
pub struct Req {
    pub principal: &'static str,
    pub action: &'static str,
    pub resource: &'static str,
    pub team: Option<&'static str>,
    pub mfa: Option<bool>,
    pub tag_keys: Option<Vec<&'static str>>,
}

impl Req {
    #[expect(
        clippy::panic,
        reason = "a generator that makes invalid requests must stop the test"
    )]
    pub fn build(&self) -> Request {
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

// ===== strategies =====

pub fn action_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (select(ACTIONS), 0..MATCHING_ACTION_FORMS).prop_map(|(a, f)| action_form(a, f)),
        1 => select(&["zzz:*", "s3:Delete*", "ec2:*Instances", "iam:?etUser"][..]).prop_map(str::to_owned),
    ]
}

pub fn resource_pattern() -> impl Strategy<Value = String> {
    (select(RESOURCES), 0..8usize).prop_map(|(r, f)| resource_form(r, f))
}

pub fn condition() -> impl Strategy<Value = Cond> {
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

pub fn principal_element() -> impl Strategy<Value = Value> {
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

pub fn statement_with(allow: impl Strategy<Value = bool>) -> impl Strategy<Value = Stmt> {
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

pub fn statement() -> impl Strategy<Value = Stmt> {
    statement_with(prop::bool::weighted(0.7))
}

pub fn policy(max_statements: usize) -> impl Strategy<Value = Pol> {
    prop::collection::vec(statement(), 1..=max_statements).prop_map(|stmts| Pol {
        name: String::new(),
        stmts,
    })
}

pub fn policy_set() -> impl Strategy<Value = SetSpec> {
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

pub fn request() -> impl Strategy<Value = Req> {
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
pub fn applicable_deny(req: Req) -> impl Strategy<Value = Stmt> {
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

impl SetSpec {
    /// The set and a request as one case of the conformance corpus's format (no `expected`: the
    /// parity test compares engines, not a documented answer).
    pub fn to_case(&self, req: &Req, id: &str) -> Value {
        let doc = |p: &Pol, policy_type: PolicyType| {
            let with_principal = policy_type == PolicyType::Resource;
            json!({
                "name": p.name,
                "document": {
                    "Version": "2012-10-17",
                    "Statement": p.stmts.iter().map(|s| s.to_json(with_principal)).collect::<Vec<_>>(),
                },
            })
        };
        let mut context = Map::new();
        if let Some(t) = req.team {
            context.insert(TEAM.into(), json!(t));
        }
        if let Some(m) = req.mfa {
            context.insert(MFA.into(), json!(m));
        }
        if let Some(k) = &req.tag_keys {
            context.insert(TAG_KEYS.into(), json!(k));
        }
        json!({
            "id": id,
            "identity_policies": self.identity.iter().map(|p| doc(p, PolicyType::Identity)).collect::<Vec<_>>(),
            "resource_policy": self.resource.as_ref().map(|p| doc(p, PolicyType::Resource)),
            "permission_boundaries": self.boundaries.iter().map(|p| doc(p, PolicyType::Boundary)).collect::<Vec<_>>(),
            "scps": self.scps.iter().map(|l| l.iter().map(|p| doc(p, PolicyType::Scp)).collect::<Vec<_>>()).collect::<Vec<_>>(),
            "session_policies": self.session.iter().map(|p| doc(p, PolicyType::Session)).collect::<Vec<_>>(),
            "request": {
                "principal": req.principal,
                "action": req.action,
                "resource": req.resource,
                "context": context,
            },
        })
    }
}
