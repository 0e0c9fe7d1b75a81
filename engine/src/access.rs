//! What a policy set grants a principal, in the catalog's actions: the other half of least
//! privilege, beside what the principal actually used (`iamlet report access-advisor` compares the
//! two).
//!
//! The set decides the probes built from its own policies (the catalog's actions their patterns
//! match, their resources with `${aws:username}` filled in, the values their conditions compare
//! keys with); an action is granted when one of them is allowed.

use crate::catalog::Catalog;
use crate::context::ContextMap;
use crate::error::RequestError;
use crate::eval::PolicySet;
use crate::explain::StatementRef;
use crate::probe::Probes;
use serde::Serialize;
use std::collections::BTreeMap;

/// An action the set allows, with the first probe that showed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// The action, `service:Name`.
    pub action: String,
    /// A resource it is allowed on.
    pub resource: String,
    /// The condition keys that probe set (none: allowed without them).
    pub context: Vec<(String, String)>,
    /// The statements that allowed it.
    pub because: Vec<StatementRef>,
}

/// Every action `set` allows `principal` on some probe, sorted by action. `context` is what is known
/// of the principal (its `aws:PrincipalTag/…`…): every probe carries it, and it fills policy
/// variables in the probes' values.
pub fn granted(
    set: &PolicySet,
    principal: &str,
    context: &ContextMap,
    catalog: &Catalog,
) -> Result<Vec<Grant>, RequestError> {
    let policies = set.policies();
    let probes = Probes::new(&policies, principal, context, catalog)?;
    let mut out: BTreeMap<String, Grant> = BTreeMap::new();
    probes.each(|action, resource, context, request| {
        if out.contains_key(action) {
            return;
        }
        let verdict = set.decide(&request);
        if verdict.decision.is_allowed() {
            out.insert(
                action.to_owned(),
                Grant {
                    action: action.to_owned(),
                    resource: resource.to_owned(),
                    context: context.pairs.clone(),
                    because: verdict.deciding,
                },
            );
        }
    })?;
    Ok(out.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, PolicyType};

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

    fn set(docs: &[(&str, PolicyType)]) -> PolicySet {
        let mut set = PolicySet::new();
        for (i, (text, t)) in docs.iter().enumerate() {
            set.add(
                Policy::parse_named(&format!("p{i}"), text, *t).unwrap_or_else(|e| panic!("{e}")),
            );
        }
        set
    }

    fn actions(g: &[Grant]) -> Vec<&str> {
        g.iter().map(|g| g.action.as_str()).collect()
    }

    #[test]
    fn wildcards_expand_and_denies_and_boundaries_take_away() {
        let s = set(&[
            (
                r#"{"Version":"2012-10-17","Statement":[
                  {"Sid":"Read","Effect":"Allow","Action":["s3:GetObject*","dynamodb:GetItem"],"Resource":"*"},
                  {"Effect":"Deny","Action":"s3:GetObjectAcl","Resource":"*"}]}"#,
                PolicyType::Identity,
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
                PolicyType::Boundary,
            ),
        ]);
        let g = granted(&s, ALICE, &ContextMap::new(), Catalog::embedded())
            .unwrap_or_else(|e| panic!("{e}"));
        let a = actions(&g);
        assert!(a.contains(&"s3:GetObject"), "{a:?}");
        assert!(a.contains(&"s3:GetObjectTagging"), "{a:?}");
        assert!(!a.contains(&"s3:GetObjectAcl"), "denied: {a:?}");
        assert!(
            !a.contains(&"dynamodb:GetItem"),
            "outside the boundary: {a:?}"
        );
        assert!(a.iter().all(|x| x.starts_with("s3:GetObject")));
        assert_eq!(g[0].because[0].sid.as_deref(), Some("Read"));
    }

    #[test]
    fn conditions_are_met_by_some_probe_and_resources_are_named() {
        let s = set(&[(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:StartInstances",
              "Resource":"arn:aws:ec2:*:111122223333:instance/*",
              "Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}"#,
            PolicyType::Identity,
        )]);
        let g = granted(&s, ALICE, &ContextMap::new(), Catalog::embedded())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(actions(&g), vec!["ec2:StartInstances"]);
        assert_eq!(g[0].resource, "arn:aws:ec2:*:111122223333:instance/*");
        assert_eq!(
            g[0].context,
            vec![("aws:RequestedRegion".to_owned(), "eu-west-1".to_owned())]
        );
        assert!(granted(
            &PolicySet::new(),
            ALICE,
            &ContextMap::new(),
            Catalog::embedded()
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
    }
}
