//! Does a policy change grant new access? [`diff`] decides the same requests under the old and the
//! new version of a policy and reports every request whose answer changed between `Allow` and a
//! deny, with the statement responsible.
//!
//! The requests are built from what the two versions mention (the catalog's actions their patterns
//! match, every action for `NotAction`; their resources, with `${aws:username}` filled in; the values
//! their conditions compare keys with, one key at a time), since access outside what either names
//! cannot change.
//!
//! A change between `ExplicitDeny` and `ImplicitDeny` does not change access and is not reported; a
//! change already shown for an action and resource under some condition keys is not repeated under
//! more keys than those.

use crate::catalog::Catalog;
use crate::context::ContextMap;
use crate::error::RequestError;
use crate::eval::{Decision, PolicySet};
use crate::explain::StatementRef;
use crate::policy::{Effect, Policy, PolicyType};
use crate::probe::{statements, Probes};
use serde::Serialize;
use std::collections::HashMap;

/// One request whose answer changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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
/// policy that allows everything, so the diff shows what the guardrail lets through. An SCP with no
/// `Allow` in either version is a deny list and sits in its level beside `FullAWSAccess` (AWS
/// requires every SCP level to allow); one with allows is compared alone. An RCP only denies, so it
/// needs no companion. Trust policies are not supported (their question is who, not what).
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
    // A deny-list SCP (no `Allow` in either version) is attached beside FullAWSAccess, as AWS
    // requires every SCP level to allow something; an allow-list one is compared alone.
    let full_access = policy_type == PolicyType::Scp
        && !statements(&[old, new]).any(|s| s.effect == Effect::Allow);
    let sets = [set_for(old, full_access), set_for(new, full_access)];
    compare(
        &sets[0],
        &sets[1],
        &[old, new],
        principal,
        &ContextMap::new(),
        catalog,
    )
}

/// Compares two whole policy sets of a principal (say, its resolved policies before and after a
/// change to its account: a new group, a boundary, an edited managed policy), with probes built from
/// every policy of both. `context` is what is known of the principal (its `aws:PrincipalTag/…`,
/// `aws:userid`…): every probe carries it, and it fills policy variables in the probes' values.
pub fn diff_sets(
    old: &PolicySet,
    new: &PolicySet,
    principal: &str,
    context: &ContextMap,
    catalog: &Catalog,
) -> Result<PolicyDiff, DiffError> {
    let policies: Vec<&Policy> = old.policies().into_iter().chain(new.policies()).collect();
    compare(old, new, &policies, principal, context, catalog)
}

fn compare(
    old: &PolicySet,
    new: &PolicySet,
    policies: &[&Policy],
    principal: &str,
    context: &ContextMap,
    catalog: &Catalog,
) -> Result<PolicyDiff, DiffError> {
    let sets = [old, new];
    let probes = Probes::new(policies, principal, context, catalog)?;
    let mut out = PolicyDiff::default();
    let mut seen = HashMap::new();
    probes.each(|action, resource, context, request| {
        let [before, after] = sets.map(|s| s.decide(&request));
        out.probes += 1;
        let (granted, because) = match (before.decision.is_allowed(), after.decision) {
            (false, Decision::Allow) => (true, after.deciding),
            (true, Decision::ExplicitDeny) => (false, after.deciding),
            (true, Decision::ImplicitDeny) => (false, before.deciding),
            _ => return,
        };
        // The same change under more condition keys than a probe that already showed it says
        // nothing new (probes come with no keys first, then one key at a time, then all of them).
        let key = (
            action.to_owned(),
            resource.to_owned(),
            before.decision,
            after.decision,
            because
                .iter()
                .map(|r| (r.policy.clone(), r.statement))
                .collect::<Vec<_>>(),
        );
        let shown: &mut Vec<Vec<(String, String)>> = seen.entry(key).or_default();
        if shown
            .iter()
            .any(|keys| keys.iter().all(|k| context.pairs.contains(k)))
        {
            return;
        }
        shown.push(context.pairs.clone());
        let change = Change {
            action: action.to_owned(),
            resource: resource.to_owned(),
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
    })?;
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
            set.add_rcp_level(level);
        }
        _ => {
            set.add(policy.clone());
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

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
        // eu-west-1 without MFA is granted too (the MFA condition went away); the probe with every
        // key at once adds nothing to it and is not repeated.
        assert!(contexts.contains(&vec![(
            "aws:RequestedRegion".to_owned(),
            "eu-west-1".to_owned()
        )]));
        assert!(contexts.iter().all(|c| c.len() == 1), "{contexts:?}");
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
    fn a_deny_list_rcp_stands_alone_as_rcps_only_deny() {
        let old = p(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}"#,
            PolicyType::Rcp,
        );
        let new = p(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"*"}]}"#,
            PolicyType::Rcp,
        );
        let d = diff(&old, &new, ALICE, Catalog::embedded()).unwrap();
        assert!(d.granted.iter().any(|c| c.action == "s3:GetObject"));
        assert!(d.granted.iter().all(|c| c.action.starts_with("s3:")));
        assert!(!d.granted.iter().any(|c| c.action == "s3:DeleteObject"));
        assert!(d.revoked.is_empty(), "{:?}", d.revoked);
    }

    #[test]
    fn whole_sets_compare_across_their_policies() {
        let read = p(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#,
            PolicyType::Identity,
        )
        .with_name("read");
        let boundary = p(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
            PolicyType::Boundary,
        );
        let mut old = PolicySet::new();
        old.add(read.clone());
        let mut new = PolicySet::new();
        new.add(read).add(boundary);
        // The new boundary takes away every s3:Get* action but GetObject.
        let d = diff_sets(&old, &new, ALICE, &ContextMap::new(), Catalog::embedded()).unwrap();
        assert!(d.granted.is_empty());
        assert!(d.revoked.iter().any(|c| c.action == "s3:GetObjectAcl"));
        assert!(!d.revoked.iter().any(|c| c.action == "s3:GetObject"));
        assert!(d
            .revoked
            .iter()
            .all(|c| c.because[0].sid.as_deref() == Some("Read")));
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
