//! Resources and actions that can never meet: a `Resource` entry whose ARN is no resource type any of
//! the statement's actions acts on (the statement never applies to it), and an action that acts on
//! none of the statement's resources, such as one that supports no resource-level permissions (only
//! `"Resource": "*"` applies to it) beside specific ARNs.
//!
//! An ARN matches a resource type when the two can describe a common ARN: component by component
//! (partition, service, region, account, resource), the entry's wildcards and policy variables
//! against the type's `${…}` placeholders (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`).
//! Both are patterns, so the check is an intersection, and a finding means there is no such ARN.

use super::doc::{Doc, List, Text};
use super::{finding, Finding, Severity};
use crate::catalog::{Action, Catalog, Service};
use crate::pattern::intersects;
use std::collections::HashMap;

pub(super) fn check(doc: &Doc, catalog: &Catalog, out: &mut Vec<Finding>) {
    for s in &doc.statements {
        let (Some(actions), Some(resources)) = (&s.action, &s.resource) else {
            continue;
        };
        if actions.negated || resources.negated {
            continue;
        }
        statement(actions, resources, catalog, out);
    }
}

/// `${aws:username}` and the like stand for any text.
fn as_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        match rest[i..].find('}') {
            Some(j) => {
                out.push('*');
                rest = &rest[i + j + 1..];
            }
            None => {
                rest = &rest[i..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether an ARN pattern and a resource type's ARN format can describe a common ARN.
fn arn_meets(resource: &str, format: &str) -> bool {
    let r: Vec<&str> = resource.splitn(6, ':').collect();
    let f = as_pattern(format);
    let f: Vec<&str> = f.splitn(6, ':').collect();
    if r.len() != 6 || f.len() != 6 {
        // Not an ARN: the grammar's checks speak about it.
        return true;
    }
    r.iter().zip(&f).all(|(a, b)| intersects(a, b))
}

struct Concrete<'c> {
    service: &'c Service,
    action: &'c Action,
}

fn statement(actions: &List, resources: &List, catalog: &Catalog, out: &mut Vec<Finding>) {
    if resources.items.iter().any(|r| r.text == "*") {
        return;
    }
    // Each action pattern with the catalog's actions it matches (unknown ones are reported
    // elsewhere) and whether it names its service outright.
    let mut patterns: Vec<(&Text, Vec<Concrete<'_>>, bool)> = Vec::new();
    for a in &actions.items {
        let concrete: Vec<Concrete<'_>> = catalog
            .expand(&a.text)
            .iter()
            .filter_map(|full| {
                let (svc, name) = full.split_once(':')?;
                let service = catalog.service(svc)?;
                Some(Concrete {
                    service,
                    action: service.action(name)?,
                })
            })
            .collect();
        let named_service = a
            .text
            .split_once(':')
            .is_some_and(|(svc, _)| !svc.contains(['*', '?']));
        patterns.push((a, concrete, named_service));
    }
    if patterns.iter().all(|(_, c, _)| c.is_empty()) {
        return;
    }
    let resources: Vec<(&Text, String)> = resources
        .items
        .iter()
        .map(|r| (r, as_pattern(&r.text)))
        .collect();
    let mut memo = HashMap::new();
    let mut resource_used = vec![false; resources.len()];
    for (a, concrete, named_service) in &patterns {
        let mut acts = false;
        for c in concrete {
            for (ri, used) in resource_used.iter_mut().enumerate() {
                if meets(&mut memo, &resources, ri, c) {
                    *used = true;
                    acts = true;
                }
            }
        }
        if acts || concrete.is_empty() || !named_service {
            continue;
        }
        let star_only = concrete
            .iter()
            .all(|c| c.action.resource_types().is_empty());
        let (code, message, fix) = if star_only {
            (
                "action_requires_star_resource",
                format!(
                    "`{}` supports no resource-level permissions: only `\"Resource\": \"*\"` applies to it, so this statement never does",
                    a.text
                ),
                "move it to a statement with \"Resource\": \"*\"".to_owned(),
            )
        } else {
            (
                "action_matches_no_resource",
                format!(
                    "`{}` acts on none of the statement's resources (it acts on {})",
                    a.text,
                    formats(concrete.iter())
                ),
                "name a resource of that form, or move the action to a statement that does"
                    .to_owned(),
            )
        };
        out.push(finding(Severity::Error, code, a, message, fix));
    }
    let all_concrete: Vec<&Concrete<'_>> = patterns.iter().flat_map(|(_, c, _)| c).collect();
    for ((r, _), used) in resources.iter().zip(resource_used) {
        if used {
            continue;
        }
        out.push(finding(
            Severity::Error,
            "resource_matches_no_action",
            r,
            format!(
                "`{}` is no resource that the statement's actions act on (they act on {})",
                r.text,
                formats(all_concrete.iter().copied())
            ),
            "use an ARN of one of those forms, or \"*\" for actions without resource-level permissions"
                .to_owned(),
        ));
    }
}

/// Whether an action acts on the `ri`th resource; `memo` keeps (resource, service, type) answers.
fn meets<'c>(
    memo: &mut HashMap<(usize, &'c str, u16), bool>,
    resources: &[(&Text, String)],
    ri: usize,
    c: &Concrete<'c>,
) -> bool {
    c.action.resource_types().iter().any(|&t| {
        *memo.entry((ri, c.service.prefix(), t)).or_insert_with(|| {
            c.service
                .resource_types()
                .get(usize::from(t))
                .is_none_or(|rt| {
                    resources
                        .get(ri)
                        .is_none_or(|(_, pattern)| arn_meets(pattern, rt.arn()))
                })
        })
    })
}

/// Up to three ARN formats the actions act on, for messages.
fn formats<'c>(actions: impl Iterator<Item = &'c Concrete<'c>>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    let mut star = false;
    for c in actions {
        if c.action.resource_types().is_empty() {
            star = true;
        }
        for &t in c.action.resource_types() {
            if let Some(rt) = c.service.resource_types().get(usize::from(t)) {
                if !seen.contains(&rt.arn()) {
                    seen.push(rt.arn());
                }
            }
        }
    }
    let mut parts: Vec<String> = seen.iter().take(3).map(|f| format!("`{f}`")).collect();
    if seen.len() > 3 {
        parts.push(format!("{} more forms", seen.len() - 3));
    }
    if star {
        parts.push("`*` only".to_owned());
    }
    parts.join(", ")
}

#[cfg(all(test, feature = "catalog"))]
mod tests {
    use crate::lint::tests::{codes, find};
    use crate::policy::PolicyType;

    fn policy(action: &str, resource: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{action},"Resource":{resource}}}]}}"#
        )
    }

    #[test]
    fn resources_of_another_type_or_service_are_errors() {
        // An object action on a bucket ARN, and on an EC2 instance.
        let t = policy(
            r#""s3:GetObject""#,
            r#"["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]"#,
        );
        let f = find(&t, PolicyType::Identity, "resource_matches_no_action")
            .unwrap_or_else(|| panic!("{:?}", codes(&t, PolicyType::Identity)));
        assert_eq!(f.path, "Statement[0].Resource[0]");
        assert!(
            f.message
                .contains("arn:${Partition}:s3:::${BucketName}/${ObjectName}"),
            "{}",
            f.message
        );
        assert_eq!(
            codes(&t, PolicyType::Identity),
            vec!["resource_matches_no_action"]
        );
        let ec2 = policy(
            r#""s3:GetObject""#,
            r#""arn:aws:ec2:us-east-1:111122223333:instance/*""#,
        );
        let c = codes(&ec2, PolicyType::Identity);
        assert!(
            c.contains(&"resource_matches_no_action".to_owned()),
            "{c:?}"
        );
        assert!(
            c.contains(&"action_matches_no_resource".to_owned()),
            "{c:?}"
        );
    }

    #[test]
    fn star_only_actions_beside_arns_and_what_is_fine() {
        let t = policy(
            r#"["s3:ListAllMyBuckets", "s3:GetObject"]"#,
            r#""arn:aws:s3:::bucket/*""#,
        );
        let f = find(&t, PolicyType::Identity, "action_requires_star_resource")
            .unwrap_or_else(|| panic!("{:?}", codes(&t, PolicyType::Identity)));
        assert_eq!(f.path, "Statement[0].Action[0]");
        for fine in [
            policy(r#""s3:*""#, r#""arn:aws:s3:::bucket/${aws:username}/*""#),
            policy(r#""s3:ListAllMyBuckets""#, r#""*""#),
            policy(r#""*""#, r#""arn:aws:s3:::bucket""#),
            policy(r#""ec2:StartInstances""#, r#""arn:aws:ec2:*:*:instance/*""#),
            policy(
                r#"["s3:GetObject", "s3:ListBucket"]"#,
                r#"["arn:aws:s3:::b", "arn:aws:s3:::b/*"]"#,
            ),
        ] {
            let c = codes(&fine, PolicyType::Identity);
            assert!(
                !c.iter()
                    .any(|c| c.contains("resource") && c != "redundant_action"),
                "{fine}: {c:?}"
            );
        }
    }
}
