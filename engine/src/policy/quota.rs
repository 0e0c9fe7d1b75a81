//! AWS's size quotas per policy type. A policy over its quota is still evaluated here (the engine
//! answers what the policy says), but AWS would refuse to store it as written: that is a finding for
//! the author, not an error. The engine's own hard limit against abuse is
//! `MAX_POLICY_BYTES` (256 KiB), far above every quota.
//!
//! IAM counts a policy's characters without white space (`Identity`, `Boundary`, `Trust`); AWS
//! Organizations counts SCPs and RCPs the same way when they are saved from the console, but as given
//! when saved through the API; STS counts the plaintext of session policies as passed. Sources: the IAM
//! User Guide's "IAM and AWS STS quotas", the Organizations User Guide's "Quotas and service limits",
//! and the `Policy` parameter of STS `AssumeRole`. Resource-based policies have a quota per service
//! (a bucket policy, a key policy, a queue policy…) and are not checked.

use super::{Policy, PolicyType};
use serde::Serialize;

/// How a quota counts a policy's size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub enum SizeCount {
    /// Characters, except white space outside strings.
    WithoutWhitespace,
    /// Every character of the text as given.
    AsGiven,
}

/// A policy larger than an AWS quota for its type allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct QuotaFinding {
    /// What the quota limits, e.g. `a managed policy`.
    pub quota: &'static str,
    /// The quota, in characters.
    pub limit: usize,
    /// The policy's size, counted as the quota counts it.
    pub size: usize,
    /// How the size is counted.
    pub counted: SizeCount,
    /// The finding as one line.
    pub message: String,
}

const MANAGED: &str = "a managed policy";

/// Every quota: the policy type it applies to, what it limits, its size in characters, and how the
/// size is counted.
const QUOTAS: &[(PolicyType, &str, usize, SizeCount)] = &[
    (
        PolicyType::Identity,
        MANAGED,
        6_144,
        SizeCount::WithoutWhitespace,
    ),
    (
        PolicyType::Identity,
        "the inline policies of an IAM user, together",
        2_048,
        SizeCount::WithoutWhitespace,
    ),
    (
        PolicyType::Identity,
        "the inline policies of an IAM group, together",
        5_120,
        SizeCount::WithoutWhitespace,
    ),
    (
        PolicyType::Identity,
        "the inline policies of an IAM role, together",
        10_240,
        SizeCount::WithoutWhitespace,
    ),
    (
        PolicyType::Boundary,
        MANAGED,
        6_144,
        SizeCount::WithoutWhitespace,
    ),
    (
        PolicyType::Trust,
        "a role trust policy (the default quota; it can be raised to 8,192)",
        2_048,
        SizeCount::WithoutWhitespace,
    ),
    (
        PolicyType::Scp,
        "a service control policy (saved from the console; the API counts white space too)",
        5_120,
        SizeCount::WithoutWhitespace,
    ),
    (
        PolicyType::Rcp,
        "a resource control policy (saved from the console; the API counts white space too)",
        5_120,
        SizeCount::WithoutWhitespace,
    ),
    (
        PolicyType::Session,
        "the session policies of one session, together",
        2_048,
        SizeCount::AsGiven,
    ),
];

/// The number of characters of `text`, counted as `how` says.
pub(crate) fn size(text: &str, how: SizeCount) -> usize {
    match how {
        SizeCount::AsGiven => text.chars().count(),
        SizeCount::WithoutWhitespace => {
            let (mut n, mut in_str, mut esc) = (0usize, false, false);
            for c in text.chars() {
                if in_str {
                    match (esc, c) {
                        (true, _) => esc = false,
                        (false, '\\') => esc = true,
                        (false, '"') => in_str = false,
                        _ => {}
                    }
                } else if c == '"' {
                    in_str = true;
                } else if c.is_whitespace() {
                    continue;
                }
                n += 1;
            }
            n
        }
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Policy {
    /// The AWS size quotas this policy exceeds for its type: AWS would not store it as written. The
    /// engine evaluates it all the same.
    pub fn quota_findings(&self) -> Vec<QuotaFinding> {
        QUOTAS
            .iter()
            .filter(|(t, ..)| *t == self.policy_type)
            .filter_map(|&(_, quota, limit, counted)| {
                let size = size(&self.source, counted);
                (size > limit).then(|| QuotaFinding {
                    quota,
                    limit,
                    size,
                    counted,
                    message: format!(
                        "the policy has {} characters{}; AWS allows {} for {quota}",
                        thousands(size),
                        match counted {
                            SizeCount::WithoutWhitespace => " without white space",
                            SizeCount::AsGiven => "",
                        },
                        thousands(limit),
                    ),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A valid policy of the given type with exactly `n` characters without white space (`n` ≥ 120),
    /// pretty-printed with plenty of white space.
    fn policy_of(n: usize, t: PolicyType) -> Policy {
        let principal = match t {
            PolicyType::Resource | PolicyType::Trust | PolicyType::Rcp => r#""Principal": "*","#,
            _ => "",
        };
        let resource = match t {
            PolicyType::Trust => "",
            _ => r#", "Resource": "*""#,
        };
        let shell = |sid: &str| {
            format!(
                "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {{\n    \"Sid\": \"{sid}\",\n    \"Effect\": \"Allow\", {principal}\n    \"Action\": \"s3:GetObject\"{resource}\n  }}\n}}\n"
            )
        };
        let base = size(&shell(""), SizeCount::WithoutWhitespace);
        let text = shell(&"x".repeat(n - base));
        assert_eq!(size(&text, SizeCount::WithoutWhitespace), n);
        Policy::parse(&text, t).unwrap()
    }

    fn quotas(p: &Policy) -> Vec<(usize, usize)> {
        p.quota_findings()
            .iter()
            .map(|f| (f.limit, f.size))
            .collect()
    }

    #[test]
    fn counts_characters_without_whitespace_outside_strings() {
        assert_eq!(
            size("{ \"a b\" :\n\t[ 1 , 2 ] }", SizeCount::WithoutWhitespace),
            13
        );
        assert_eq!(
            size(r#"{"a\" b": "c d"}"#, SizeCount::WithoutWhitespace),
            15
        );
        assert_eq!(size("{ \"é\" }", SizeCount::WithoutWhitespace), 5);
        assert_eq!(size("{ \"é\" }", SizeCount::AsGiven), 7);
    }

    #[test]
    fn identity_policies_against_the_managed_and_inline_quotas() {
        assert_eq!(quotas(&policy_of(2_048, PolicyType::Identity)), []);
        assert_eq!(
            quotas(&policy_of(2_049, PolicyType::Identity)),
            [(2_048, 2_049)]
        );
        assert_eq!(
            quotas(&policy_of(6_145, PolicyType::Identity)),
            [(6_144, 6_145), (2_048, 6_145), (5_120, 6_145)]
        );
        let all = policy_of(10_241, PolicyType::Identity).quota_findings();
        assert_eq!(all.len(), 4);
        assert_eq!(
            all[0].message,
            "the policy has 10,241 characters without white space; AWS allows 6,144 for a managed policy"
        );
    }

    #[test]
    fn each_type_has_its_quota() {
        for (t, limit) in [
            (PolicyType::Boundary, 6_144),
            (PolicyType::Trust, 2_048),
            (PolicyType::Scp, 5_120),
            (PolicyType::Rcp, 5_120),
        ] {
            assert_eq!(quotas(&policy_of(limit, t)), [], "{t:?}");
            assert_eq!(
                quotas(&policy_of(limit + 1, t)),
                [(limit, limit + 1)],
                "{t:?}"
            );
        }
        // Resource-based policies have a quota per service: none is checked.
        assert_eq!(quotas(&policy_of(50_000, PolicyType::Resource)), []);
    }

    #[test]
    fn session_policies_count_every_character() {
        // Within 2,048 without white space, but over it as passed.
        let p = policy_of(2_040, PolicyType::Session);
        let as_given = p.source().chars().count();
        assert!(as_given > 2_048);
        assert_eq!(quotas(&p), [(2_048, as_given)]);
        assert_eq!(p.quota_findings()[0].counted, SizeCount::AsGiven);
    }
}
