//! What a policy set can read from a request, for callers that remember decisions: a decision
//! depends on the request's principal, action, resource and resource account, and on the values of
//! the context keys the set's conditions test and its policy variables name — nothing else. Two
//! requests equal in those and in [`ContextReads::values`] are decided alike by the set.

use crate::context::{ContextMap, ContextValue};
use crate::eval::PolicySet;
use crate::policy::ResourcePattern;
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
    /// The first of `keys` in [`TIME_DEPENDENT`], found once.
    time_dependent: Option<usize>,
}

impl ContextReads {
    /// The keys, lower-cased and sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// The first key read whose value changes with time (`aws:CurrentTime`, `aws:EpochTime`,
    /// `aws:TokenIssueTime`, `aws:MultiFactorAuthAge`), if any.
    pub fn time_dependent(&self) -> Option<&str> {
        self.time_dependent
            .and_then(|i| self.keys.get(i))
            .map(String::as_str)
    }

    /// Reads of lower-cased keys.
    fn from_keys(keys: BTreeSet<String>) -> ContextReads {
        let keys: Vec<String> = keys.into_iter().collect();
        let time_dependent = keys
            .iter()
            .position(|k| TIME_DEPENDENT.contains(&k.as_str()));
        ContextReads {
            keys,
            time_dependent,
        }
    }

    /// The value in `context` of each of [`ContextReads::keys`], in order (`None`: absent): what of
    /// a request's condition keys this set's decision depends on.
    pub fn values<'s, 'c>(
        &'s self,
        context: &'c ContextMap,
    ) -> impl ExactSizeIterator<Item = Option<&'c ContextValue>> + use<'s, 'c> {
        // Both sides are sorted by lower-cased key: one walk down each (on every request the
        // sidecar's decision cache looks up) instead of a search of the context per key.
        let mut entries = context.lower_entries().peekable();
        self.keys.iter().map(move |k| {
            while entries.next_if(|(c, _)| *c < k.as_str()).is_some() {}
            entries.next_if(|(c, _)| *c == k.as_str()).map(|(_, v)| v)
        })
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
        ContextReads::from_keys(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, PolicyType};

    proptest::proptest! {
        /// The walk finds what a search per key finds, whatever the keys' case and overlap.
        #[test]
        fn values_are_each_key_s_value(
            read in proptest::collection::btree_set("[a-cA-C:/]{0,4}", 0..8),
            given in proptest::collection::vec(("[a-cA-C:/]{0,4}", "[xy]{0,2}"), 0..8),
        ) {
            let reads = ContextReads::from_keys(read.iter().map(|k| k.to_lowercase()).collect());
            let mut context = ContextMap::new();
            for (k, v) in &given {
                context.insert(k, v.as_str());
            }
            let walked: Vec<_> = reads.values(&context).collect();
            let searched: Vec<_> = reads.keys().map(|k| context.get(k)).collect();
            proptest::prop_assert_eq!(walked, searched);
        }
    }

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
    fn values_differ_exactly_where_a_read_value_does() {
        let s = set(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
            "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
        );
        let reads = s.context_reads();
        let ctx = |ip: Option<&str>, ua: &str| {
            let mut ctx = ContextMap::new();
            if let Some(ip) = ip {
                ctx.insert("aws:SourceIp", ip);
            }
            ctx.insert("aws:UserAgent", ua);
            ctx.insert("aws:CurrentTime", "2026-01-01T00:00:00Z");
            ctx
        };
        let values = |c: &ContextMap| {
            reads
                .values(c)
                .map(|v| v.map(|v| v.values().to_vec()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            values(&ctx(Some("10.0.0.1"), "a")),
            values(&ctx(Some("10.0.0.1"), "b"))
        );
        assert_ne!(
            values(&ctx(Some("10.0.0.1"), "a")),
            values(&ctx(Some("10.0.0.2"), "a"))
        );
        assert_eq!(values(&ctx(None, "a")), [None]);
    }
}
