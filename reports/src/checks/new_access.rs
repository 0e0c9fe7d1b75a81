//! CheckNoNewAccess: does the new version of a policy allow a request the existing one did not?
//! An identity policy is compared by the engine's diff ([`iamlet_engine::diff::diff`]). A
//! resource-based policy's question is also *who*: it is compared for each principal either version
//! names (an account stands for a user of it) and for a stranger standing for `*`, each calling from
//! another account than the resource's with its own side allowing everything, so that what decides
//! is what the resource policy grants; the requests are every action and resource pattern the
//! versions write, with no condition keys, each key at each value the versions compare it with, and
//! all keys at their first values.

use super::statement::{statements, PrincipalEntry};
use super::{
    engine_type, parse, reason, respond, AccessCheckPolicyType, CheckError, CheckResponse,
};
use iamlet_engine::catalog::Catalog;
use iamlet_engine::{ContextMap, Policy, PolicySet, PolicyType, Request};
use std::collections::BTreeSet;

/// The account the probed resource belongs to: none of the probe principals'.
const RESOURCE_ACCOUNT: &str = "000000000000";

/// See the module documentation.
pub fn no_new_access(
    existing: &str,
    new: &str,
    policy_type: AccessCheckPolicyType,
    catalog: &Catalog,
) -> Result<CheckResponse, CheckError> {
    let ty = engine_type(policy_type, new);
    let old_policy = parse("existing policy", existing, ty)?;
    let new_policy = parse("new policy", new, ty)?;
    let indexes: BTreeSet<usize> = match policy_type {
        AccessCheckPolicyType::Identity => {
            let d = iamlet_engine::diff::diff(
                &old_policy,
                &new_policy,
                "arn:aws:iam::111122223333:user/iamlet-check",
                catalog,
            )
            .map_err(|e| CheckError::Policy(e.to_string()))?;
            d.granted
                .iter()
                .flat_map(|c| c.because.iter().map(|s| s.statement))
                .collect()
        }
        AccessCheckPolicyType::Resource => {
            resource_grants(existing, new, &old_policy, &new_policy)?
        }
    };
    let new_statements = statements(new);
    let reasons = indexes
        .iter()
        .filter_map(|i| new_statements.iter().find(|s| s.index == *i))
        .map(|s| reason(s, "New access"))
        .collect();
    Ok(respond(
        reasons,
        "The modified permissions do not grant new access compared to your existing policy.",
        "The modified permissions grant new access compared to your existing policy.",
    ))
}

fn resource_grants(
    existing: &str,
    new: &str,
    old_policy: &Policy,
    new_policy: &Policy,
) -> Result<BTreeSet<usize>, CheckError> {
    let own_side = Policy::parse_named(
        "(the caller's own side)",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        PolicyType::Identity,
    )
    .map_err(|e| CheckError::Policy(e.to_string()))?;
    let set = |p: &Policy| {
        let mut s = PolicySet::new();
        s.add(p.clone());
        s.add(own_side.clone());
        s
    };
    let (old_set, new_set) = (set(old_policy), set(new_policy));
    let both = [statements(existing), statements(new)];
    let mut actions = BTreeSet::new();
    let mut resources = BTreeSet::from(["*".to_owned()]);
    let mut keys: Vec<(String, String)> = Vec::new();
    for s in both.iter().flatten() {
        if s.actions.negated {
            actions.insert("iamlet-probe:AnyAction".to_owned());
        }
        actions.extend(s.actions.patterns.iter().cloned());
        if let Some(r) = &s.resources {
            resources.extend(r.patterns.iter().cloned());
        }
        for c in &s.conditions {
            for v in &c.values {
                let v = if c.operator.contains("IpAddress") {
                    v.split('/').next().unwrap_or(v).to_owned()
                } else {
                    v.clone()
                };
                if !keys.contains(&(c.key.clone(), v.clone())) {
                    keys.push((c.key.clone(), v));
                }
            }
        }
    }
    let mut contexts = vec![ContextMap::new()];
    for (k, v) in &keys {
        let mut m = ContextMap::new();
        m.insert(k, v.as_str());
        contexts.push(m);
    }
    let mut all = ContextMap::new();
    for (k, v) in &keys {
        if !all.contains(k) {
            all.insert(k, v.as_str());
        }
    }
    contexts.push(all);
    let mut out = BTreeSet::new();
    for principal in probe_principals(&[existing, new]) {
        for action in &actions {
            for resource in &resources {
                for context in &contexts {
                    let Ok(req) = Request::new(&principal, action, resource) else {
                        continue;
                    };
                    let req = req
                        .with_resource_account(RESOURCE_ACCOUNT)
                        .with_context(context.clone());
                    if old_set.evaluate(&req).is_allowed() {
                        continue;
                    }
                    let verdict = new_set.decide(&req);
                    if verdict.decision.is_allowed() {
                        out.extend(
                            verdict
                                .deciding
                                .iter()
                                .filter(|s| s.policy == "new policy")
                                .map(|s| s.statement),
                        );
                    }
                }
            }
        }
    }
    Ok(out)
}
/// The principals a resource policy's diff is probed for: every `AWS` and `Service` principal the
/// versions name (an account stands for a user of it), and a stranger for `*`.
fn probe_principals(documents: &[&str]) -> Vec<String> {
    let mut out = BTreeSet::new();
    out.insert("arn:aws:iam::999999999999:user/iamlet-check-stranger".to_owned());
    for d in documents {
        for s in statements(d) {
            for p in s.principals.iter().flat_map(|(p, _)| p.iter()) {
                match p {
                    PrincipalEntry::Aws(a) => {
                        let account = if a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()) {
                            Some(a.as_str())
                        } else {
                            a.split(':').nth(4)
                        };
                        if a.ends_with(":root") || Some(a.as_str()) == account {
                            if let Some(acct) = account {
                                out.insert(format!("arn:aws:iam::{acct}:user/iamlet-check"));
                            }
                        } else {
                            out.insert(a.clone());
                        }
                    }
                    PrincipalEntry::Service(svc) => {
                        out.insert(svc.clone());
                    }
                    _ => {}
                }
            }
        }
    }
    out.into_iter().collect()
}
