//! Does a policy change grant new access? [`diff`] decides the same requests under the old and the
//! new version of a policy and reports every request whose answer changed between `Allow` and a
//! deny, with the statement responsible.
//!
//! The requests are probes built from what the two versions mention, since access outside what
//! either names cannot change:
//! - **actions**: every catalog action that an `Action` pattern of either version matches, and
//!   action names the catalog does not know as written; every action of the catalog when either
//!   version uses `NotAction` or a pattern whose service is a wildcard;
//! - **resources**: each `Resource`/`NotResource` entry of either version, taken as a resource name
//!   (a pattern matches its own text: `arn:aws:s3:::b/*` stands for some object of `b`), with
//!   `${aws:username}` and `${aws:userid}`… filled in for the principal, plus `*`; an action is
//!   probed only on resources of its own service (or without one);
//! - **contexts**: no condition keys; each condition key of either version set, one at a time, to each
//!   value either version compares it with (and one above and below for numbers; an address for a
//!   CIDR; a one-element set for `ForAnyValue:`/`ForAllValues:`); and every key at once at its
//!   first value.
//!
//! A change between `ExplicitDeny` and `ImplicitDeny` does not change access and is not reported; a
//! change already reported for an action and resource is not repeated under more condition keys.

use crate::catalog::Catalog;
use crate::condition::operator::Family;
use crate::context::{ContextMap, ContextValue};
use crate::error::RequestError;
use crate::eval::{Decision, PolicySet};
use crate::explain::StatementRef;
use crate::policy::{Effect, Policy, PolicyType};
use crate::request::Request;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// One request whose answer changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct Change {
    /// The action, `service:Name`.
    pub action: String,
    /// The resource probed.
    pub resource: String,
    /// The condition keys the probe set (none: the request without them).
    pub context: Vec<(String, String)>,
    /// The answer under the old version.
    pub before: Decision,
    /// The answer under the new version.
    pub after: Decision,
    /// The statements responsible: the new version's allows for a grant, its denies for an explicit
    /// revocation, or the old version's allows that no longer grant.
    pub because: Vec<StatementRef>,
}

/// What changed between two versions of a policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct PolicyDiff {
    /// Requests the new version allows and the old did not.
    pub granted: Vec<Change>,
    /// Requests the old version allowed and the new does not.
    pub revoked: Vec<Change>,
    /// How many requests were decided under each version.
    pub probes: usize,
}

/// Compares two versions of a policy (of the same type) for `principal`, with actions drawn from
/// `catalog` (an empty catalog probes only the action names written in the policies).
///
/// Boundaries, SCPs, RCPs and session policies only limit: they are compared beside an identity
/// policy that allows everything, so the diff shows what the guardrail lets through. An SCP or RCP
/// with no `Allow` in either version is a deny list and sits in its level beside `FullAWSAccess`
/// (AWS requires every level to allow); one with allows is compared alone. Trust policies are not
/// supported (their question is who, not what).
pub fn diff(
    old: &Policy,
    new: &Policy,
    principal: &str,
    catalog: &Catalog,
) -> Result<PolicyDiff, DiffError> {
    if old.policy_type() != new.policy_type() {
        return Err(DiffError::TypesDiffer(old.policy_type(), new.policy_type()));
    }
    let policy_type = old.policy_type();
    if policy_type == PolicyType::Trust {
        return Err(DiffError::Trust);
    }
    let probe_principal = Request::new(principal, "iam:GetUser", "*")?;
    // A deny-list SCP or RCP (no `Allow` in either version) is attached beside FullAWSAccess, as AWS
    // requires every level to allow something; an allow-list one is compared alone.
    let full_access = matches!(policy_type, PolicyType::Scp | PolicyType::Rcp)
        && !statements(&[old, new]).any(|s| s.effect == Effect::Allow);
    let sets = [set_for(old, full_access), set_for(new, full_access)];
    let resources = resources(&[old, new], &probe_principal);
    let contexts = contexts(&[old, new], &probe_principal);
    let mut out = PolicyDiff::default();
    let mut seen = HashSet::new();
    for action in actions(&[old, new], catalog) {
        let service = action.split_once(':').map_or("", |(s, _)| s);
        for resource in &resources {
            if !resource_fits(resource, service) {
                continue;
            }
            for context in &contexts {
                let request =
                    Request::new(principal, &action, resource)?.with_context(context.map.clone());
                let [before, after] = [&sets[0], &sets[1]].map(|s| s.decide(&request));
                out.probes += 1;
                let (granted, because) = match (before.decision.is_allowed(), after.decision) {
                    (false, Decision::Allow) => (true, after.deciding),
                    (true, Decision::ExplicitDeny) => (false, after.deciding),
                    (true, Decision::ImplicitDeny) => (false, before.deciding),
                    _ => continue,
                };
                // The same change under more condition keys says nothing new: keep the probe with
                // the fewest (the empty context comes first, then one key at a time).
                let key = (
                    action.clone(),
                    resource.clone(),
                    before.decision,
                    after.decision,
                    because
                        .iter()
                        .map(|r| (r.policy.clone(), r.statement))
                        .collect::<Vec<_>>(),
                );
                if !seen.insert(key) {
                    continue;
                }
                let change = Change {
                    action: action.clone(),
                    resource: resource.clone(),
                    context: context.pairs.clone(),
                    before: before.decision,
                    after: after.decision,
                    because,
                };
                if granted {
                    out.granted.push(change);
                } else {
                    out.revoked.push(change);
                }
            }
        }
    }
    Ok(out)
}

/// Why two policies cannot be compared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    /// The versions are of different types.
    #[error("the old version is {0:?} and the new one {1:?}: compare policies of one type")]
    TypesDiffer(PolicyType, PolicyType),
    /// Trust policies decide who may assume a role, not what it may do.
    #[error("trust policies are not compared: their question is who may assume the role")]
    Trust,
    /// The principal (or a probe built from the policies) is not a valid request.
    #[error(transparent)]
    Request(#[from] RequestError),
}

const ALLOW_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

fn set_for(policy: &Policy, full_access: bool) -> PolicySet {
    let allow_all = |name: &str, t: PolicyType| Policy::parse_named(name, ALLOW_ALL, t).ok();
    let mut set = PolicySet::new();
    if matches!(
        policy.policy_type(),
        PolicyType::Boundary | PolicyType::Scp | PolicyType::Rcp | PolicyType::Session
    ) {
        if let Some(all) = allow_all("(everything allowed)", PolicyType::Identity) {
            set.add(all);
        }
    }
    let mut level = vec![policy.clone()];
    match policy.policy_type() {
        PolicyType::Scp => {
            if full_access {
                level.extend(allow_all("FullAWSAccess", PolicyType::Scp));
            }
            set.add_scp_level(level);
        }
        PolicyType::Rcp => {
            if full_access {
                level.extend(allow_all("RCPFullAWSAccess", PolicyType::Rcp));
            }
            set.add_rcp_level(level);
        }
        _ => {
            set.add(policy.clone());
        }
    }
    set
}

fn statements<'a>(
    policies: &'a [&'a Policy],
) -> impl Iterator<Item = &'a crate::policy::Statement> + 'a {
    policies.iter().flat_map(|p| p.statements.iter())
}

fn actions(policies: &[&Policy], catalog: &Catalog) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut everything = false;
    for s in statements(policies) {
        everything |= s.action.negated;
        for raw in &s.action.raw {
            let service = raw.split_once(':').map_or(raw.as_str(), |(svc, _)| svc);
            everything |= service.contains(['*', '?']);
            let expanded = catalog.expand(raw);
            if expanded.is_empty() && !raw.contains(['*', '?']) {
                out.insert(raw.clone());
            }
            out.extend(expanded);
        }
    }
    if everything {
        for s in catalog.services() {
            out.extend(
                s.actions()
                    .iter()
                    .map(|a| format!("{}:{}", s.prefix(), a.name())),
            );
        }
    }
    out
}

/// Fills the policy variables a probe can know from the principal alone.
fn fill(text: &str, principal: &Request) -> String {
    if !text.contains("${") {
        return text.to_owned();
    }
    let p = principal.principal();
    let name = p.arn().rsplit('/').next().unwrap_or_default();
    text.replace("${aws:username}", name)
        .replace("${aws:PrincipalAccount}", p.account().unwrap_or_default())
        .replace("${aws:PrincipalArn}", p.arn())
}

fn resources(policies: &[&Policy], principal: &Request) -> BTreeSet<String> {
    let mut out = BTreeSet::from(["*".to_owned()]);
    for s in statements(policies) {
        for raw in s.resource.iter().flat_map(|r| r.raw.iter()) {
            out.insert(fill(raw, principal));
        }
    }
    out
}

/// Whether probing an action of `service` on `resource` makes sense: the resource's service is the
/// action's, or the resource names no service (`*`, `arn:aws:*:…`).
fn resource_fits(resource: &str, service: &str) -> bool {
    match resource.split(':').nth(2) {
        None => true,
        Some(s) => s == service || s.contains(['*', '?']) || s.is_empty(),
    }
}

/// A probe's condition keys: as reported, and as the request carries them.
struct Probe {
    pairs: Vec<(String, String)>,
    map: ContextMap,
}

fn contexts(policies: &[&Policy], principal: &Request) -> Vec<Probe> {
    // Lower-cased key -> (the key as first written, values to try, whether a set operator reads it).
    let mut keys: BTreeMap<String, (String, BTreeSet<String>, bool)> = BTreeMap::new();
    for s in statements(policies) {
        for c in &s.conditions {
            let entry = keys
                .entry(c.key.clone())
                .or_insert_with(|| (c.key_name.clone(), BTreeSet::new(), false));
            entry.2 |= c.op.qualifier.is_some();
            for v in &c.raw_values {
                entry.1.extend(samples(c.op.family, &fill(v, principal)));
            }
        }
    }
    let probe = |pairs: Vec<(&str, &str, bool)>| {
        let mut map = ContextMap::new();
        for &(k, v, set) in &pairs {
            if set {
                map.insert(k, ContextValue::multi(vec![v.to_owned()]));
            } else {
                map.insert(k, v);
            }
        }
        Probe {
            pairs: pairs
                .into_iter()
                .map(|(k, v, _)| (k.to_owned(), v.to_owned()))
                .collect(),
            map,
        }
    };
    let mut out = vec![probe(Vec::new())];
    let mut all = Vec::new();
    for (name, values, set) in keys.values() {
        for v in values {
            out.push(probe(vec![(name, v, *set)]));
        }
        if let Some(first) = values.iter().next() {
            all.push((name.as_str(), first.as_str(), *set));
        }
    }
    if all.len() > 1 {
        out.push(probe(all));
    }
    out
}

/// Values of a condition key worth probing for one value a policy compares it with.
fn samples(family: Family, value: &str) -> Vec<String> {
    match family {
        Family::Numeric(_) => match value.parse::<i64>() {
            Ok(n) => vec![(n - 1).to_string(), n.to_string(), (n + 1).to_string()],
            Err(_) => vec![value.to_owned()],
        },
        Family::Ip => vec![value.split('/').next().unwrap_or(value).to_owned()],
        Family::Bool | Family::Null => vec!["true".to_owned(), "false".to_owned()],
        _ => vec![value.to_owned()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str, t: PolicyType) -> Policy {
        Policy::parse(text, t).unwrap_or_else(|e| panic!("{e}"))
    }

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

    fn granted(d: &PolicyDiff) -> Vec<(String, String)> {
        d.granted
            .iter()
            .map(|c| (c.action.clone(), c.resource.clone()))
            .collect()
    }

    #[test]
    fn a_wider_action_pattern_grants_the_actions_it_adds() {
        let old = p(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
            PolicyType::Identity,
        );
        let new = p(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject*","Resource":"arn:aws:s3:::b/*"}]}"#,
            PolicyType::Identity,
        );
        let d = diff(&old, &new, ALICE, Catalog::embedded()).unwrap();
        assert!(d.revoked.is_empty(), "{:?}", d.revoked);
        let g = granted(&d);
        assert!(g.contains(&("s3:GetObjectAcl".into(), "arn:aws:s3:::b/*".into())));
        assert!(!g.iter().any(|(a, _)| a == "s3:GetObject"));
        assert!(g.iter().all(|(a, _)| a.starts_with("s3:GetObject")));
        assert_eq!(
            d.granted[0].because[0].sid.as_deref(),
            Some("Read"),
            "{:?}",
            d.granted[0]
        );
        // Unchanged policies: nothing.
        let same = diff(&old, &old, ALICE, Catalog::embedded()).unwrap();
        assert!(same.granted.is_empty() && same.revoked.is_empty());
        assert!(same.probes > 0);
    }

    #[test]
    fn a_new_deny_and_a_dropped_allow_revoke() {
        let old = p(
            r#"{"Version":"2012-10-17","Statement":[
              {"Sid":"All","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"*"}]}"#,
            PolicyType::Identity,
        );
        let new = p(
            r#"{"Version":"2012-10-17","Statement":[
              {"Sid":"Get","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
              {"Sid":"NoSecrets","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::secrets/*"}]}"#,
            PolicyType::Identity,
        );
        let d = diff(&old, &new, ALICE, Catalog::embedded()).unwrap();
        assert!(d.granted.is_empty(), "{:?}", d.granted);
        let put = d
            .revoked
            .iter()
            .find(|c| c.action == "s3:PutObject" && c.resource == "*")
            .unwrap();
        assert_eq!(put.after, Decision::ImplicitDeny);
        assert_eq!(put.because[0].sid.as_deref(), Some("All"));
        let secret = d
            .revoked
            .iter()
            .find(|c| c.action == "s3:GetObject" && c.resource == "arn:aws:s3:::secrets/*")
            .unwrap();
        assert_eq!(secret.after, Decision::ExplicitDeny);
        assert_eq!(secret.because[0].sid.as_deref(), Some("NoSecrets"));
    }

    #[test]
    fn a_loosened_condition_grants_only_under_the_new_values() {
        let old = p(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"*",
              "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}"#,
            PolicyType::Identity,
        );
        let new = p(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"*",
              "Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}"#,
            PolicyType::Identity,
        );
        let d = diff(&old, &new, ALICE, Catalog::embedded()).unwrap();
        let contexts: BTreeSet<Vec<(String, String)>> =
            d.granted.iter().map(|c| c.context.clone()).collect();
        assert!(contexts.contains(&vec![(
            "aws:RequestedRegion".to_owned(),
            "us-east-1".to_owned()
        )]));
        // Without MFA in eu-west-1 is granted too: the MFA condition went away (the probe that sets
        // every key at once takes each key's first value: MFA false, eu-west-1).
        assert!(contexts.contains(&vec![
            ("aws:MultiFactorAuthPresent".to_owned(), "false".to_owned()),
            ("aws:RequestedRegion".to_owned(), "eu-west-1".to_owned())
        ]));
        assert!(d.revoked.is_empty(), "{:?}", d.revoked);
    }

    #[test]
    fn not_action_probes_the_whole_catalog_and_scps_stand_beside_an_allow_all() {
        let old = p(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:*","ec2:*"],"Resource":"*"}]}"#,
            PolicyType::Scp,
        );
        let new = p(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["s3:*","ec2:*","iam:*"],"Resource":"*"}]}"#,
            PolicyType::Scp,
        );
        let d = diff(&old, &new, ALICE, Catalog::embedded()).unwrap();
        assert!(d.granted.iter().any(|c| c.action == "iam:CreateUser"));
        assert!(d.granted.iter().all(|c| c.action.starts_with("iam:")));
        assert!(d.revoked.is_empty());
        assert!(d.probes > 10_000, "{} probes", d.probes);
    }

    #[test]
    fn types_must_match_and_trust_policies_are_refused() {
        let id = p(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
            PolicyType::Identity,
        );
        let b = p(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
            PolicyType::Boundary,
        );
        assert!(matches!(
            diff(&id, &b, ALICE, Catalog::embedded()),
            Err(DiffError::TypesDiffer(..))
        ));
        let t = p(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            PolicyType::Trust,
        );
        assert_eq!(
            diff(&t, &t, ALICE, Catalog::embedded()),
            Err(DiffError::Trust)
        );
        assert!(matches!(
            diff(&id, &id, "not a principal", Catalog::embedded()),
            Err(DiffError::Request(_))
        ));
    }
}
