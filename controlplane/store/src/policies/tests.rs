//! Managed policies on a real SQLite file: names, quotas, sizes, versions, use and deletion.

use crate::tests::{name, temp_db, user};
use crate::*;
use iamlet_engine::PolicyType;

const ALLOW_S3: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;
const ALLOW_EC2: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}"#;

pub(crate) fn doc(text: &str) -> PolicyDocument {
    PolicyDocument::parse("PolicyDocument", text, PolicyType::Identity).unwrap()
}

pub(crate) fn policy(n: &str) -> CreatePolicy {
    CreatePolicy {
        name: name(n, NameKind::Policy),
        path: IamPath::root(),
        document: doc(ALLOW_S3),
        description: Some("reads objects".to_owned()),
        tags: Vec::new(),
    }
}

#[tokio::test]
async fn policies_are_created_listed_and_deleted_as_iam_does() {
    let t = temp_db("policies").await;
    let iam = &t.iam;
    let mut tx = iam.write().await.unwrap();
    let mut r = policy("Reader");
    r.path = IamPath::parse_policy("Path", Some("/team/")).unwrap();
    r.tags = Tag::parse_list(&[("owner", "ops")]).unwrap();
    let created = iam.create_policy(&mut tx, &r).await.unwrap();
    assert_eq!(
        created.policy.arn,
        "arn:aws:iam::111122223333:policy/team/Reader"
    );
    assert!(created.policy.id.starts_with("ANPA"));
    assert_eq!(created.policy.default_version, "v1");
    assert_eq!(created.tags.len(), 1);
    // Names are unique in the account whatever the path and case.
    let e = iam
        .create_policy(&mut tx, &policy("reader"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::EntityAlreadyExists);
    assert_eq!(
        e.message,
        "A policy called reader already exists. Duplicate names are not allowed."
    );
    // An AWS managed policy's name is no customer policy's.
    iam.create_policy(&mut tx, &policy("AdministratorAccess"))
        .await
        .unwrap();
    // AWS counts a document's size without whitespace.
    let big = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{}"}}]}}"#,
        "b".repeat(6100)
    );
    let mut large = policy("Large");
    large.document = doc(&big);
    let e = iam.create_policy(&mut tx, &large).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    assert_eq!(e.message, "Cannot exceed quota for PolicySize: 6144");
    let spaced = format!("{}{}", " ".repeat(7000), ALLOW_S3);
    let mut roomy = policy("Roomy");
    roomy.document = doc(&spaced);
    iam.create_policy(&mut tx, &roomy).await.unwrap();

    let got = iam.get_policy(&mut tx, &created.policy.arn).await.unwrap();
    assert_eq!(got.tags, created.tags);
    assert_eq!(got.attachment_count, 0);
    let e = iam
        .get_policy(&mut tx, "arn:aws:iam::111122223333:policy/Missing")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSuchEntity);
    assert_eq!(
        e.message,
        "Policy arn:aws:iam::111122223333:policy/Missing was not found."
    );
    let e = iam
        .get_policy(&mut tx, "arn:aws:iam::111122223333:polic/x")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(
        e.message,
        "ARN arn:aws:iam::111122223333:polic/x is not valid."
    );

    // Scope, path prefix and pages.
    let list = |scope, prefix: Option<&str>| ListPolicies {
        scope,
        prefix: PathPrefix::parse_policy("PathPrefix", prefix).unwrap(),
        ..ListPolicies::default()
    };
    let local = iam
        .list_policies(&mut tx, &list(PolicyScope::Local, None), &Page::default())
        .await
        .unwrap();
    assert_eq!(local.items.len(), 3);
    let aws = iam
        .list_policies(&mut tx, &list(PolicyScope::Aws, None), &Page::default())
        .await
        .unwrap();
    assert!(aws.items.len() >= 7);
    assert!(aws.items.iter().all(|p| p.policy.aws_managed));
    let team = iam
        .list_policies(
            &mut tx,
            &list(PolicyScope::All, Some("/team/")),
            &Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(team.items.len(), 1);
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = Page::parse(marker.as_deref(), Some("2")).unwrap();
        let p = iam
            .list_policies(&mut tx, &list(PolicyScope::All, None), &page)
            .await
            .unwrap();
        seen.extend(p.items.iter().map(|i| i.policy.arn.clone()));
        marker = p.marker;
        if marker.is_none() {
            break;
        }
    }
    let all = iam
        .list_policies(&mut tx, &list(PolicyScope::All, None), &Page::default())
        .await
        .unwrap();
    assert_eq!(
        seen,
        all.items
            .iter()
            .map(|i| i.policy.arn.clone())
            .collect::<Vec<_>>()
    );

    // Attached, used as a boundary, or with versions: not deleted.
    let arn = created.policy.arn.clone();
    iam.create_user(&mut tx, &user("alice")).await.unwrap();
    let alice = name("alice", NameKind::User);
    iam.attach_policy(&mut tx, Owner::User(&alice), &arn)
        .await
        .unwrap();
    let only = ListPolicies {
        only_attached: true,
        ..ListPolicies::default()
    };
    let attached = iam
        .list_policies(&mut tx, &only, &Page::default())
        .await
        .unwrap();
    assert_eq!(attached.items.len(), 1);
    assert_eq!(attached.items[0].attachment_count, 1);
    let e = iam.delete_policy(&mut tx, &arn).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DeleteConflict);
    assert_eq!(e.message, "Cannot delete a policy attached to entities.");
    iam.detach_policy(&mut tx, Owner::User(&alice), &arn)
        .await
        .unwrap();
    iam.put_user_boundary(&mut tx, &alice, &arn).await.unwrap();
    let bounding = ListPolicies {
        usage: Some(PolicyUsage::PermissionsBoundary),
        ..ListPolicies::default()
    };
    let b = iam
        .list_policies(&mut tx, &bounding, &Page::default())
        .await
        .unwrap();
    assert_eq!(b.items.len(), 1);
    assert_eq!(b.items[0].boundary_usage_count, 1);
    assert_eq!(
        iam.delete_policy(&mut tx, &arn).await.unwrap_err().code,
        ErrorCode::DeleteConflict
    );
    iam.delete_user_boundary(&mut tx, &alice).await.unwrap();
    iam.create_policy_version(&mut tx, &arn, &doc(ALLOW_EC2), false)
        .await
        .unwrap();
    let e = iam.delete_policy(&mut tx, &arn).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DeleteConflict);
    assert!(
        e.message
            .starts_with("This policy has more than one version."),
        "{e}"
    );
    iam.delete_policy_version(&mut tx, &arn, "v2")
        .await
        .unwrap();
    iam.delete_policy(&mut tx, &arn).await.unwrap();
    assert!(iam
        .find_managed_policy(&mut tx, &arn)
        .await
        .unwrap()
        .is_none());
    // Its tags went with it.
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM iam_tags WHERE entity_kind = 'policy'")
        .fetch_one(&mut *tx.inner)
        .await
        .unwrap();
    assert_eq!(n, 0);
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn the_policy_quota_counts_only_the_accounts_policies() {
    let t = temp_db("policy-quota").await;
    let iam = Iam {
        quotas: Quotas {
            managed_policies: 2,
            ..Quotas::default()
        },
        ..t.iam.clone()
    };
    let mut tx = iam.write().await.unwrap();
    iam.create_policy(&mut tx, &policy("a")).await.unwrap();
    iam.create_policy(&mut tx, &policy("b")).await.unwrap();
    let e = iam.create_policy(&mut tx, &policy("c")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    assert_eq!(e.message, "Cannot exceed quota for PoliciesPerAccount: 2");
}

#[tokio::test]
async fn versions_number_on_and_keep_one_default() {
    let t = temp_db("versions").await;
    let iam = &t.iam;
    let mut tx = iam.write().await.unwrap();
    let arn = iam
        .create_policy(&mut tx, &policy("P"))
        .await
        .unwrap()
        .policy
        .arn;
    let v2 = iam
        .create_policy_version(&mut tx, &arn, &doc(ALLOW_EC2), true)
        .await
        .unwrap();
    assert_eq!((v2.id.as_str(), v2.is_default), ("v2", true));
    assert_eq!(
        iam.get_policy(&mut tx, &arn)
            .await
            .unwrap()
            .policy
            .default_version,
        "v2"
    );
    for _ in 0..3 {
        iam.create_policy_version(&mut tx, &arn, &doc(ALLOW_S3), false)
            .await
            .unwrap();
    }
    let e = iam
        .create_policy_version(&mut tx, &arn, &doc(ALLOW_S3), false)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    assert!(
        e.message
            .starts_with("A managed policy can have up to 5 versions."),
        "{e}"
    );
    let listed = iam
        .list_policy_versions(&mut tx, &arn, &Page::default())
        .await
        .unwrap();
    let ids: Vec<&str> = listed.items.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(ids, ["v5", "v4", "v3", "v2", "v1"]);
    let first = iam
        .list_policy_versions(&mut tx, &arn, &Page::parse(None, Some("2")).unwrap())
        .await
        .unwrap();
    let rest = iam
        .list_policy_versions(
            &mut tx,
            &arn,
            &Page::parse(first.marker.as_deref(), Some("10")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 3);
    assert_eq!(rest.items[0].id, "v3");

    let e = iam
        .delete_policy_version(&mut tx, &arn, "v2")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DeleteConflict);
    assert_eq!(e.message, "Cannot delete the default version of a policy.");
    iam.delete_policy_version(&mut tx, &arn, "v1")
        .await
        .unwrap();
    // Numbers are never reused.
    let v6 = iam
        .create_policy_version(&mut tx, &arn, &doc(ALLOW_S3), false)
        .await
        .unwrap();
    assert_eq!(v6.id, "v6");
    iam.set_default_policy_version(&mut tx, &arn, "v6")
        .await
        .unwrap();
    let got = iam.get_policy_version(&mut tx, &arn, "v6").await.unwrap();
    assert!(got.is_default);
    assert_eq!(got.document, ALLOW_S3);
    let e = iam
        .get_policy_version(&mut tx, &arn, "v1")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSuchEntity);
    assert_eq!(
        e.message,
        format!("Policy {arn} version v1 does not exist or is not attachable.")
    );
    assert!(parse_version_id("VersionId", "v0").is_err());
    assert!(parse_version_id("VersionId", "1").is_err());
    assert!(parse_version_id("VersionId", "v12").is_ok());
}

#[tokio::test]
async fn aws_managed_policies_are_only_read() {
    let t = temp_db("aws-managed").await;
    let iam = &t.iam;
    let mut tx = iam.write().await.unwrap();
    let arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";
    let p = iam.get_policy(&mut tx, arn).await.unwrap();
    assert!(p.policy.aws_managed);
    assert_eq!(p.policy.id, "ANPAIZTJ4DXE7G6AGAE6M");
    assert_eq!(p.policy.default_version, "v3");
    for e in [
        iam.delete_policy(&mut tx, arn).await.unwrap_err(),
        iam.create_policy_version(&mut tx, arn, &doc(ALLOW_S3), true)
            .await
            .unwrap_err(),
        iam.set_default_policy_version(&mut tx, arn, "v3")
            .await
            .unwrap_err(),
        iam.delete_policy_version(&mut tx, arn, "v3")
            .await
            .unwrap_err(),
        iam.tag_policy(&mut tx, arn, &Tag::parse_list(&[("a", "b")]).unwrap())
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::UnmodifiableEntity, "{e}");
    }
    let v = iam.get_policy_version(&mut tx, arn, "v3").await.unwrap();
    assert!(v.document.contains("s3-object-lambda:List*"));
    let job = iam
        .get_policy(
            &mut tx,
            "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        )
        .await
        .unwrap();
    assert_eq!(job.policy.path.as_str(), "/job-function/");
}

#[tokio::test]
async fn entities_for_a_policy_by_kind_use_and_page() {
    let t = temp_db("entities").await;
    let iam = &t.iam;
    let mut tx = iam.write().await.unwrap();
    let arn = iam
        .create_policy(&mut tx, &policy("Shared"))
        .await
        .unwrap()
        .policy
        .arn;
    for u in ["u1", "u2", "u3"] {
        iam.create_user(&mut tx, &user(u)).await.unwrap();
        iam.attach_policy(&mut tx, Owner::User(&name(u, NameKind::User)), &arn)
            .await
            .unwrap();
    }
    let mut bounded = user("bounded");
    bounded.path = IamPath::parse("Path", Some("/b/")).unwrap();
    bounded.boundary = Some(arn.clone());
    iam.create_user(&mut tx, &bounded).await.unwrap();
    let g = name("g", NameKind::Group);
    iam.create_group(&mut tx, &g, &IamPath::root())
        .await
        .unwrap();
    iam.attach_policy(&mut tx, Owner::Group(&g), &arn)
        .await
        .unwrap();
    let all = PathPrefix::default();
    let e = iam
        .list_entities_for_policy(&mut tx, &arn, None, &all, None, &Page::default())
        .await
        .unwrap();
    assert_eq!(e.groups.len(), 1);
    assert_eq!(e.users.len(), 4);
    assert!(e.roles.is_empty() && e.marker.is_none());
    let bounds = iam
        .list_entities_for_policy(
            &mut tx,
            &arn,
            None,
            &all,
            Some(PolicyUsage::PermissionsBoundary),
            &Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(bounds.users.len(), 1);
    assert!(bounds.groups.is_empty());
    let users_only = iam
        .list_entities_for_policy(
            &mut tx,
            &arn,
            Some(EntityFilter::User),
            &PathPrefix::parse("PathPrefix", Some("/b/")).unwrap(),
            None,
            &Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(users_only.users.len(), 1);
    assert_eq!(users_only.users[0].name, "bounded");
    // Pages of two walk groups, then users, without loss or repetition.
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = Page::parse(marker.as_deref(), Some("2")).unwrap();
        let p = iam
            .list_entities_for_policy(&mut tx, &arn, None, &all, None, &page)
            .await
            .unwrap();
        assert!(p.groups.len() + p.users.len() <= 2);
        names.extend(
            p.groups
                .iter()
                .chain(p.users.iter())
                .map(|e| e.name.clone()),
        );
        marker = p.marker;
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(names, ["g", "bounded", "u1", "u2", "u3"]);
}
