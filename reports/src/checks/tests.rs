use super::*;
use iamlet_engine::catalog::Catalog;

fn doc(statements: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#)
}

fn rt(name: &str) -> ResourceType {
    name.parse().unwrap()
}

fn public(name: &str, statements: &str) -> CheckResponse {
    no_public_access(&doc(statements), rt(name)).unwrap()
}

/// A statement open to everyone for each resource type, with an action of its service.
#[test]
fn every_resource_type_fails_when_open_to_everyone() {
    for (name, service) in RESOURCE_TYPES {
        let open = format!(
            r#"{{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"{service}:*","Resource":"*"}}"#
        );
        let open = if *name == "AWS::IAM::AssumeRolePolicyDocument" {
            r#"{"Sid":"Open","Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}"#
                .to_owned()
        } else {
            open
        };
        let r = public(name, &open);
        assert_eq!(r.result, CheckResult::Fail, "{name}");
        assert_eq!(
            r.reasons,
            vec![ReasonSummary {
                description: "Public access granted in the statement with sid: Open.".into(),
                statement_index: Some(0),
                statement_id: Some("Open".into()),
            }],
            "{name}"
        );
        assert_eq!(
            r.message,
            "The resource policy grants public access for the given resource type."
        );
    }
}

#[test]
fn each_pinning_key_pins_and_near_misses_do_not() {
    let with = |cond: &str| {
        public(
            "AWS::S3::Bucket",
            &format!(
                r#"{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{cond}}}"#
            ),
        )
        .result
    };
    for cond in [
        r#"{"StringEquals":{"aws:SourceAccount":"111122223333"}}"#,
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudfront::111122223333:distribution/*"}}"#,
        r#"{"StringEquals":{"aws:SourceOwner":"111122223333"}}"#,
        r#"{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}"#,
        r#"{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}"#,
        r#"{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#,
        r#"{"StringEquals":{"aws:SourceVpc":"vpc-1a2b3c4d"}}"#,
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        r#"{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/reader"}}"#,
        r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"}}"#,
    ] {
        assert_eq!(with(cond), CheckResult::Pass, "{cond}");
    }
    for cond in [
        r#"{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}"#,
        r#"{"StringLike":{"aws:PrincipalOrgID":"*"}}"#,
        r#"{"StringLike":{"aws:SourceVpce":"vpce-*"}}"#,
        r#"{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}"#,
        r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
    ] {
        assert_eq!(with(cond), CheckResult::Fail, "{cond}");
    }
}

#[test]
fn deny_other_services_and_named_principals_are_not_public() {
    let deny = r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}"#;
    assert_eq!(public("AWS::S3::Bucket", deny).result, CheckResult::Pass);
    let sqs_only =
        r#"{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}"#;
    assert_eq!(
        public("AWS::S3::Bucket", sqs_only).result,
        CheckResult::Pass
    );
    let named = r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:*","Resource":"*"}"#;
    assert_eq!(public("AWS::S3::Bucket", named).result, CheckResult::Pass);
    let not_principal = r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:Decrypt","Resource":"*"}"#;
    assert_eq!(
        public("AWS::KMS::Key", not_principal).result,
        CheckResult::Fail
    );
    let pass = public("AWS::SQS::Queue", named);
    assert_eq!(
        pass.message,
        "The resource policy does not grant public access for the given resource type."
    );
    assert!(pass.reasons.is_empty());
}

#[test]
fn a_trust_policy_open_to_a_web_identity_provider_is_public_unless_its_audience_is_pinned() {
    let trust = |cond: &str| {
        public(
            "AWS::IAM::AssumeRolePolicyDocument",
            &format!(
                r#"{{"Effect":"Allow","Principal":{{"Federated":"cognito-identity.amazonaws.com"}},"Action":"sts:AssumeRoleWithWebIdentity"{cond}}}"#
            ),
        )
        .result
    };
    assert_eq!(trust(""), CheckResult::Fail);
    assert_eq!(
        trust(
            r#","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:12345678-abcd-abcd-abcd-123456789012"}}"#
        ),
        CheckResult::Pass
    );
    assert_eq!(
        trust(r#","Condition":{"StringLike":{"cognito-identity.amazonaws.com:aud":"*"}}"#),
        CheckResult::Fail
    );
    // The account's own SAML provider is not the public.
    let saml = public(
        "AWS::IAM::AssumeRolePolicyDocument",
        r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/corp"},"Action":"sts:AssumeRoleWithSAML"}"#,
    );
    assert_eq!(saml.result, CheckResult::Pass);
}

#[test]
fn bad_input_is_a_validation_error() {
    assert!(matches!(
        "AWS::S3::Nope".parse::<ResourceType>(),
        Err(CheckError::Validation(_))
    ));
    let e = no_public_access("{", rt("AWS::S3::Bucket")).unwrap_err();
    assert!(matches!(e, CheckError::Policy(_)), "{e}");
    assert!(matches!(
        access_not_granted(&doc(""), AccessCheckPolicyType::Identity, &[], &[]),
        Err(CheckError::Validation(_))
    ));
}

#[test]
fn access_not_granted_by_action_resource_and_deny() {
    let policy = doc(
        r#"{"Sid":"Read","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"arn:aws:s3:::b/*"},
           {"Effect":"Allow","Action":"iam:PassRole","Resource":"*"},
           {"Effect":"Deny","Action":"iam:PassRole","Resource":"*"}"#,
    );
    let check = |a: &[&str], r: &[&str]| {
        let a: Vec<String> = a.iter().map(|s| (*s).to_owned()).collect();
        let r: Vec<String> = r.iter().map(|s| (*s).to_owned()).collect();
        access_not_granted(&policy, AccessCheckPolicyType::Identity, &a, &r).unwrap()
    };
    let r = check(&["s3:GetObject"], &[]);
    assert_eq!(r.result, CheckResult::Fail);
    assert_eq!(r.reasons[0].statement_id.as_deref(), Some("Read"));
    assert_eq!(
        r.reasons[0].description,
        "One or more of the listed actions or resources in the statement with sid: Read."
    );
    assert_eq!(check(&["s3:Get*"], &[]).result, CheckResult::Fail);
    assert_eq!(check(&["s3:PutObject"], &[]).result, CheckResult::Pass);
    // Denied without condition.
    assert_eq!(check(&["iam:PassRole"], &[]).result, CheckResult::Pass);
    assert_eq!(
        check(&["s3:GetObject"], &["arn:aws:s3:::other/*"]).result,
        CheckResult::Pass
    );
    assert_eq!(
        check(&[], &["arn:aws:s3:::b/key"]).result,
        CheckResult::Fail
    );
    let pass = check(&["ec2:RunInstances"], &[]);
    assert_eq!(
        pass.message,
        "The policy document does not grant access to perform one or more of the listed actions or resources."
    );
}

#[test]
fn not_action_grants_what_it_leaves_out() {
    let policy = doc(r#"{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}"#);
    let r = |a: &str| {
        access_not_granted(
            &policy,
            AccessCheckPolicyType::Identity,
            &[a.to_owned()],
            &[],
        )
        .unwrap()
        .result
    };
    assert_eq!(r("s3:DeleteBucket"), CheckResult::Fail);
    assert_eq!(r("iam:CreateUser"), CheckResult::Pass);
    assert_eq!(
        r("index_reason_check:Any"),
        CheckResult::Fail,
        "an unknown service is not iam"
    );
}

#[test]
fn no_new_access_names_the_new_statement() {
    let catalog = Catalog::embedded();
    let old = doc(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#);
    let new = doc(
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},
           {"Sid":"Write","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}"#,
    );
    let r = no_new_access(&old, &new, AccessCheckPolicyType::Identity, catalog).unwrap();
    assert_eq!(r.result, CheckResult::Fail);
    assert_eq!(
        r.reasons,
        vec![ReasonSummary {
            description: "New access in the statement with sid: Write.".into(),
            statement_index: Some(1),
            statement_id: Some("Write".into()),
        }]
    );
    let r = no_new_access(&new, &old, AccessCheckPolicyType::Identity, catalog).unwrap();
    assert_eq!(r.result, CheckResult::Pass);
}

#[test]
fn no_new_access_of_a_resource_policy_sees_new_principals() {
    let catalog = Catalog::embedded();
    let old = doc(
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
    );
    let new = doc(
        r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","444455556666"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
    );
    let r = no_new_access(&old, &new, AccessCheckPolicyType::Resource, catalog).unwrap();
    assert_eq!(r.result, CheckResult::Fail, "{r:?}");
    assert_eq!(r.reasons[0].statement_index, Some(0));
    let same = no_new_access(&old, &old, AccessCheckPolicyType::Resource, catalog).unwrap();
    assert_eq!(same.result, CheckResult::Pass);
}

#[test]
fn json_is_aws_shape() {
    let r = public(
        "AWS::SNS::Topic",
        r#"{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*"}"#,
    );
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({
            "result": "FAIL",
            "message": "The resource policy grants public access for the given resource type.",
            "reasons": [{"description": "Public access granted in the statement with index: 0.", "statementIndex": 0}]
        })
    );
}

mod external {
    use super::super::*;
    use iamlet_account::export::parse_export;
    use iamlet_account::organization::OrganizationFile;

    #[test]
    fn trust_and_resource_policies_that_let_outsiders_in() {
        let account = parse_export(
            "a",
            r#"{"RoleDetailList":[
              {"RoleName":"inside","Arn":"arn:aws:iam::111122223333:role/inside","AssumeRolePolicyDocument":
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"},
                 {"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}},
              {"RoleName":"partner","Arn":"arn:aws:iam::111122223333:role/partner","AssumeRolePolicyDocument":
                {"Version":"2012-10-17","Statement":[{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole",
                  "Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}},
              {"RoleName":"sister","Arn":"arn:aws:iam::111122223333:role/sister","AssumeRolePolicyDocument":
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":"sts:AssumeRole"}]}},
              {"RoleName":"web","Arn":"arn:aws:iam::111122223333:role/web","AssumeRolePolicyDocument":
                {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}}]}"#,
        )
        .unwrap();
        let org: OrganizationFile = serde_json::from_str(
            r#"{"Id":"o-a1b2c3d4e5","Accounts":[{"Id":"111122223333"},{"Id":"777788889999"}],
              "ResourcePolicies":[
                {"Resource":"arn:aws:s3:::public-bucket","Account":"111122223333","Document":{"Version":"2012-10-17","Statement":[
                   {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public-bucket/*"}]}},
                {"Resource":"arn:aws:s3:::org-bucket","Account":"111122223333","Document":{"Version":"2012-10-17","Statement":[
                   {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::org-bucket/*",
                    "Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}},
                {"Resource":"arn:aws:sqs:us-east-1:111122223333:q","Document":{"Version":"2012-10-17","Statement":[
                   {"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*",
                    "Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}}]}"#,
        )
        .unwrap();
        let without_org = external_access(std::slice::from_ref(&account), None);
        let roles: Vec<&str> = without_org.iter().map(|f| f.resource.as_str()).collect();
        assert_eq!(
            roles,
            vec![
                "arn:aws:iam::111122223333:role/partner",
                "arn:aws:iam::111122223333:role/sister",
                "arn:aws:iam::111122223333:role/web"
            ]
        );
        assert_eq!(without_org[0].statement_id.as_deref(), Some("Partner"));
        assert_eq!(without_org[0].principals, vec!["444455556666"]);
        assert_eq!(without_org[0].actions, vec!["sts:AssumeRole"]);
        assert!(!without_org[0].is_public);

        let with_org = external_access(std::slice::from_ref(&account), Some(&org));
        let found: Vec<(&str, bool)> = with_org
            .iter()
            .map(|f| (f.resource.as_str(), f.is_public))
            .collect();
        assert_eq!(
            found,
            vec![
                ("arn:aws:iam::111122223333:role/partner", false),
                // Any Cognito identity, with no `aud` condition.
                ("arn:aws:iam::111122223333:role/web", true),
                ("arn:aws:s3:::public-bucket", true),
                ("arn:aws:sqs:us-east-1:111122223333:q", false),
            ]
        );
        assert_eq!(with_org[2].resource_type, "AWS::S3::Bucket");
    }
}
