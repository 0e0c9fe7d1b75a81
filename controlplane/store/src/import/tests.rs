//! The import's round trip: `examples/account.json` (and a credentials file) loaded into a new
//! database and exported again decides the same for every principal of the example, for a set of
//! requests that exercises each of their policies (and the requests of
//! `examples/policies/cases.json`).

use super::import;
use crate::*;
use iamlet_account::export::{parse_export, AccountDetails};
use iamlet_account::{prepare, trusted_role, PrincipalKey, Query, Snapshot};
use iamlet_auth::{AccessKey, Credentials, KeyStatus, MfaDevice, MfaStatus, Secret};
use iamlet_engine::{ContextMap, ContextValue, Decision};
use std::path::PathBuf;
use std::sync::Arc;

const EXAMPLE: &str = include_str!("../../../../examples/account.json");
const CASES: &str = include_str!("../../../../examples/policies/cases.json");

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("iamlet-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

fn credentials() -> Credentials {
    Credentials {
        access_keys: vec![
            AccessKey {
                access_key_id: "AKIAALICEEXAMPLE0001".to_owned(),
                secret_access_key: Secret::new(
                    "alice+secret/EXAMPLEKEY0000000000000001".to_owned(),
                ),
                user_arn: "arn:aws:iam::111122223333:user/alice".to_owned(),
                status: KeyStatus::Active,
                create_date: "2026-01-02T03:04:05Z".to_owned(),
            },
            AccessKey {
                access_key_id: "AKIACAROLEXAMPLE0002".to_owned(),
                secret_access_key: Secret::new(
                    "carol+secret/EXAMPLEKEY0000000000000002".to_owned(),
                ),
                user_arn: "arn:aws:iam::111122223333:user/audit/carol".to_owned(),
                status: KeyStatus::Inactive,
                create_date: "2026-01-02T03:04:05Z".to_owned(),
            },
        ],
        mfa_devices: vec![MfaDevice {
            serial_number: "arn:aws:iam::111122223333:mfa/alice-phone".to_owned(),
            user_arn: "arn:aws:iam::111122223333:user/alice".to_owned(),
            seed: Secret::new("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".to_owned()),
            status: MfaStatus::Enabled,
            enable_date: Some("2026-01-02T03:04:05Z".to_owned()),
            last_used_step: None,
            failed_attempts: 0,
            locked_until: None,
        }],
        session_key: Some(Secret::new(
            "c2Vzc2lvbi1rZXktb2YtdGhlLWZpbGUtMzItYnl0ZXMh".to_owned(),
        )),
    }
}

/// The requests each principal is asked: every policy of the example allows or denies some.
fn requests() -> Vec<(String, String, ContextMap)> {
    let bucket = "arn:aws:s3:::amzn-s3-demo-bucket";
    let mut out: Vec<(String, String, ContextMap)> = [
        ("s3:GetObject", format!("{bucket}/home/alice/notes.txt")),
        ("s3:GetObject", format!("{bucket}/home/bob/notes.txt")),
        ("s3:PutObject", format!("{bucket}/home/alice/notes.txt")),
        ("s3:DescribeJob", "*".to_owned()),
        ("s3-object-lambda:GetObject", "*".to_owned()),
        ("ec2:DescribeInstances", "*".to_owned()),
        ("ec2:RunInstances", "*".to_owned()),
        ("ec2:TerminateInstances", "*".to_owned()),
        ("logs:FilterLogEvents", "*".to_owned()),
        ("logs:DeleteLogGroup", "*".to_owned()),
        ("cloudwatch:GetMetricData", "*".to_owned()),
        (
            "iam:CreateUser",
            "arn:aws:iam::111122223333:user/x".to_owned(),
        ),
        (
            "iam:GetUser",
            "arn:aws:iam::111122223333:user/alice".to_owned(),
        ),
        ("iam:ListUsers", "*".to_owned()),
        ("iam:GenerateCredentialReport", "*".to_owned()),
        ("organizations:ListAccounts", "*".to_owned()),
        ("dynamodb:GetItem", "*".to_owned()),
        (
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/break-glass".to_owned(),
        ),
        (
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/service-role/ci-deploy".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(a, r)| (a.to_owned(), r, ContextMap::new()))
    .collect();
    for prefix in ["home/alice/", "home/bob/", "home/alice"] {
        let mut c = ContextMap::new();
        c.insert("s3:prefix", prefix);
        out.push(("s3:ListBucket".to_owned(), bucket.to_owned(), c));
    }
    let mut mfa = ContextMap::new();
    mfa.insert("aws:MultiFactorAuthPresent", "true");
    out.push(("ec2:RunInstances".to_owned(), "*".to_owned(), mfa));
    out
}

/// Every principal of the example: its users, and a session of each role.
fn principals(d: &AccountDetails) -> Vec<String> {
    let mut out: Vec<String> = d.user_detail_list.iter().map(|u| u.arn.clone()).collect();
    out.extend(d.role_detail_list.iter().map(|r| {
        format!(
            "arn:aws:sts::111122223333:assumed-role/{}/session",
            r.role_name
        )
    }));
    out
}

fn decide(
    snap: &Snapshot,
    principal: &str,
    action: &str,
    resource: &str,
    context: &ContextMap,
) -> Decision {
    let key = PrincipalKey::for_principal(principal, None).unwrap();
    let resolved = Arc::new(snap.parts(&key).unwrap().assemble(None));
    let trust = trusted_role(action, resource).and_then(|role| {
        let k = PrincipalKey::for_principal(role, None).ok()?;
        snap.parts(&k).ok()?.trust
    });
    let query = Query {
        principal: principal.to_owned(),
        action: action.to_owned(),
        resource: resource.to_owned(),
        context: context.clone(),
        ..Query::default()
    };
    prepare(resolved, query, None, trust).unwrap().evaluate()
}

#[tokio::test]
async fn an_imported_account_exports_to_the_same_decisions() {
    let d = dir("roundtrip");
    let url = DatabaseUrl::parse("sqlite:iam.db", &d.0).unwrap();
    let original = parse_export("account.json", EXAMPLE).unwrap();
    let creds = credentials();
    let outcome = import(&url, "account.json", &original, Some(&creds))
        .await
        .unwrap();
    assert_eq!(outcome.account, "111122223333");
    let root = outcome.root_key.expect("a new account has a root key");
    assert!(root.access_key_id.starts_with("AKIA"));
    assert!(
        outcome.summary.contains("3 users, 3 groups, 2 roles"),
        "{}",
        outcome.summary
    );
    assert!(!outcome.summary.contains("secret"));

    let iam = Iam::open(&url, Quotas::default()).await.unwrap();
    let mut tx = iam.read().await.unwrap();
    let exported = iam.all_details(&mut tx).await.unwrap();
    // Entity ids are kept: `aws:userid` is what it was.
    let alice = exported
        .users
        .iter()
        .find(|u| u.user.name.as_str() == "alice")
        .unwrap();
    let alice_id = original.user_detail_list[0].user_id.clone();
    assert_eq!(Some(alice.user.id.clone()), alice_id);
    let developer = iam
        .get_policy(&mut tx, "arn:aws:iam::111122223333:policy/DeveloperAccess")
        .await
        .unwrap();
    assert_eq!(developer.policy.default_version, "v2");
    drop(tx);
    let text = serde_json::to_string_pretty(&exported.to_json()).unwrap();
    let back = parse_export("export.json", &text).unwrap();

    let a = Snapshot::build(
        &[("account.json".to_owned(), original.clone())],
        "account.json",
    )
    .unwrap();
    let b = Snapshot::build(&[("export.json".to_owned(), back)], "export.json").unwrap();
    let mut requests = requests();
    let cases: serde_json::Value = serde_json::from_str(CASES).unwrap();
    let mut case_principals = Vec::new();
    for c in cases.as_array().unwrap() {
        let r = &c["request"];
        let mut context = ContextMap::new();
        if let Some(m) = r["context"].as_object() {
            for (k, v) in m {
                match v {
                    serde_json::Value::Array(items) => context.insert(
                        k,
                        ContextValue::multi(
                            items
                                .iter()
                                .filter_map(|i| i.as_str().map(str::to_owned))
                                .collect(),
                        ),
                    ),
                    other => context.insert(k, other.as_str().unwrap_or_default()),
                }
            }
        }
        case_principals.push(r["principal"].as_str().unwrap().to_owned());
        requests.push((
            r["action"].as_str().unwrap().to_owned(),
            r["resource"].as_str().unwrap().to_owned(),
            context,
        ));
    }
    let mut checked = 0;
    let mut allowed = 0;
    let mut everyone = principals(&original);
    everyone.extend(case_principals);
    everyone.sort();
    everyone.dedup();
    for principal in &everyone {
        for (action, resource, context) in &requests {
            let before = decide(&a, principal, action, resource, context);
            let after = decide(&b, principal, action, resource, context);
            assert_eq!(
                before, after,
                "{principal} {action} {resource}: the export decides {after:?}, the original {before:?}"
            );
            checked += 1;
            if before == Decision::Allow {
                allowed += 1;
            }
        }
    }
    // The set tells the principals apart: many requests are allowed, many are not.
    assert!(checked >= 5 * 20, "{checked}");
    assert!(
        allowed > 10 && checked - allowed > 10,
        "{allowed} of {checked}"
    );

    // The credentials: the keys (with their owners' paths) and the device, as the sidecar loads them.
    let loaded = DatabaseCredentials::start(iam.clone(), std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let current = iamlet_auth::CredentialSource::current(loaded.as_ref());
    let carol = current.key("AKIACAROLEXAMPLE0002").unwrap();
    assert_eq!(carol.user_arn, "arn:aws:iam::111122223333:user/audit/carol");
    assert_eq!(carol.status, KeyStatus::Inactive);
    let alice_key = current.key("AKIAALICEEXAMPLE0001").unwrap();
    assert_eq!(
        alice_key.secret_access_key.expose(),
        creds.access_keys[0].secret_access_key.expose()
    );
    assert_eq!(current.mfa_devices.len(), 1);
    assert_eq!(current.mfa_devices[0].status, MfaStatus::Enabled);
    assert_eq!(
        current.session_key.as_ref().unwrap().expose(),
        creds.session_key.as_ref().unwrap().expose()
    );
}

#[tokio::test]
async fn a_broken_or_conflicting_import_changes_nothing() {
    let d = dir("broken");
    let url = DatabaseUrl::parse("sqlite:iam.db", &d.0).unwrap();
    let original = parse_export("account.json", EXAMPLE).unwrap();

    // A policy that does not parse is named with its entity and JSON path; nothing is written.
    let mut broken = original.clone();
    broken.user_detail_list[0].user_policy_list.push(
        iamlet_account::export::InlinePolicy {
            policy_name: "bad".to_owned(),
            policy_document: iamlet_account::export::Document(
                r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps", "Action": "*", "Resource": "*"}]}"#
                    .to_owned(),
            ),
        },
    );
    let e = import(&url, "account.json", &broken, None)
        .await
        .unwrap_err();
    assert!(e.message.contains("UserDetailList[0]"), "{e}");
    assert!(e.message.contains("Effect"), "{e}");
    let db = Database::open(&url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM iam_account")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);

    // An AWS managed policy neither shipped nor in the export is refused.
    let mut unknown = original.clone();
    unknown.role_detail_list[1].attached_managed_policies[0].policy_arn =
        "arn:aws:iam::aws:policy/NotShippedAccess".to_owned();
    let e = import(&url, "account.json", &unknown, None)
        .await
        .unwrap_err();
    assert!(e.message.contains("NotShippedAccess"), "{e}");

    // Twice: the second finds every name taken, and rolls back whole.
    import(&url, "account.json", &original, None).await.unwrap();
    let e = import(&url, "account.json", &original, None)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::EntityAlreadyExists);
    assert!(
        e.message
            .starts_with("account.json: Policies[3] (DeveloperAccess): "),
        "{e}"
    );

    // Another account's export is refused.
    let mut other = original.clone();
    for u in &mut other.user_detail_list {
        u.arn = u.arn.replace("111122223333", "999988887777");
    }
    let e = import(&url, "other.json", &other, None).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);

    // A key for a user the account does not have.
    let mut creds = credentials();
    creds.access_keys[0].user_arn = "arn:aws:iam::111122223333:user/nobody".to_owned();
    let d2 = dir("broken-creds");
    let url2 = DatabaseUrl::parse("sqlite:iam.db", &d2.0).unwrap();
    let e = import(&url2, "account.json", &original, Some(&creds))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSuchEntity);
    assert!(e.message.contains("accessKeys[0]"), "{e}");
    assert!(!e.message.contains("EXAMPLEKEY"), "{e}");
}

#[tokio::test]
async fn an_import_into_an_account_may_use_its_policies() {
    let d = dir("into");
    let url = DatabaseUrl::parse("sqlite:iam.db", &d.0).unwrap();
    let original = parse_export("account.json", EXAMPLE).unwrap();
    import(&url, "account.json", &original, None).await.unwrap();
    // A second export names a customer managed policy it does not carry: the database's.
    let more = parse_export(
        "more.json",
        r#"{"UserDetailList": [{"UserName": "zed", "Arn": "arn:aws:iam::111122223333:user/zed",
            "AttachedManagedPolicies": [{"PolicyName": "DeveloperAccess",
                "PolicyArn": "arn:aws:iam::111122223333:policy/DeveloperAccess"}],
            "PermissionsBoundary": {"PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/boundaries/AdminBoundary"}}]}"#,
    )
    .unwrap();
    let creds = credentials();
    let mut only_zed = Credentials {
        access_keys: Vec::new(),
        mfa_devices: Vec::new(),
        session_key: creds.session_key.clone(),
    };
    only_zed.access_keys.push(AccessKey {
        user_arn: "arn:aws:iam::111122223333:user/zed".to_owned(),
        ..creds.access_keys[0].clone()
    });
    let outcome = import(&url, "more.json", &more, Some(&only_zed))
        .await
        .unwrap();
    assert!(outcome.root_key.is_none());
    assert!(
        outcome.summary.contains("session key was not imported"),
        "{}",
        outcome.summary
    );
    let iam = Iam::open(&url, Quotas::default()).await.unwrap();
    let mut tx = iam.read().await.unwrap();
    let zed = iam
        .user(
            &mut tx,
            &Name::parse("UserName", "zed", NameKind::User).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        zed.boundary.as_deref(),
        Some("arn:aws:iam::111122223333:policy/boundaries/AdminBoundary")
    );
    let attached = iam
        .list_attached_policies(
            &mut tx,
            Owner::User(&zed.name),
            &PathPrefix::default(),
            &Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(attached.items.len(), 1);
    // The database's session key stayed.
    let (key,): (String,) = sqlx::query_as("SELECT session_key FROM iam_sts WHERE id = 1")
        .fetch_one(&mut *tx.inner)
        .await
        .unwrap();
    assert_ne!(key, creds.session_key.as_ref().unwrap().expose());
}
