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

mod generate;

use generate::*;
use iamlet_engine::{Decision, PrincipalKind, Request};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::json;

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
