//! The `Principal` and `NotPrincipal` elements of resource-based, trust and resource control policies.

use crate::arn::Arn;
use crate::request::{Principal, PrincipalKind};

/// One principal named in a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PrincipalEntry {
    /// `"*"` or `{"AWS": "*"}`: everyone, including anonymous callers.
    Everyone,
    /// An account id or `arn:aws:iam::ACCOUNT:root`: the account, which delegates to its identities.
    Account(String),
    /// A user, role, role session or federated user ARN.
    Arn(String),
    /// `{"Service": "ec2.amazonaws.com"}`.
    Service(String),
    /// `{"Federated": "cognito-identity.amazonaws.com"}` or a SAML/OIDC provider ARN.
    Federated(String),
    /// `{"CanonicalUser": "…"}` (S3).
    CanonicalUser(String),
}

/// How a resource-based policy's principal matched the caller. The order matters: a grant to the
/// caller itself is stronger than one through its role, which is stronger than one to its account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Grant {
    /// The policy names the caller's account: the account's identity-based policies must also allow.
    Account,
    /// The policy names the session's issuer (the role of a role session, or the IAM user behind a
    /// federated user session): boundaries and session policies still limit it.
    Issuer,
    /// The policy names the caller itself (user, role session, federated user, service, or `*`).
    Direct,
}

impl Grant {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Grant::Account => "the principal's account",
            Grant::Issuer => "the issuer of the session (its role, or the IAM user who federated)",
            Grant::Direct => "the principal itself",
        }
    }
}

/// `Principal` (the statement applies to these) or `NotPrincipal` (to everyone but these).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PrincipalSpec {
    pub(crate) negated: bool,
    pub(crate) entries: Vec<PrincipalEntry>,
    pub(crate) raw: Vec<String>,
}

impl PrincipalSpec {
    /// Whether the statement covers the principal, and how. `deny_with_boundary` is set for a `Deny`
    /// evaluated for a principal that has a permissions boundary: AWS documents that `NotPrincipal`
    /// then always applies, whatever it lists.
    pub(crate) fn grant(&self, p: &Principal, deny_with_boundary: bool) -> Option<Grant> {
        if self.negated {
            if deny_with_boundary {
                return Some(Grant::Direct);
            }
            return (!self.excludes(p)).then_some(Grant::Direct);
        }
        self.entries.iter().filter_map(|e| entry_grant(e, p)).max()
    }

    /// `NotPrincipal`: AWS may evaluate a request as the account, then the role, then the session (or
    /// the account, then the user), so a principal escapes a `NotPrincipal` only when every identity in
    /// that chain is listed. Listing a role does not list its sessions, and listing a user without its
    /// account leaves the user covered.
    fn excludes(&self, p: &Principal) -> bool {
        if self.entries.contains(&PrincipalEntry::Everyone) {
            return true;
        }
        let listed_arn = |arn: &str| {
            self.entries
                .iter()
                .any(|e| matches!(e, PrincipalEntry::Arn(a) if a == arn))
        };
        let account_listed = || {
            p.account.as_deref().is_some_and(|acct| {
                self.entries
                    .iter()
                    .any(|e| matches!(e, PrincipalEntry::Account(a) if a == acct))
            })
        };
        match p.kind {
            PrincipalKind::Root => account_listed(),
            PrincipalKind::User | PrincipalKind::Role | PrincipalKind::FederatedUser => {
                account_listed() && listed_arn(&p.arn)
            }
            PrincipalKind::AssumedRole => {
                let role_listed = self.entries.iter().any(|e| match e {
                    PrincipalEntry::Arn(a) => names_role_of(a, p),
                    _ => false,
                });
                account_listed() && role_listed && listed_arn(&p.arn)
            }
            PrincipalKind::Service => self.entries.iter().any(|e| {
                matches!(e, PrincipalEntry::Service(s) | PrincipalEntry::Federated(s) if s.eq_ignore_ascii_case(&p.arn))
            }),
            PrincipalKind::WebIdentity => self
                .entries
                .iter()
                .any(|e| matches!(e, PrincipalEntry::Federated(s) if *s == p.arn)),
            PrincipalKind::Anonymous => false,
        }
    }
}

/// Whether a role ARN (with any path) names the role of a role session (same partition, account and
/// name: ARNs of two partitions never name the same role).
fn names_role_of(role_arn: &str, p: &Principal) -> bool {
    let Some(a) = Arn::parse(role_arn) else {
        return false;
    };
    let Some(role_path) = a.resource.strip_prefix("role/") else {
        return false;
    };
    let role_name = role_path.rsplit('/').next().unwrap_or(role_path);
    a.service == "iam"
        && a.partition == p.partition
        && p.account.as_deref() == Some(a.account)
        && p.name.as_deref() == Some(role_name)
}

fn entry_grant(entry: &PrincipalEntry, p: &Principal) -> Option<Grant> {
    // A federated caller is granted only by a `Federated` entry naming its provider: `"*"` and
    // `{"AWS": "*"}` name AWS principals, never every identity provider's users.
    if p.kind == PrincipalKind::WebIdentity {
        return matches!(entry, PrincipalEntry::Federated(s) if *s == p.arn)
            .then_some(Grant::Direct);
    }
    match entry {
        PrincipalEntry::Everyone => Some(Grant::Direct),
        PrincipalEntry::Account(acct) => (p.account.as_deref() == Some(acct.as_str())).then(|| {
            if p.kind == PrincipalKind::Root {
                Grant::Direct
            } else {
                Grant::Account
            }
        }),
        PrincipalEntry::Arn(arn) => {
            if *arn == p.arn {
                return Some(Grant::Direct);
            }
            // A role ARN covers the role's sessions. Session ARNs carry no role path, so compare the
            // role's name and account.
            if p.kind == PrincipalKind::AssumedRole && names_role_of(arn, p) {
                return Some(Grant::Issuer);
            }
            if p.kind == PrincipalKind::FederatedUser && p.issuer.as_deref() == Some(arn.as_str()) {
                return Some(Grant::Issuer);
            }
            None
        }
        PrincipalEntry::Service(s) | PrincipalEntry::Federated(s) => {
            (matches!(p.kind, PrincipalKind::Service) && s.eq_ignore_ascii_case(&p.arn)
                || *s == p.arn)
                .then_some(Grant::Direct)
        }
        PrincipalEntry::CanonicalUser(c) => (*c == p.arn).then_some(Grant::Direct),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Decision, Policy, PolicySet, PolicyType, Request};

    const PROVIDER: &str = "arn:aws:iam::111122223333:oidc-provider/127.0.0.1:8443/id/C1";
    const ROLE: &str = "arn:aws:iam::111122223333:role/reporter";

    fn decide(principal: &str, trust: &str) -> Decision {
        let mut set = PolicySet::new();
        set.add(Policy::parse(trust, PolicyType::Trust).unwrap());
        let req = Request::new(principal, "sts:AssumeRoleWithWebIdentity", ROLE)
            .unwrap()
            .with_resource_account("111122223333");
        set.evaluate(&req)
    }

    fn trust(principal: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRoleWithWebIdentity"}}]}}"#
        )
    }

    #[test]
    fn a_federated_caller_is_granted_only_by_its_provider() {
        let p = crate::Principal::parse(PROVIDER).unwrap();
        assert_eq!(p.kind(), crate::PrincipalKind::WebIdentity);
        assert_eq!(
            decide(
                PROVIDER,
                &trust(&format!(r#"{{"Federated":"{PROVIDER}"}}"#))
            ),
            Decision::Allow
        );
        let other = "arn:aws:iam::111122223333:oidc-provider/elsewhere.example.com";
        for t in [
            trust(&format!(r#"{{"Federated":"{other}"}}"#)),
            trust(r#""*""#),
            trust(r#"{"AWS":"*"}"#),
            trust(r#"{"AWS":"111122223333"}"#),
        ] {
            assert_ne!(decide(PROVIDER, &t), Decision::Allow, "{t}");
        }
        // Identity-based policies never reach it: only the trust policy grants.
        let mut set = PolicySet::new();
        set.add(
            Policy::parse(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
                PolicyType::Identity,
            )
            .unwrap(),
        );
        let req = Request::new(PROVIDER, "sts:AssumeRoleWithWebIdentity", ROLE).unwrap();
        assert_ne!(set.evaluate(&req), Decision::Allow);
    }
}
