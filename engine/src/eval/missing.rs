//! The condition keys a request leaves out: what AWS's policy simulator reports as
//! `MissingContextValues`, so that a caller knows which keys to supply for a faithful answer.

use super::{PolicySet, Slot};
use crate::policy::StatementMiss;
use crate::request::{Prepared, Request};
use std::collections::HashSet;

impl PolicySet {
    /// The condition keys (as first written) that the statements bearing on the request test and
    /// that the request does not give, neither in its context nor as a key derived from its
    /// principal and resource (`aws:username`, `aws:PrincipalArn`, …). A statement bears on the
    /// request when its principal, action and resource match it, whatever its conditions say; the
    /// policies that do not take part for this principal (session policies of a non-session, SCPs of
    /// a service principal) are left out. In policy and statement order, each key once.
    pub fn missing_context_keys(&self, req: &Request) -> Vec<String> {
        let target = Prepared::new(req);
        let kind = req.principal.kind;
        let has_boundary = !self.boundaries.is_empty();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (slot, policy) in self.slots() {
            let takes_part = match slot {
                Slot::Session => kind.is_session(),
                Slot::Scp(_) => !kind.only_resource_policies(),
                _ => true,
            };
            if !takes_part {
                continue;
            }
            for stmt in policy.statements.iter() {
                match stmt.applies(&target, has_boundary) {
                    Ok(_) | Err(StatementMiss::Condition { .. }) => {}
                    Err(_) => continue,
                }
                for c in &stmt.conditions {
                    if target.ctx.get(&c.key).is_none() && seen.insert(c.key.clone()) {
                        out.push(c.key_name.clone());
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::context::ContextMap;
    use crate::eval::PolicySet;
    use crate::policy::{Policy, PolicyType};
    use crate::request::Request;

    fn set(docs: &[(&str, PolicyType)]) -> PolicySet {
        let mut s = PolicySet::new();
        for (d, t) in docs {
            s.add(Policy::parse(d, *t).unwrap());
        }
        s
    }

    #[test]
    fn keys_of_matching_statements_that_the_request_lacks() {
        let s = set(&[
            (
                r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
                 "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"aws:SecureTransport":"true"},
                              "StringEquals":{"aws:username":"alice","aws:PrincipalTag/team":"red"}}},
                {"Effect":"Deny","Action":"s3:PutObject","Resource":"*",
                 "Condition":{"StringEquals":{"s3:x-amz-acl":"public-read"}}},
                {"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*",
                 "Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}]}"#,
                PolicyType::Identity,
            ),
            (
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
                 "Condition":{"StringLike":{"AWS:SourceIp":"*"}}}}"#,
                PolicyType::Boundary,
            ),
            (
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
                 "Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}}"#,
                PolicyType::Session,
            ),
        ]);
        let mut ctx = ContextMap::new();
        ctx.insert("aws:SecureTransport", "true");
        let req = Request::new(
            "arn:aws:iam::111122223333:user/alice",
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        )
        .unwrap()
        .with_context(ctx);
        // aws:username is derived from the principal; the PutObject statement and the one on
        // another bucket do not bear on the request; a user has no session policies; the
        // boundary's key is the same key in another case, reported once.
        assert_eq!(
            s.missing_context_keys(&req),
            vec!["aws:SourceIp", "aws:PrincipalTag/team"]
        );
    }
}
