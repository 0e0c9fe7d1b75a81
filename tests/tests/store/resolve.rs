//! Resolution from examples/account.json and examples/organization.json: users through their
//! groups, boundaries, tags, roles, role sessions, federated users, trust policies, SCPs and RCPs.

use super::{arn, example, temp_dir};
use iamlet_engine::{ContextMap, Decision};
use iamlet_store::{LoadError, Query, Store, StoreConfig, StoreError};

async fn store(with_org: bool) -> Store {
    let mut config = StoreConfig::path(example("account.json"));
    if with_org {
        config = config.with_organization_path(example("organization.json"));
    }
    Store::open(config).await.unwrap()
}

fn ctx(pairs: &[(&str, &str)]) -> ContextMap {
    let mut c = ContextMap::new();
    for (k, v) in pairs {
        c.insert(k, *v);
    }
    c
}

async fn decide(
    store: &Store,
    principal: &str,
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> Decision {
    let q = Query {
        principal: principal.to_owned(),
        action: action.to_owned(),
        resource: resource.to_owned(),
        context: ctx(context),
        ..Query::default()
    };
    store.prepare(q).await.unwrap().evaluate()
}

const BUCKET: &str = "arn:aws:s3:::amzn-s3-demo-bucket";

#[tokio::test]
async fn a_user_gets_her_inline_policy_and_those_of_both_groups() {
    let s = store(false).await;
    let alice = arn("user/alice");
    let r = s.resolve(&alice, None).await.unwrap();
    assert_eq!(
        r.summary().policies,
        [
            "user/alice:inline/s3-home",
            "arn:aws:iam::111122223333:policy/DeveloperAccess",
            "group/oncall:inline/reboot-own-team"
        ]
    );
    assert_eq!(r.summary().groups.len(), 2);
    // Her inline policy, through ${aws:username}.
    let home = format!("{BUCKET}/home/alice/notes.txt");
    assert_eq!(
        decide(&s, &alice, "s3:GetObject", &home, &[]).await,
        Decision::Allow
    );
    let other = format!("{BUCKET}/home/bob/notes.txt");
    assert_eq!(
        decide(&s, &alice, "s3:GetObject", &other, &[]).await,
        Decision::ImplicitDeny
    );
    // The developers group's managed policy: its default version (v2), not v1's ec2:*.
    let instance = "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc";
    assert_eq!(
        decide(&s, &alice, "ec2:DescribeInstances", "*", &[]).await,
        Decision::Allow
    );
    assert_eq!(
        decide(&s, &alice, "ec2:TerminateInstances", instance, &[]).await,
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(
            &s,
            &alice,
            "s3:ListBucket",
            BUCKET,
            &[("s3:prefix", "home/alice/")]
        )
        .await,
        Decision::Allow
    );
    // The oncall group's inline policy compares the instance's tag with her tag.
    assert_eq!(
        decide(
            &s,
            &alice,
            "ec2:RebootInstances",
            instance,
            &[("aws:ResourceTag/team", "payments")]
        )
        .await,
        Decision::Allow
    );
    assert_eq!(
        decide(
            &s,
            &alice,
            "ec2:RebootInstances",
            instance,
            &[("aws:ResourceTag/team", "search")]
        )
        .await,
        Decision::ImplicitDeny
    );
}

#[tokio::test]
async fn stored_tags_cannot_be_overridden_by_a_user_request() {
    let s = store(false).await;
    let instance = "arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc";
    let d = decide(
        &s,
        &arn("user/alice"),
        "ec2:RebootInstances",
        instance,
        &[
            ("aws:ResourceTag/team", "search"),
            ("aws:PrincipalTag/team", "search"),
        ],
    )
    .await;
    assert_eq!(d, Decision::ImplicitDeny);
}

#[tokio::test]
async fn a_boundary_caps_an_administrator() {
    let s = store(false).await;
    let bob = arn("user/bob");
    let r = s.resolve(&bob, None).await.unwrap();
    assert_eq!(
        r.summary().boundary.as_deref(),
        Some("arn:aws:iam::111122223333:policy/boundaries/AdminBoundary")
    );
    assert_eq!(
        decide(&s, &bob, "s3:DeleteBucket", BUCKET, &[]).await,
        Decision::Allow
    );
    assert_eq!(
        decide(&s, &bob, "iam:CreateUser", &arn("user/mallory"), &[]).await,
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(&s, &bob, "iam:GetUser", &arn("user/alice"), &[]).await,
        Decision::Allow
    );
}

#[tokio::test]
async fn a_group_deny_wins_over_a_group_allow() {
    let s = store(false).await;
    // carol has a path: her ARN carries it.
    let carol = arn("user/audit/carol");
    assert_eq!(
        decide(
            &s,
            &carol,
            "s3:GetObject",
            &format!("{BUCKET}/home/alice/x"),
            &[]
        )
        .await,
        Decision::Allow
    );
    assert_eq!(
        decide(&s, &carol, "kms:Decrypt", "*", &[]).await,
        Decision::ExplicitDeny
    );
    assert!(matches!(
        s.resolve(&arn("user/carol"), None).await,
        Err(StoreError::UnknownPrincipal(_))
    ));
}

#[tokio::test]
async fn role_sessions_resolve_through_their_role_with_its_path() {
    let s = store(false).await;
    let session = "arn:aws:sts::111122223333:assumed-role/ci-deploy/build-42";
    let r = s.resolve(session, None).await.unwrap();
    let role_arn = arn("role/service-role/ci-deploy");
    assert_eq!(r.session_issuer(), Some(role_arn.as_str()));
    assert_eq!(r.summary().entity, role_arn);
    let q = Query {
        principal: session.into(),
        action: "s3:PutObject".into(),
        resource: format!("{BUCKET}/artifacts/app.zip"),
        ..Query::default()
    };
    let p = s.prepare(q).await.unwrap();
    assert_eq!(p.request().principal().principal_arn(), role_arn);
    let userid = p
        .request()
        .context()
        .get("aws:userid")
        .unwrap()
        .values()
        .to_vec();
    assert_eq!(userid, ["AROACIDEPLOYEXAMPLE1:build-42"]);
    assert_eq!(p.evaluate(), Decision::Allow);
    // Another session of the role shares the compiled entry.
    let before = s.cache_stats().fetches;
    s.resolve(
        "arn:aws:sts::111122223333:assumed-role/ci-deploy/build-43",
        None,
    )
    .await
    .unwrap();
    assert_eq!(s.cache_stats().fetches, before);
    // The role itself, used directly.
    assert!(s.resolve(&role_arn, None).await.is_ok());
    assert!(matches!(
        s.resolve("arn:aws:sts::111122223333:assumed-role/nope/s", None)
            .await,
        Err(StoreError::UnknownPrincipal(_))
    ));
}

#[tokio::test]
async fn session_tags_in_the_request_override_the_roles_tags() {
    let s = store(false).await;
    let session = "arn:aws:sts::111122223333:assumed-role/ci-deploy/build-42";
    let r = s.resolve(session, None).await.unwrap();
    let req = r
        .request(
            session,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            ctx(&[("aws:PrincipalTag/team", "search")]),
        )
        .unwrap();
    assert_eq!(
        req.context().get("aws:PrincipalTag/team").unwrap().values(),
        ["search"]
    );
    assert_eq!(
        req.context()
            .get("aws:PrincipalTag/purpose")
            .unwrap()
            .values(),
        ["ci"]
    );
}

#[tokio::test]
async fn trust_policies_decide_assume_role() {
    let s = store(false).await;
    let ci = arn("role/service-role/ci-deploy");
    // The trust policy came URL-encoded, as the IAM API returns documents.
    assert_eq!(
        decide(
            &s,
            "codebuild.amazonaws.com",
            "sts:AssumeRole",
            &ci,
            &[("aws:SourceAccount", "111122223333")]
        )
        .await,
        Decision::Allow
    );
    assert_eq!(
        decide(
            &s,
            "codebuild.amazonaws.com",
            "sts:AssumeRole",
            &ci,
            &[("aws:SourceAccount", "444455556666")]
        )
        .await,
        Decision::ImplicitDeny
    );
    let glass = arn("role/break-glass");
    let bob = arn("user/bob");
    assert_eq!(
        decide(
            &s,
            &bob,
            "sts:AssumeRole",
            &glass,
            &[("aws:MultiFactorAuthPresent", "true")]
        )
        .await,
        Decision::Allow
    );
    assert_eq!(
        decide(
            &s,
            &bob,
            "sts:AssumeRole",
            &glass,
            &[("aws:MultiFactorAuthPresent", "false")]
        )
        .await,
        Decision::ImplicitDeny
    );
}

/// Found by the security review: a role named by another path, another partition or without its
/// path found no trust policy, so bob's identity policies alone let him become break-glass without
/// MFA. A role is found by its exact ARN only, and an `sts:` action on a role whose trust policy is
/// not known is denied.
#[tokio::test]
async fn a_role_is_found_by_its_exact_arn_and_never_assumed_without_its_trust_policy() {
    let s = store(true).await;
    let bob = arn("user/bob");
    for (role, found) in [
        (arn("role/break-glass"), true),
        (arn("role/service-role/ci-deploy"), true),
        (arn("role/anything/break-glass"), false),
        (arn("role/ci-deploy"), false),
        (arn("role/service-role/other/ci-deploy"), false),
        (
            "arn:aws-cn:iam::111122223333:role/break-glass".to_owned(),
            false,
        ),
        (
            "arn:aws:iam::444455556666:role/break-glass".to_owned(),
            false,
        ),
        (arn("user/bob"), false),
    ] {
        match s.role(&role).await {
            Ok(r) => {
                assert!(found, "{role} was found");
                assert_eq!(r.entity(), role);
                assert!(r.trust_policy().is_some());
            }
            Err(StoreError::UnknownPrincipal(p)) => {
                assert!(!found, "{role} was not found");
                assert_eq!(p, role);
            }
            Err(e) => panic!("{role}: {e}"),
        }
        if !found && role.contains(":role/") {
            // Bob is an administrator (within his boundary): still no AssumeRole without the
            // role's trust policy, with or without MFA.
            for mfa in ["true", "false"] {
                assert_eq!(
                    decide(
                        &s,
                        &bob,
                        "sts:AssumeRole",
                        &role,
                        &[
                            ("aws:MultiFactorAuthPresent", mfa),
                            ("aws:RequestedRegion", "eu-west-1")
                        ]
                    )
                    .await,
                    Decision::ImplicitDeny,
                    "{role} mfa={mfa}"
                );
            }
        }
    }
}

#[tokio::test]
async fn federated_users_resolve_through_their_issuer() {
    let s = store(false).await;
    let fed = "arn:aws:sts::111122223333:federated-user/alice-console";
    assert!(matches!(
        s.resolve(fed, None).await,
        Err(StoreError::MissingIssuer(_))
    ));
    let alice = arn("user/alice");
    let r = s.resolve(fed, Some(&alice)).await.unwrap();
    assert_eq!(r.session_issuer(), Some(alice.as_str()));
    // Without a session policy a federated user session has no permissions.
    let q = Query {
        principal: fed.into(),
        session_issuer: Some(alice.clone()),
        action: "ec2:DescribeInstances".into(),
        resource: "*".into(),
        ..Query::default()
    };
    assert_eq!(
        s.prepare(q.clone()).await.unwrap().evaluate(),
        Decision::ImplicitDeny
    );
    let session = iamlet_engine::Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}"#,
        iamlet_engine::PolicyType::Session,
    )
    .unwrap();
    let p = s.prepare(q).await.unwrap().with_policies([session]);
    assert_eq!(p.evaluate(), Decision::Allow);
}

#[tokio::test]
async fn unknown_principals_are_typed_errors() {
    let s = store(false).await;
    match s.resolve(&arn("user/mallory"), None).await {
        Err(StoreError::UnknownPrincipal(p)) => assert_eq!(p, arn("user/mallory")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.resolve("not an arn", None).await,
        Err(StoreError::Request(_))
    ));
    assert!(matches!(
        s.resolve("arn:aws:iam::444455556666:root", None).await,
        Err(StoreError::UnknownPrincipal(_))
    ));
    assert!(s
        .resolve("arn:aws:iam::111122223333:root", None)
        .await
        .is_ok());
}

#[tokio::test]
async fn scps_rcps_and_resource_policies_from_the_organization_file() {
    let s = store(true).await;
    let alice = arn("user/alice");
    let home = format!("{BUCKET}/home/alice/notes.txt");
    let eu = [("aws:RequestedRegion", "eu-west-1")];
    assert_eq!(
        decide(&s, &alice, "s3:GetObject", &home, &eu).await,
        Decision::Allow
    );
    // The region guard SCP.
    let instance = "arn:aws:ec2:ap-south-1:111122223333:instance/i-0abc";
    assert_eq!(
        decide(
            &s,
            &alice,
            "ec2:DescribeInstances",
            instance,
            &[("aws:RequestedRegion", "ap-south-1")]
        )
        .await,
        Decision::ExplicitDeny
    );
    // The organization's keys come from the store: the data perimeter RCP lets alice through…
    let r = s.resolve(&alice, None).await.unwrap();
    let req = r
        .request(&alice, "s3:GetObject", &home, ContextMap::new())
        .unwrap();
    assert_eq!(
        req.context().get("aws:PrincipalOrgID").unwrap().values(),
        ["o-a1b2c3d4e5"]
    );
    // …and the bucket policy's TLS guard applies to her.
    assert_eq!(
        decide(
            &s,
            &alice,
            "s3:GetObject",
            &home,
            &[
                ("aws:RequestedRegion", "eu-west-1"),
                ("aws:SecureTransport", "false")
            ]
        )
        .await,
        Decision::ExplicitDeny
    );
    // The bucket policy grants `shared/` to a partner account, not to this account's roles.
    let session = "arn:aws:sts::111122223333:assumed-role/ci-deploy/b";
    assert_eq!(
        decide(
            &s,
            session,
            "s3:GetObject",
            &format!("{BUCKET}/shared/report.csv"),
            &eu
        )
        .await,
        Decision::ImplicitDeny
    );
    // The queue policy lets SNS deliver from the named topic.
    let queue = "arn:aws:sqs:eu-west-1:111122223333:payments-events";
    assert_eq!(
        decide(
            &s,
            "sns.amazonaws.com",
            "sqs:SendMessage",
            queue,
            &[(
                "aws:SourceArn",
                "arn:aws:sns:eu-west-1:111122223333:payments-topic"
            )]
        )
        .await,
        Decision::Allow
    );
    // The key policy delegates to IAM: bob (admin within his boundary) may use the key, carol's
    // group denies it.
    let key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    assert_eq!(
        decide(&s, &arn("user/bob"), "kms:Encrypt", key, &eu).await,
        Decision::Allow
    );
    assert_eq!(
        decide(&s, &arn("user/audit/carol"), "kms:Decrypt", key, &eu).await,
        Decision::ExplicitDeny
    );
}

#[tokio::test]
async fn a_broken_policy_names_its_entity_and_json_path() {
    let dir = temp_dir("broken");
    let text = std::fs::read_to_string(example("account.json")).unwrap();
    let broken = text.replacen("\"Effect\": \"Allow\"", "\"Effect\": \"allow\"", 1);
    let path = dir.join("account.json");
    std::fs::write(&path, broken).unwrap();
    let err = Store::open(StoreConfig::path(&path)).await.unwrap_err();
    let LoadError::Invalid { errors, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        errors[0].entity(),
        "UserDetailList[0] (alice).UserPolicyList[0] (s3-home)"
    );
    assert_eq!(errors[0].path(), "Statement[0].Effect");
    assert!(
        err.to_string().contains(
            "UserDetailList[0] (alice).UserPolicyList[0] (s3-home): Statement[0].Effect: "
        ),
        "{err}"
    );
}

#[tokio::test]
async fn broken_references_are_named() {
    let dir = temp_dir("refs");
    let path = dir.join("account.json");
    std::fs::write(
        &path,
        r#"{"UserDetailList":[{"UserName":"dan","Arn":"arn:aws:iam::111122223333:user/dan",
             "GroupList":["ghosts"],
             "AttachedManagedPolicies":[{"PolicyName":"X","PolicyArn":"arn:aws:iam::aws:policy/X"}]}],
            "Policies":[{"PolicyName":"Y","Arn":"arn:aws:iam::aws:policy/Y","PolicyVersionList":[{"VersionId":"v1","IsDefaultVersion":false,"Document":{}}]}]}"#,
    )
    .unwrap();
    let err = Store::open(StoreConfig::path(&path))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "Policies[0] (Y): no version in `PolicyVersionList` has `IsDefaultVersion` true"
        ),
        "{err}"
    );
    assert!(err.contains("UserDetailList[0] (dan).AttachedManagedPolicies[0]: managed policy `arn:aws:iam::aws:policy/X` is not in the export's `Policies`"), "{err}");
    assert!(err.contains("UserDetailList[0] (dan).GroupList[0]: group `ghosts` is not in the export's `GroupDetailList`"), "{err}");
}

#[tokio::test]
async fn what_the_resource_adds_is_named_by_the_additions_key() {
    let s = store(true).await;
    let q = |action: &str, resource: &str| Query {
        principal: arn("user/alice"),
        action: action.into(),
        resource: resource.into(),
        resource_account: Some("111122223333".into()),
        ..Query::default()
    };
    let key = |p: &iamlet_store::Prepared| p.additions();
    let object = s
        .prepare(q(
            "s3:GetObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/a",
        ))
        .await
        .unwrap();
    let object_again = s
        .prepare(q(
            "s3:GetObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/bob/b",
        ))
        .await
        .unwrap();
    let other_bucket = s
        .prepare(q("s3:GetObject", "arn:aws:s3:::another-bucket/x"))
        .await
        .unwrap();
    let queue = s
        .prepare(q(
            "sqs:SendMessage",
            "arn:aws:sqs:eu-west-1:111122223333:payments-events",
        ))
        .await
        .unwrap();
    assert_ne!(key(&object), 0, "the bucket policy is added");
    assert_eq!(key(&object), key(&object_again), "same bucket, same policy");
    assert_eq!(
        key(&other_bucket),
        0,
        "no resource policy: the principal's set as is"
    );
    assert!(std::ptr::eq(
        other_bucket.policy_set(),
        other_bucket.resolved().policy_set()
    ));
    assert_ne!(key(&queue), 0);
    assert_ne!(
        key(&queue),
        key(&object),
        "another resource policy, another key"
    );
    // Policies added by the caller count too.
    let session = iamlet_engine::Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        iamlet_engine::PolicyType::Session,
    )
    .unwrap();
    let with_session = s
        .prepare(q("s3:GetObject", "arn:aws:s3:::another-bucket/x"))
        .await
        .unwrap()
        .with_policies([session]);
    assert_ne!(key(&with_session), 0);
}
