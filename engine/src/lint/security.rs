//! Security warnings: statements that grant more than they probably mean to.

use super::doc::{Doc, Stmt};
use super::{Finding, Severity};
use crate::catalog::{AccessLevel, Catalog};
use crate::pattern::Pattern;
use crate::policy::PolicyType;

pub(super) fn check(doc: &Doc, catalog: &Catalog, policy_type: PolicyType, out: &mut Vec<Finding>) {
    for s in doc
        .statements
        .iter()
        .filter(|s| s.effect.as_deref() == Some("Allow"))
    {
        // SCPs and RCPs use `Allow` with `NotAction` as a filter, not as a grant.
        let grants = !matches!(policy_type, PolicyType::Scp | PolicyType::Rcp);
        if grants {
            not_elements(s, out);
            pass_role(s, out);
            wildcards(s, catalog, out);
        }
        if let Some(loc) = s.public_principal.filter(|_| !s.has_condition) {
            out.push(Finding {
                severity: Severity::SecurityWarning,
                code: "public_principal_without_condition".into(),
                message: "`Principal` `*` with no `Condition` allows anyone, in any account, including anonymous callers".into(),
                path: format!("{}.Principal", s.path),
                location: Some(loc),
                fix: Some("name the accounts or roles, or add a condition such as `aws:PrincipalOrgID` or `aws:SourceArn`".into()),
            });
        }
    }
}

fn not_elements(s: &Stmt, out: &mut Vec<Finding>) {
    for (list, code, what) in [
        (
            &s.action,
            "allow_with_not_action",
            "every action except those listed, in every service, including actions AWS adds later",
        ),
        (
            &s.resource,
            "allow_with_not_resource",
            "every resource except those listed",
        ),
    ] {
        if let Some(l) = list.as_ref().filter(|l| l.negated) {
            let element = if code == "allow_with_not_action" {
                "NotAction"
            } else {
                "NotResource"
            };
            out.push(Finding {
                severity: Severity::SecurityWarning,
                code: code.into(),
                message: format!("`Allow` with `{element}` grants {what}"),
                path: l.path.clone(),
                location: Some(l.location),
                fix: Some(format!(
                    "list what to allow in `{}`, or use `Deny` with `{element}`",
                    element.trim_start_matches("Not")
                )),
            });
        }
    }
}

fn pass_role(s: &Stmt, out: &mut Vec<Finding>) {
    let Some(actions) = s.action.as_ref().filter(|a| !a.negated) else {
        return;
    };
    let passes = actions
        .items
        .iter()
        .any(|a| Pattern::new(&a.text.to_ascii_lowercase()).matches("iam:passrole"));
    if !passes {
        return;
    }
    let Some(resources) = s.resource.as_ref().filter(|r| !r.negated) else {
        return;
    };
    for r in resources.items.iter().filter(|r| r.text == "*") {
        out.push(Finding {
            severity: Severity::SecurityWarning,
            code: "pass_role_with_star".into(),
            message: "`iam:PassRole` on `*` lets the principal pass any role, and so gain its permissions, to any service".into(),
            path: r.path.clone(),
            location: Some(r.location),
            fix: Some("name the role ARNs, and restrict `iam:PassedToService`".into()),
        });
    }
}

fn wildcards(s: &Stmt, catalog: &Catalog, out: &mut Vec<Finding>) {
    let Some(actions) = s.action.as_ref().filter(|a| !a.negated) else {
        return;
    };
    for a in actions.items.iter().filter(|a| a.text.contains(['*', '?'])) {
        let matched = catalog.expand(&a.text);
        let sensitive: Vec<&String> = matched
            .iter()
            .filter(|full| {
                full.split_once(':')
                    .and_then(|(p, n)| catalog.service(p)?.action(n))
                    .is_some_and(|x| x.level() == AccessLevel::PermissionsManagement)
            })
            .collect();
        if sensitive.is_empty() {
            continue;
        }
        let examples: Vec<&str> = sensitive.iter().take(3).map(|s| s.as_str()).collect();
        out.push(Finding {
            severity: Severity::SecurityWarning,
            code: "wildcard_grants_permissions_management".into(),
            message: format!(
                "`{}` grants {} permissions-management actions ({}{})",
                a.text,
                sensitive.len(),
                examples.join(", "),
                if sensitive.len() > examples.len() {
                    ", …"
                } else {
                    ""
                }
            ),
            path: a.path.clone(),
            location: Some(a.location),
            fix: Some("list the actions needed instead of a wildcard".into()),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::tests::{codes, find};
    use crate::PolicyType::{Identity, Resource, Scp};

    fn stmt(body: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",{body}}}]}}"#)
    }

    #[test]
    fn pass_role_on_star() {
        let p = stmt(r#""Action":["iam:PassRole"],"Resource":"*""#);
        let f = find(&p, Identity, "pass_role_with_star");
        assert_eq!(f.map(|f| f.path), Some("Statement[0].Resource".to_owned()));
        let scoped =
            stmt(r#""Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/app""#);
        assert_eq!(codes(&scoped, Identity), Vec::<String>::new());
    }

    #[test]
    fn allow_with_not_elements() {
        let p = stmt(r#""NotAction":"iam:*","NotResource":"arn:aws:s3:::b""#);
        let c = codes(&p, Identity);
        assert!(c.contains(&"allow_with_not_action".to_owned()), "{c:?}");
        assert!(c.contains(&"allow_with_not_resource".to_owned()), "{c:?}");
        // In an SCP, Allow+NotAction filters what member accounts may use: no finding.
        assert_eq!(codes(&p, Scp), Vec::<String>::new());
    }

    #[cfg(feature = "catalog")]
    #[test]
    fn wildcards_granting_permissions_management() {
        let p = stmt(r#""Action":"iam:*","Resource":"*""#);
        let f = find(&p, Identity, "wildcard_grants_permissions_management");
        assert!(
            f.is_some_and(|f| f.message.starts_with("`iam:*` grants ")),
            "message"
        );
        let reads = stmt(r#""Action":"s3:Get*","Resource":"*""#);
        assert_eq!(codes(&reads, Identity), Vec::<String>::new());
    }

    #[test]
    fn public_principal() {
        let p = stmt(r#""Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*""#);
        assert_eq!(
            codes(&p, Resource),
            vec!["public_principal_without_condition"]
        );
        let aws = stmt(
            r#""Principal":{"AWS":["*"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*""#,
        );
        assert_eq!(
            codes(&aws, Resource),
            vec!["public_principal_without_condition"]
        );
        let conditioned = stmt(
            r#""Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#,
        );
        assert_eq!(codes(&conditioned, Resource), Vec::<String>::new());
    }
}
