//! What a policy set can read from a request, for callers that remember decisions: a decision
//! depends on the request's principal, action, resource and resource account, and on the values of
//! the context keys the set's conditions test and its policy variables name — nothing else. Two
//! requests with the same [`RequestKey`] for a set are decided alike by it.

use crate::context::ContextValue;
use crate::eval::PolicySet;
use crate::policy::ResourcePattern;
use crate::request::{Principal, Request};
use std::collections::BTreeSet;

/// Keys whose values change with the clock alone: a decision reading one holds only for the instant
/// it was made.
const TIME_DEPENDENT: [&str; 4] = [
    "aws:currenttime",
    "aws:epochtime",
    "aws:tokenissuetime",
    "aws:multifactorauthage",
];

/// The context keys a policy set can read, lower-cased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContextReads {
    keys: Vec<String>,
}

impl ContextReads {
    /// The keys, lower-cased and sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// The first key read whose value changes with time (`aws:CurrentTime`, `aws:EpochTime`,
    /// `aws:TokenIssueTime`, `aws:MultiFactorAuthAge`), if any.
    pub fn time_dependent(&self) -> Option<&str> {
        self.keys
            .iter()
            .map(String::as_str)
            .find(|k| TIME_DEPENDENT.contains(k))
    }

    /// What of `request` this set's decision depends on.
    pub fn key_of(&self, request: &Request) -> RequestKey {
        let ctx = request.ctx();
        RequestKey {
            principal: request.principal.clone(),
            action: request.action.clone(),
            resource: request.resource.clone(),
            resource_account: request.resource_account.clone(),
            values: self.keys.iter().map(|k| ctx.get(k).cloned()).collect(),
        }
    }
}

/// What a request is, as far as one policy set can tell: equal keys, equal decisions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestKey {
    principal: Principal,
    action: String,
    resource: String,
    resource_account: Option<String>,
    /// The value of each of [`ContextReads::keys`], in order (`None`: absent).
    values: Vec<Option<ContextValue>>,
}

impl RequestKey {
    /// About the bytes the key holds (for a cache's bound).
    pub fn weight(&self) -> usize {
        let p = &self.principal;
        let principal = p.arn.len()
            + p.partition.len()
            + p.account.as_ref().map_or(0, String::len)
            + p.name.as_ref().map_or(0, String::len)
            + p.issuer.as_ref().map_or(0, String::len);
        let values: usize = self
            .values
            .iter()
            .map(|v| {
                16 + v
                    .as_ref()
                    .map_or(0, |v| v.values().iter().map(String::len).sum())
            })
            .sum();
        64 + principal
            + self.action.len()
            + self.resource.len()
            + self.resource_account.as_ref().map_or(0, String::len)
            + values
    }
}

impl PolicySet {
    /// The context keys this set can read: every condition's key and every policy variable in a
    /// condition value or a `Resource`/`NotResource`. Walks every statement: call it once per set.
    pub fn context_reads(&self) -> ContextReads {
        let mut keys = BTreeSet::new();
        for (_, policy) in self.slots() {
            for stmt in policy.statements.iter() {
                for c in &stmt.conditions {
                    keys.insert(c.key.clone());
                    keys.extend(c.variables().into_iter().map(str::to_lowercase));
                }
                for pattern in stmt.resource.iter().flat_map(|r| r.patterns.iter()) {
                    if let ResourcePattern::Template(t) = pattern {
                        keys.extend(t.variables().map(str::to_lowercase));
                    }
                }
            }
        }
        ContextReads {
            keys: keys.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ContextMap;
    use crate::policy::{Policy, PolicyType};

    fn set(doc: &str) -> PolicySet {
        let mut s = PolicySet::new();
        s.add(Policy::parse(doc, PolicyType::Identity).unwrap());
        s
    }

    #[test]
    fn reads_condition_keys_and_variables_lower_cased() {
        let s = set(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",
            "Resource":"arn:aws:s3:::b/${aws:username}/*",
            "Condition":{"StringEquals":{"aws:RequestTag/Team":"${aws:PrincipalTag/team}"},
                         "IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
        );
        let reads = s.context_reads();
        assert_eq!(
            reads.keys().collect::<Vec<_>>(),
            [
                "aws:principaltag/team",
                "aws:requesttag/team",
                "aws:sourceip",
                "aws:username"
            ]
        );
        assert_eq!(reads.time_dependent(), None);
        let timed = set(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
            "Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}"#,
        );
        assert_eq!(
            timed.context_reads().time_dependent(),
            Some("aws:currenttime")
        );
    }

    #[test]
    fn keys_differ_exactly_where_a_read_value_does() {
        let s = set(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
        );
        let reads = s.context_reads();
        let req = |ip: &str, ua: &str| {
            let mut ctx = ContextMap::new();
            ctx.insert("aws:SourceIp", ip);
            ctx.insert("aws:UserAgent", ua);
            ctx.insert("aws:CurrentTime", "2026-01-01T00:00:00Z");
            Request::new(
                "arn:aws:iam::111122223333:user/alice",
                "s3:GetObject",
                "arn:aws:s3:::b/k",
            )
            .unwrap()
            .with_context(ctx)
        };
        assert_eq!(
            reads.key_of(&req("10.0.0.1", "a")),
            reads.key_of(&req("10.0.0.1", "b"))
        );
        assert_ne!(
            reads.key_of(&req("10.0.0.1", "a")),
            reads.key_of(&req("10.0.0.2", "a"))
        );
        assert!(reads.key_of(&req("10.0.0.1", "a")).weight() > 64);
    }
}
