//! Access advisor, as IAM's console shows it, from the sidecar's decision log: per principal and
//! service, when it was last accessed and which actions were used; with the account's policies, also
//! what is granted and was never used in the window — the input for tightening a policy — and a
//! least-privilege policy covering what was actually allowed.
//!
//! Role sessions count towards their role. "Accessed" means the engine decided a request of the
//! principal (an authenticated, mapped request), allowed or denied, as AWS counts attempts; "used"
//! actions are the allowed ones.

use chrono::{DateTime, Utc};
use iamlet_decision_log::LoggedDecision;
use iamlet_engine::{Principal, PrincipalKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One service of one principal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceUse {
    /// The service prefix (`s3`).
    pub service: String,
    /// The last decided request on the service, allowed or not.
    pub last_accessed: Option<DateTime<Utc>>,
    /// Decided requests in the window.
    pub requests: usize,
    /// Of which allowed.
    pub allowed: usize,
    /// Actions allowed at least once.
    pub actions_used: BTreeSet<String>,
    /// Actions the policies grant (known only with the account's policies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted: Option<BTreeSet<String>>,
    /// Granted actions never used in the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub granted_unused: Option<BTreeSet<String>>,
}

/// One principal (a role stands for its sessions).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrincipalUse {
    /// The user or role ARN (a role without its path, as session ARNs name it).
    pub principal: String,
    /// A principal ARN as logged (for a role, one of its sessions): what the policies resolve for.
    pub logged_as: String,
    /// Per service, sorted by prefix.
    pub services: Vec<ServiceUse>,
    /// For each used action, the resources it was allowed on.
    pub resources: BTreeMap<String, BTreeSet<String>>,
}

/// Who a logged principal counts as: a role for its sessions, itself otherwise.
pub fn entity(principal: &str) -> String {
    match Principal::parse(principal) {
        Ok(p) if p.kind() == PrincipalKind::AssumedRole => p.principal_arn().to_owned(),
        _ => principal.to_owned(),
    }
}

fn service_of(action: &str) -> &str {
    action.split_once(':').map_or(action, |(s, _)| s)
}

/// Aggregates the records decided at or after `since` (all when `None`), for one principal (as
/// [`entity`] counts them) or all. `grants` gives the actions a logged principal's policies grant,
/// when they are known.
pub fn build(
    records: &[LoggedDecision],
    since: Option<DateTime<Utc>>,
    only: Option<&str>,
    grants: &mut dyn FnMut(&str) -> Option<BTreeSet<String>>,
) -> Vec<PrincipalUse> {
    let only = only.map(entity);
    let mut by: BTreeMap<String, (PrincipalUse, BTreeMap<String, ServiceUse>)> = BTreeMap::new();
    for r in records {
        let (Some(principal), Some(action)) = (&r.principal, &r.action) else {
            continue;
        };
        if !r.is_decision() || since.is_some_and(|s| r.event_time < s) {
            continue;
        }
        let key = entity(principal);
        if only.as_ref().is_some_and(|o| *o != key) {
            continue;
        }
        let (p, services) = by.entry(key.clone()).or_insert_with(|| {
            (
                PrincipalUse {
                    principal: key,
                    logged_as: principal.clone(),
                    ..PrincipalUse::default()
                },
                BTreeMap::new(),
            )
        });
        let service = service_of(action);
        let s = services
            .entry(service.to_owned())
            .or_insert_with(|| ServiceUse {
                service: service.to_owned(),
                ..ServiceUse::default()
            });
        s.requests += 1;
        if s.last_accessed.is_none_or(|t| t < r.event_time) {
            s.last_accessed = Some(r.event_time);
        }
        if r.decision == "Allow" {
            s.allowed += 1;
            s.actions_used.insert(action.clone());
            if let Some(res) = &r.resource {
                p.resources
                    .entry(action.clone())
                    .or_default()
                    .insert(res.clone());
            }
        }
    }
    by.into_values()
        .map(|(mut p, mut services)| {
            if let Some(granted) = grants(&p.logged_as) {
                for action in &granted {
                    let service = service_of(action);
                    services
                        .entry(service.to_owned())
                        .or_insert_with(|| ServiceUse {
                            service: service.to_owned(),
                            ..ServiceUse::default()
                        })
                        .granted
                        .get_or_insert_with(BTreeSet::new)
                        .insert(action.clone());
                }
                for s in services.values_mut() {
                    let g = s.granted.get_or_insert_with(BTreeSet::new);
                    // Case-insensitive: the log has actions as routes name them.
                    let used: BTreeSet<String> = s
                        .actions_used
                        .iter()
                        .map(|a| a.to_ascii_lowercase())
                        .collect();
                    s.granted_unused = Some(
                        g.iter()
                            .filter(|a| !used.contains(&a.to_ascii_lowercase()))
                            .cloned()
                            .collect(),
                    );
                }
            }
            p.services = services.into_values().collect();
            p
        })
        .collect()
}

/// A least-privilege identity policy for what the principal was allowed to do: one statement per
/// service, its used actions on the resources they were used on.
pub fn suggest(p: &PrincipalUse) -> serde_json::Value {
    let mut statements = Vec::new();
    for s in &p.services {
        if s.actions_used.is_empty() {
            continue;
        }
        let used: BTreeSet<String> = s
            .actions_used
            .iter()
            .filter_map(|a| p.resources.get(a))
            .flatten()
            .cloned()
            .collect();
        let resources = resource_patterns(used);
        let sid: String = s
            .service
            .split(['-', '.'])
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        statements.push(serde_json::json!({
            "Sid": format!("Used{sid}"),
            "Effect": "Allow",
            "Action": s.actions_used,
            "Resource": resources,
        }));
    }
    serde_json::json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Most resources a suggested statement lists one by one; beyond, their common prefix and `*`.
const MAX_RESOURCES: usize = 10;

/// The resources of a suggested statement: as used, or, when there are many, their longest common
/// prefix followed by `*` (never shorter than `arn:PARTITION:SERVICE:`, so a service's actions never
/// spill into another's resources); `*` when none was logged.
fn resource_patterns(used: BTreeSet<String>) -> Vec<String> {
    if used.is_empty() {
        return vec!["*".to_owned()];
    }
    if used.len() <= MAX_RESOURCES {
        return used.into_iter().collect();
    }
    let first = used.first().cloned().unwrap_or_default();
    let last = used.last().cloned().unwrap_or_default();
    // In sorted order, the common prefix of all is that of the first and the last.
    let common: usize = first
        .char_indices()
        .zip(last.chars())
        .take_while(|((_, a), b)| a == b)
        .map(|((i, a), _)| i + a.len_utf8())
        .last()
        .unwrap_or(0);
    let floor = first.match_indices(':').nth(2).map_or(0, |(i, _)| i + 1);
    if common < floor {
        return used.into_iter().collect();
    }
    vec![format!("{}*", &first[..common])]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(
        t: &str,
        principal: &str,
        action: &str,
        resource: &str,
        decision: &str,
    ) -> LoggedDecision {
        LoggedDecision {
            event_time: t.parse().unwrap(),
            principal: Some(principal.to_owned()),
            access_key_id: None,
            action: Some(action.to_owned()),
            resource: Some(resource.to_owned()),
            region: None,
            decision: decision.to_owned(),
        }
    }

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
    const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/deploy/ci-42";

    fn log() -> Vec<LoggedDecision> {
        vec![
            rec(
                "2026-11-01T10:00:00Z",
                ALICE,
                "s3:GetObject",
                "arn:aws:s3:::b/a",
                "Allow",
            ),
            rec(
                "2026-11-20T10:00:00Z",
                ALICE,
                "s3:GetObject",
                "arn:aws:s3:::b/c",
                "Allow",
            ),
            rec(
                "2026-11-21T10:00:00Z",
                ALICE,
                "s3:DeleteObject",
                "arn:aws:s3:::b/c",
                "ImplicitDeny",
            ),
            rec(
                "2026-11-22T10:00:00Z",
                ALICE,
                "ec2:DescribeInstances",
                "*",
                "Allow",
            ),
            rec(
                "2026-11-22T11:00:00Z",
                SESSION,
                "s3:PutObject",
                "arn:aws:s3:::artifacts/x",
                "Allow",
            ),
            rec(
                "2026-11-22T12:00:00Z",
                ALICE,
                "s3:GetObject",
                "arn:aws:s3:::b/z",
                "Unmapped",
            ),
        ]
    }

    #[test]
    fn services_last_accessed_and_used_actions_per_principal() {
        let report = build(&log(), None, None, &mut |_| None);
        assert_eq!(report.len(), 2);
        let alice = report.iter().find(|p| p.principal == ALICE).unwrap();
        let s3 = &alice.services.iter().find(|s| s.service == "s3").unwrap();
        assert_eq!(s3.requests, 3);
        assert_eq!(s3.allowed, 2);
        assert_eq!(
            s3.last_accessed.unwrap().to_rfc3339(),
            "2026-11-21T10:00:00+00:00"
        );
        assert_eq!(
            s3.actions_used.iter().collect::<Vec<_>>(),
            vec!["s3:GetObject"]
        );
        assert!(s3.granted.is_none());
        let role = report
            .iter()
            .find(|p| p.principal == "arn:aws:iam::111122223333:role/deploy")
            .unwrap();
        assert_eq!(role.logged_as, SESSION);
        // A window and one principal.
        let recent = build(
            &log(),
            Some("2026-11-21T00:00:00Z".parse().unwrap()),
            Some(ALICE),
            &mut |_| None,
        );
        assert_eq!(recent.len(), 1);
        assert_eq!(
            recent[0].services.iter().map(|s| s.requests).sum::<usize>(),
            2
        );
    }

    #[test]
    fn many_resources_collapse_to_their_common_prefix() {
        let many: BTreeSet<String> = (0..12)
            .map(|i| format!("arn:aws:s3:::artifacts/releases/{i}.tar.gz"))
            .collect();
        assert_eq!(
            resource_patterns(many),
            vec!["arn:aws:s3:::artifacts/releases/*"]
        );
        let mixed: BTreeSet<String> = (0..12)
            .map(|i| format!("arn:aws:s3:::bucket-{i}"))
            .chain(["arn:aws:sqs:us-east-1:1:q".to_owned()])
            .collect();
        assert_eq!(
            resource_patterns(mixed.clone()).len(),
            13,
            "no common service prefix"
        );
        assert_eq!(resource_patterns(BTreeSet::new()), vec!["*"]);
    }

    #[test]
    fn granted_but_unused_and_a_suggested_policy() {
        let report = build(&log(), None, Some(ALICE), &mut |p| {
            assert_eq!(p, ALICE);
            Some(
                [
                    "s3:GetObject",
                    "s3:DeleteObject",
                    "s3:PutObject",
                    "iam:GetUser",
                    "ec2:DescribeInstances",
                ]
                .map(str::to_owned)
                .into(),
            )
        });
        let alice = &report[0];
        let services: Vec<&str> = alice.services.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(services, vec!["ec2", "iam", "s3"]);
        let unused = |svc: &str| {
            alice
                .services
                .iter()
                .find(|s| s.service == svc)
                .unwrap()
                .granted_unused
                .clone()
                .unwrap()
        };
        assert_eq!(
            unused("s3"),
            ["s3:DeleteObject", "s3:PutObject"]
                .map(str::to_owned)
                .into()
        );
        assert_eq!(unused("iam"), ["iam:GetUser"].map(str::to_owned).into());
        assert!(unused("ec2").is_empty());
        let policy = suggest(alice);
        assert_eq!(
            policy["Statement"],
            serde_json::json!([
                {"Sid": "UsedEc2", "Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": ["*"]},
                {"Sid": "UsedS3", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/a", "arn:aws:s3:::b/c"]}
            ])
        );
    }
}
