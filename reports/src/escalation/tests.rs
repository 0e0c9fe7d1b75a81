use super::*;
use iamlet_account::export::parse_export;
use std::collections::BTreeMap;

const ACCOUNT: &str = include_str!("../../../examples/escalation/account.json");
const ORGANIZATION: &str = include_str!("../../../examples/escalation/organization.json");

fn exports() -> Vec<(String, AccountDetails)> {
    vec![(
        "account.json".to_owned(),
        parse_export("account.json", ACCOUNT).unwrap(),
    )]
}

fn user(name: &str) -> String {
    format!("arn:aws:iam::111122223333:user/{name}")
}

fn role(name: &str) -> String {
    format!("arn:aws:iam::111122223333:role/{name}")
}

/// Principal → the classes of its shortest path's steps.
fn classes(findings: &[Finding]) -> BTreeMap<String, Vec<&'static str>> {
    findings
        .iter()
        .filter(|f| !f.already)
        .map(|f| {
            (
                f.principal.clone(),
                f.paths[0].iter().map(|s| s.class).collect(),
            )
        })
        .collect()
}

/// Every class of the table, each found for the principal that has it, and nobody else: the
/// near misses (a boundary, an explicit deny, a trust policy that does not trust, PassRole with no
/// service, a new version of someone else's policy, a loop of roles) are not reported.
#[test]
fn every_class_is_found_and_no_near_miss() {
    let findings = analyze(&exports(), None, &Options::default()).unwrap();
    let mut expected: BTreeMap<String, Vec<&str>> = [
        ("u-create-version", vec!["CreatePolicyVersion"]),
        ("u-set-default", vec!["SetDefaultPolicyVersion"]),
        ("u-put-user-policy", vec!["PutUserPolicy"]),
        ("u-attach-user-policy", vec!["AttachUserPolicy"]),
        ("u-put-group-policy", vec!["PutGroupPolicy"]),
        ("u-attach-group-policy", vec!["AttachGroupPolicy"]),
        ("u-add-to-group", vec!["AddUserToGroup"]),
        ("u-delete-boundary", vec!["DeleteUserPermissionsBoundary"]),
        ("u-put-boundary", vec!["PutUserPermissionsBoundary"]),
        ("u-access-key", vec!["CreateAccessKey"]),
        ("u-login-profile", vec!["CreateLoginProfile"]),
        ("u-update-login", vec!["UpdateLoginProfile"]),
        ("u-assume", vec!["AssumeRole"]),
        ("u-mfa-assume", vec!["AssumeRole"]),
        ("u-source-ip", vec!["PutUserPolicy"]),
        ("u-update-trust", vec!["UpdateAssumeRolePolicy"; 2]),
        ("u-lambda-invoke", vec!["PassRole to Lambda (invoke)"; 3]),
        (
            "u-lambda-event",
            vec!["PassRole to Lambda (event source)"; 3],
        ),
        ("u-ec2", vec!["PassRole to EC2"; 2]),
        ("u-glue", vec!["PassRole to Glue"; 2]),
        ("u-cloudformation", vec!["PassRole to CloudFormation"; 2]),
        ("u-datapipeline", vec!["PassRole to Data Pipeline"; 3]),
        ("u-sagemaker", vec!["PassRole to SageMaker"; 3]),
        ("u-codebuild", vec!["PassRole to CodeBuild"; 3]),
        ("u-update-code", vec!["UpdateFunctionCode"]),
        (
            "u-chain",
            vec!["AssumeRole", "AttachRolePolicy", "AssumeRole"],
        ),
    ]
    .into_iter()
    .map(|(u, c)| (user(u), c))
    .collect();
    expected.insert(role("r-put-self"), vec!["PutRolePolicy"]);
    expected.insert(
        role("r-delete-boundary"),
        vec!["DeleteRolePermissionsBoundary"],
    );
    expected.insert(role("r-put-boundary"), vec!["PutRolePermissionsBoundary"]);
    expected.insert(role("role-a"), vec!["AttachRolePolicy", "AssumeRole"]);
    let found = classes(&findings);
    assert_eq!(found, expected);

    let already: Vec<&str> = findings
        .iter()
        .filter(|f| f.already)
        .map(|f| f.principal.as_str())
        .collect();
    for a in [
        "user/admin-user",
        "role/admin-role",
        "role/lambda-admin",
        "role/locked-admin",
    ] {
        assert!(already.iter().any(|p| p.ends_with(a)), "{a}: {already:?}");
    }
    assert!(already.iter().all(|p| !p.contains("/n-")), "{already:?}");
    assert!(any_escalation(&findings));
}

#[test]
fn a_chained_path_names_each_step_and_its_statement() {
    let options = Options {
        principal: Some(user("u-chain")),
        ..Options::default()
    };
    let findings = analyze(&exports(), None, &options).unwrap();
    assert_eq!(findings.len(), 1);
    let path = &findings[0].paths[0];
    let steps: Vec<(&str, &str, &str)> = path
        .iter()
        .map(|s| (s.principal.as_str(), s.action.as_str(), s.resource.as_str()))
        .collect();
    let (chain, a, b) = (user("u-chain"), role("role-a"), role("role-b"));
    assert_eq!(
        steps,
        vec![
            (chain.as_str(), "sts:AssumeRole", a.as_str()),
            (a.as_str(), "iam:AttachRolePolicy", b.as_str()),
            (a.as_str(), "sts:AssumeRole", b.as_str()),
        ]
    );
    assert_eq!(
        path[0].statement,
        "Statement[0] of identity-based policy `user/u-chain:inline/u-chain-policy`"
    );
    assert_eq!(
        path[1].gains,
        format!("AdministratorAccess attached to {b}")
    );
    assert_eq!(
        path[2].statement,
        "Statement[0] of trust policy `role/role-b:trust`"
    );
}

#[test]
fn undecidable_conditions_are_reported_as_if() {
    let findings = analyze(&exports(), None, &Options::default()).unwrap();
    let step = |p: &str| {
        findings
            .iter()
            .find(|f| f.principal == user(p))
            .map(|f| f.paths[0][0].clone())
            .unwrap()
    };
    assert_eq!(
        step("u-mfa-assume").conditions,
        vec!["aws:MultiFactorPresent Bool true"]
    );
    assert_eq!(
        step("u-source-ip").conditions,
        vec!["aws:SourceIp IpAddress 203.0.113.0/24"]
    );
    assert!(step("u-assume").conditions.is_empty());
}

#[test]
fn an_scp_that_denies_the_step_stops_it() {
    let org = Organization::parse("organization.json", ORGANIZATION).unwrap();
    let findings = analyze(&exports(), Some(&org), &Options::default()).unwrap();
    let found = classes(&findings);
    assert!(!found.contains_key(&user("u-assume")), "{found:?}");
    assert!(!found.contains_key(&user("u-mfa-assume")), "{found:?}");
    assert!(found.contains_key(&user("u-access-key")), "{found:?}");
}

#[test]
fn json_has_the_issue_shape() {
    let options = Options {
        principal: Some(user("u-access-key")),
        ..Options::default()
    };
    let findings = analyze(&exports(), None, &options).unwrap();
    let v = serde_json::to_value(&findings).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{
            "principal": user("u-access-key"),
            "already": false,
            "paths": [[{
                "principal": user("u-access-key"),
                "action": "iam:CreateAccessKey",
                "resource": user("admin-user"),
                "statement": "Statement[0] of identity-based policy `user/u-access-key:inline/u-access-key-policy`",
                "gains": format!("an access key of {}", user("admin-user")),
            }]]
        }])
    );
    let admin = Options {
        principal: Some(user("admin-user")),
        ..Options::default()
    };
    let v = serde_json::to_value(analyze(&exports(), None, &admin).unwrap()).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{"principal": user("admin-user"), "already": true, "paths": []}])
    );
}

#[test]
fn targets_other_than_admin() {
    let target = Target::parse(&["s3:GetObject=arn:aws:s3:::bucket/key".to_owned()]).unwrap();
    let options = Options {
        principal: Some(user("n-boundary")),
        target,
        ..Options::default()
    };
    // The boundary allows s3:*, but no identity policy does, and PutUserPolicy is outside it.
    assert!(analyze(&exports(), None, &options).unwrap().is_empty());
    let options = Options {
        principal: Some(user("u-put-user-policy")),
        ..options
    };
    let f = analyze(&exports(), None, &options).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].paths[0][0].action, "iam:PutUserPolicy");
    assert!(matches!(
        Target::parse(&["nonsense".to_owned()]),
        Err(EscalationError::Target(_))
    ));
}

#[test]
fn an_unknown_principal_is_an_error() {
    let options = Options {
        principal: Some(user("nobody")),
        ..Options::default()
    };
    let e = analyze(&exports(), None, &options).unwrap_err();
    assert_eq!(
        e.to_string(),
        "principal `arn:aws:iam::111122223333:user/nobody` is not a user or role of the account export"
    );
}

#[test]
fn text_lists_paths_with_statements_and_conditions() {
    let options = Options {
        principal: Some(user("u-ec2")),
        ..Options::default()
    };
    let f = analyze(&exports(), None, &options).unwrap();
    let text = render_text(&f, &Target::Admin);
    assert!(
        text.contains("Can escalate to administrator (* on *):"),
        "{text}"
    );
    assert!(text.contains("1. arn:aws:iam::111122223333:user/u-ec2 → iam:PassRole on arn:aws:iam::111122223333:role/ec2-admin [PassRole to EC2]"), "{text}");
    assert!(
        text.contains("if an instance profile holds arn:aws:iam::111122223333:role/ec2-admin"),
        "{text}"
    );
}
