//! Public access, by IAM Access Analyzer's definition: an `Allow` statement whose principal is
//! everyone (`*`, or an `Allow` with `NotPrincipal`), or an AWS account outside the zone of trust,
//! for an action of the resource's service, with no condition that pins the caller down to known
//! accounts, organizations, networks or resources.

use super::statement::{Condition, PrincipalEntry, Statement};

/// Condition keys that limit who can use an access (lower case).
const PINNING_KEYS: &[&str] = &[
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceowner",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalservicename",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourceip",
    "aws:userid",
    "aws:username",
    "kms:calleraccount",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
    "lambda:eventsourcetoken",
    "cognito-identity.amazonaws.com:aud",
];

/// Whether a condition pins the caller: a pinning key, compared with a positive operator (not a
/// `Not…` one, not `…IfExists`, which a request without the key satisfies) to values that are not
/// wildcards (`StringLike` with `*` lets anyone through; an ARN pattern pins when its account does
/// not have one) nor the whole internet (`0.0.0.0/0`).
pub(crate) fn pins(c: &Condition) -> bool {
    let key = c.key.to_ascii_lowercase();
    if !PINNING_KEYS.contains(&key.as_str()) {
        return false;
    }
    let op = c.operator.to_ascii_lowercase();
    let base = op
        .strip_prefix("foranyvalue:")
        .or_else(|| op.strip_prefix("forallvalues:"))
        .unwrap_or(&op);
    // ForAllValues holds for a request without the key: it pins nothing.
    if op.starts_with("forallvalues:") || base.ends_with("ifexists") {
        return false;
    }
    let positive = matches!(
        base,
        "stringequals"
            | "stringequalsignorecase"
            | "stringlike"
            | "arnequals"
            | "arnlike"
            | "ipaddress"
    );
    if !positive || c.values.is_empty() {
        return false;
    }
    c.values.iter().all(|v| {
        if base == "ipaddress" {
            return !v.ends_with("/0");
        }
        if !v.contains('*') && !v.contains('?') {
            return true;
        }
        // An ARN pattern whose account is fixed names only that account's resources.
        let parts: Vec<&str> = v.splitn(6, ':').collect();
        parts.len() == 6
            && parts[0] == "arn"
            && !parts[4].is_empty()
            && !parts[4].contains(['*', '?'])
    })
}

/// Whether a statement allows everyone (`*` or `NotPrincipal`), and no condition pins the caller;
/// or lets in any user of a public web identity provider (`cognito-identity.amazonaws.com`,
/// `accounts.google.com`, `graph.facebook.com`, `www.amazon.com`: a `Federated` principal that is not
/// the account's own SAML or OIDC provider ARN) without a condition on the provider's `aud` or `sub`.
pub(crate) fn public_statement(s: &Statement) -> bool {
    let Some((principals, negated)) = &s.principals else {
        return false;
    };
    if !s.allow {
        return false;
    }
    let everyone = (*negated || principals.contains(&PrincipalEntry::Anyone))
        && !s.conditions.iter().any(pins);
    let web_identity = !*negated
        && principals.iter().any(|p| match p {
            PrincipalEntry::Federated(f) if !f.starts_with("arn:") => {
                !s.conditions.iter().any(|c| pins_identity(c, f))
            }
            _ => false,
        });
    everyone || web_identity
}

/// Whether a condition pins the users of web identity provider `provider` (its `aud`, `sub` or
/// `amr` compared positively with values that are not wildcards).
fn pins_identity(c: &Condition, provider: &str) -> bool {
    let key = c.key.to_ascii_lowercase();
    let wanted = [":aud", ":sub", ":oaud"]
        .iter()
        .any(|k| key == format!("{}{k}", provider.to_ascii_lowercase()));
    let op = c.operator.to_ascii_lowercase();
    let base = op.strip_prefix("foranyvalue:").unwrap_or(&op);
    wanted
        && !base.ends_with("ifexists")
        && matches!(
            base,
            "stringequals" | "stringlike" | "stringequalsignorecase"
        )
        && !c.values.is_empty()
        && c.values.iter().all(|v| !v.contains(['*', '?']))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(op: &str, key: &str, v: &[&str]) -> Condition {
        Condition {
            operator: op.into(),
            key: key.into(),
            values: v.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn what_pins_and_what_does_not() {
        assert!(pins(&c(
            "StringEquals",
            "aws:SourceAccount",
            &["111122223333"]
        )));
        assert!(pins(&c(
            "StringEquals",
            "AWS:PrincipalOrgID",
            &["o-a1b2c3d4e5"]
        )));
        assert!(pins(&c(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:sns:us-east-1:111122223333:*"]
        )));
        assert!(pins(&c("IpAddress", "aws:SourceIp", &["203.0.113.0/24"])));
        assert!(pins(&c(
            "ForAnyValue:StringEquals",
            "aws:PrincipalOrgPaths",
            &["o-a/r-b/ou-c/"]
        )));
        assert!(!pins(&c(
            "StringEqualsIfExists",
            "aws:SourceAccount",
            &["111122223333"]
        )));
        assert!(!pins(&c("StringLike", "aws:PrincipalOrgID", &["*"])));
        assert!(!pins(&c("StringLike", "aws:SourceVpce", &["vpce-*"])));
        assert!(!pins(&c(
            "ArnLike",
            "aws:SourceArn",
            &["arn:aws:sns:us-east-1:*:topic"]
        )));
        assert!(!pins(&c(
            "StringNotEquals",
            "aws:SourceAccount",
            &["111122223333"]
        )));
        assert!(!pins(&c("IpAddress", "aws:SourceIp", &["0.0.0.0/0"])));
        assert!(!pins(&c("Bool", "aws:SecureTransport", &["true"])));
        assert!(!pins(&c(
            "ForAllValues:StringEquals",
            "aws:PrincipalOrgID",
            &["o-1"]
        )));
    }
}
