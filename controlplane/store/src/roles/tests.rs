//! Roles and service-linked roles on a real SQLite file.

use crate::policies::tests::doc;
use crate::tests::{name, temp_db};
use crate::*;
use iamlet_engine::PolicyType;

pub(crate) const TRUST_EC2: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;

pub(crate) fn role(n: &str) -> CreateRole {
    CreateRole {
        name: name(n, NameKind::Role),
        path: IamPath::root(),
        trust: PolicyDocument::parse("AssumeRolePolicyDocument", TRUST_EC2, PolicyType::Trust)
            .unwrap(),
        description: None,
        max_session_duration: DEFAULT_MAX_SESSION_DURATION,
        boundary: None,
        tags: Vec::new(),
    }
}

#[tokio::test]
async fn roles_live_and_die_by_iam_rules() {
    let t = temp_db("roles").await;
    let iam = &t.iam;
    let mut tx = iam.write().await.unwrap();
    let mut r = role("Deployer");
    r.path = IamPath::parse("Path", Some("/ci/")).unwrap();
    r.description = Some("deploys".to_owned());
    r.max_session_duration = 7200;
    r.boundary = Some("arn:aws:iam::aws:policy/PowerUserAccess".to_owned());
    r.tags = Tag::parse_list(&[("team", "ci")]).unwrap();
    let created = iam.create_role(&mut tx, &r).await.unwrap();
    assert_eq!(created.arn, "arn:aws:iam::111122223333:role/ci/Deployer");
    assert!(created.id.starts_with("AROA"));
    assert_eq!(created.max_session_duration, 7200);
    let e = iam
        .create_role(&mut tx, &role("deployer"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::EntityAlreadyExists);
    assert_eq!(e.message, "Role with name deployer already exists.");
    let mut bad = role("Bounded");
    bad.boundary = Some("arn:aws:iam::111122223333:policy/Nope".to_owned());
    let e = iam.create_role(&mut tx, &bad).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSuchEntity);
    assert_eq!(
        e.message,
        "Scope ARN: arn:aws:iam::111122223333:policy/Nope does not exist or is not attachable."
    );
    let mut long = role("Long");
    long.max_session_duration = 43_201;
    assert_eq!(
        iam.create_role(&mut tx, &long).await.unwrap_err().code,
        ErrorCode::ValidationError
    );
    let big_trust = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "{}", "Effect": "Allow", "Principal": {{"Service": "ec2.amazonaws.com"}}, "Action": "sts:AssumeRole"}}]}}"#,
        "s".repeat(2000)
    );
    let mut big = role("Big");
    big.trust =
        PolicyDocument::parse("AssumeRolePolicyDocument", &big_trust, PolicyType::Trust).unwrap();
    let e = iam.create_role(&mut tx, &big).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    assert_eq!(e.message, "Cannot exceed quota for ACLSizePerRole: 2048");

    let deployer = name("deployer", NameKind::Role);
    let got = iam.get_role(&mut tx, &deployer).await.unwrap();
    assert_eq!(got.tags.len(), 1);
    assert_eq!(
        got.boundary.as_deref(),
        Some("arn:aws:iam::aws:policy/PowerUserAccess")
    );
    let listed = iam
        .list_roles(
            &mut tx,
            &PathPrefix::parse("PathPrefix", Some("/ci/")).unwrap(),
            &Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let updated = iam
        .update_role(
            &mut tx,
            &deployer,
            &UpdateRole {
                description: Some("ships".to_owned()),
                max_session_duration: Some(3600),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.description.as_deref(), Some("ships"));
    assert_eq!(updated.max_session_duration, 3600);
    let other_trust = TRUST_EC2.replace("ec2.amazonaws.com", "lambda.amazonaws.com");
    iam.update_assume_role_policy(
        &mut tx,
        &deployer,
        &PolicyDocument::parse("PolicyDocument", &other_trust, PolicyType::Trust).unwrap(),
    )
    .await
    .unwrap();
    assert!(iam
        .role(&mut tx, &deployer)
        .await
        .unwrap()
        .trust_policy
        .contains("lambda"));

    // Nothing may be left on a role that is deleted: profile, inline policy, attached policy.
    let ip = name("web", NameKind::InstanceProfile);
    iam.create_instance_profile(&mut tx, &ip, &IamPath::root(), &[])
        .await
        .unwrap();
    iam.add_role_to_instance_profile(&mut tx, &ip, &deployer)
        .await
        .unwrap();
    let e = iam.delete_role(&mut tx, &deployer).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DeleteConflict);
    assert_eq!(
        e.message,
        "Cannot delete entity, must remove roles from instance profile first."
    );
    let e = iam.delete_instance_profile(&mut tx, &ip).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DeleteConflict);
    iam.remove_role_from_instance_profile(&mut tx, &ip, &deployer)
        .await
        .unwrap();
    let inline = name("inline", NameKind::Policy);
    let allow = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#;
    iam.put_inline_policy(&mut tx, Owner::Role(&deployer), &inline, &doc(allow))
        .await
        .unwrap();
    let e = iam.delete_role(&mut tx, &deployer).await.unwrap_err();
    assert_eq!(
        e.message,
        "Cannot delete entity, must delete policies first."
    );
    iam.delete_inline_policy(&mut tx, Owner::Role(&deployer), &inline)
        .await
        .unwrap();
    iam.attach_policy(
        &mut tx,
        Owner::Role(&deployer),
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    .await
    .unwrap();
    let e = iam.delete_role(&mut tx, &deployer).await.unwrap_err();
    assert_eq!(
        e.message,
        "Cannot delete entity, must detach all policies first."
    );
    iam.detach_policy(
        &mut tx,
        Owner::Role(&deployer),
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
    )
    .await
    .unwrap();
    iam.delete_role(&mut tx, &deployer).await.unwrap();
    let e = iam.role(&mut tx, &deployer).await.unwrap_err();
    assert_eq!(e.message, "The role with name deployer cannot be found.");
    iam.delete_instance_profile(&mut tx, &ip).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn service_linked_roles_belong_to_their_service() {
    let t = temp_db("slr").await;
    let iam = &t.iam;
    let mut tx = iam.write().await.unwrap();
    let r = CreateServiceLinkedRole {
        service: "elasticbeanstalk.amazonaws.com".to_owned(),
        suffix: None,
        description: Some("for Beanstalk".to_owned()),
    };
    let slr = iam.create_service_linked_role(&mut tx, &r).await.unwrap();
    assert_eq!(
        slr.arn,
        "arn:aws:iam::111122223333:role/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk"
    );
    assert!(slr.service_linked);
    assert!(slr.trust_policy.contains("elasticbeanstalk.amazonaws.com"));
    let e = iam
        .create_service_linked_role(&mut tx, &r)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(
        e.message,
        "Service role name AWSServiceRoleForElasticBeanstalk has been taken in this account, please try a different suffix."
    );
    let n = slr.name.clone();
    let protected = "Cannot perform the operation on the protected role 'AWSServiceRoleForElasticBeanstalk' - this role is only modifiable by AWS";
    let trust = PolicyDocument::parse("PolicyDocument", TRUST_EC2, PolicyType::Trust).unwrap();
    let allow = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}"#;
    for e in [
        iam.delete_role(&mut tx, &n).await.unwrap_err(),
        iam.update_assume_role_policy(&mut tx, &n, &trust)
            .await
            .unwrap_err(),
        iam.put_inline_policy(
            &mut tx,
            Owner::Role(&n),
            &name("p", NameKind::Policy),
            &doc(allow),
        )
        .await
        .unwrap_err(),
        iam.attach_policy(
            &mut tx,
            Owner::Role(&n),
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        )
        .await
        .unwrap_err(),
        iam.put_role_boundary(&mut tx, &n, "arn:aws:iam::aws:policy/ReadOnlyAccess")
            .await
            .unwrap_err(),
        iam.update_role(
            &mut tx,
            &n,
            &UpdateRole {
                description: None,
                max_session_duration: Some(7200),
            },
        )
        .await
        .unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::UnmodifiableEntity, "{e}");
        assert_eq!(e.message, protected);
    }
    // Its description is the one thing a caller may change.
    iam.update_role(
        &mut tx,
        &n,
        &UpdateRole {
            description: Some("new".to_owned()),
            max_session_duration: None,
        },
    )
    .await
    .unwrap();
    let suffixed = iam
        .create_service_linked_role(
            &mut tx,
            &CreateServiceLinkedRole {
                service: "autoscaling.amazonaws.com".to_owned(),
                suffix: Some("web".to_owned()),
                description: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(suffixed.name.as_str(), "AWSServiceRoleForAutoScaling_web");

    let task = iam.delete_service_linked_role(&mut tx, &n).await.unwrap();
    assert!(task.starts_with(
        "task/aws-service-role/elasticbeanstalk.amazonaws.com/AWSServiceRoleForElasticBeanstalk/"
    ));
    assert!(iam.find_role(&mut tx, &n).await.unwrap().is_none());
    assert_eq!(
        iam.service_linked_role_deletion_status(&mut tx, &task)
            .await
            .unwrap(),
        DeletionStatus::Succeeded
    );
    let e = iam
        .service_linked_role_deletion_status(&mut tx, "task/aws-service-role/x/y/z")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSuchEntity);
    iam.create_role(&mut tx, &role("plain")).await.unwrap();
    let e = iam
        .delete_service_linked_role(&mut tx, &name("plain", NameKind::Role))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
}

#[tokio::test]
async fn role_and_instance_profile_quotas_hold() {
    let t = temp_db("role-quota").await;
    let iam = Iam {
        quotas: Quotas {
            roles: 2,
            instance_profiles: 1,
            ..Quotas::default()
        },
        ..t.iam.clone()
    };
    let mut tx = iam.write().await.unwrap();
    iam.create_role(&mut tx, &role("a")).await.unwrap();
    // A service-linked role counts as a role.
    iam.create_service_linked_role(
        &mut tx,
        &CreateServiceLinkedRole {
            service: "rds.amazonaws.com".to_owned(),
            suffix: None,
            description: None,
        },
    )
    .await
    .unwrap();
    let e = iam.create_role(&mut tx, &role("c")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    assert_eq!(e.message, "Cannot exceed quota for RolesPerAccount: 2");
    iam.create_instance_profile(
        &mut tx,
        &name("p1", NameKind::InstanceProfile),
        &IamPath::root(),
        &[],
    )
    .await
    .unwrap();
    let e = iam
        .create_instance_profile(
            &mut tx,
            &name("p2", NameKind::InstanceProfile),
            &IamPath::root(),
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.message,
        "Cannot exceed quota for InstanceProfilesPerAccount: 1"
    );
}
