//! The live IAM API source against moto's IAM server (`moto_server`, from PyPI's `moto[server]`):
//! the harness starts it on 127.0.0.1, populates it through the IAM API with the Rust SDK, resolves
//! and evaluates end to end, and kills it on drop. Without moto the tests fail, saying how to install
//! it: CI installs it (scripts/setup).

use iamlet_engine::{ContextMap, Decision};
use iamlet_store::iam_api::{self, IamApiConfig, IamApiMode, StaticCredentials};
use iamlet_store::{AccountSource, Query, Store, StoreConfig, StoreError};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ACCOUNT: &str = "123456789012"; // moto's default account

/// A moto server, killed on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start `moto_server` ({e}): the live-IAM tests run against moto's IAM server; \
                 install it with `python3 -m pip install 'moto[server]'` (scripts/setup does)"
            )
        });
    let mut moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return moto;
        }
        if let Ok(Some(status)) = moto.child.try_wait() {
            panic!(
                "`moto_server` exited ({status}) before listening: is `moto[server]` installed? \
                 `python3 -m pip install 'moto[server]'`"
            );
        }
        assert!(
            Instant::now() < deadline,
            "`moto_server` did not listen on port {port} within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn config(moto: &Moto, mode: IamApiMode) -> IamApiConfig {
    IamApiConfig {
        mode,
        endpoint_url: Some(moto.endpoint.clone()),
        region: Some("us-east-1".into()),
        credentials: Some(StaticCredentials {
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
        }),
    }
}

fn doc(statements: serde_json::Value) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

fn tag(k: &str, v: &str) -> aws_sdk_iam::types::Tag {
    aws_sdk_iam::types::Tag::builder()
        .key(k)
        .value(v)
        .build()
        .unwrap()
}

/// The example account's story, created through the IAM API.
async fn populate(c: &aws_sdk_iam::Client) {
    let dev = c
        .create_policy()
        .policy_name("DeveloperAccess")
        .policy_document(doc(serde_json::json!([
            {"Effect": "Allow", "Action": ["ec2:*", "logs:*"], "Resource": "*"}
        ])))
        .send()
        .await
        .unwrap();
    let dev_arn = dev.policy().unwrap().arn().unwrap().to_owned();
    c.create_policy_version()
        .policy_arn(&dev_arn)
        .policy_document(doc(serde_json::json!([
            {"Sid": "ReadTheFleet", "Effect": "Allow", "Action": ["ec2:Describe*", "logs:Get*"], "Resource": "*"}
        ])))
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    let boundary = c
        .create_policy()
        .policy_name("AdminBoundary")
        .path("/boundaries/")
        .policy_document(doc(serde_json::json!([
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"}
        ])))
        .send()
        .await
        .unwrap();
    let boundary_arn = boundary.policy().unwrap().arn().unwrap().to_owned();
    let admin = c
        .create_policy()
        .policy_name("Admin")
        .policy_document(doc(
            serde_json::json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
        ))
        .send()
        .await
        .unwrap();
    let admin_arn = admin.policy().unwrap().arn().unwrap().to_owned();

    c.create_group()
        .group_name("developers")
        .send()
        .await
        .unwrap();
    c.attach_group_policy()
        .group_name("developers")
        .policy_arn(&dev_arn)
        .send()
        .await
        .unwrap();
    c.create_group().group_name("oncall").send().await.unwrap();
    c.put_group_policy()
        .group_name("oncall")
        .policy_name("reboot-own-team")
        .policy_document(doc(serde_json::json!([{
            "Effect": "Allow", "Action": "ec2:RebootInstances", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
        }])))
        .send()
        .await
        .unwrap();

    c.create_user()
        .user_name("alice")
        .tags(tag("team", "payments"))
        .send()
        .await
        .unwrap();
    c.add_user_to_group()
        .user_name("alice")
        .group_name("developers")
        .send()
        .await
        .unwrap();
    c.add_user_to_group()
        .user_name("alice")
        .group_name("oncall")
        .send()
        .await
        .unwrap();
    c.put_user_policy()
        .user_name("alice")
        .policy_name("s3-home")
        .policy_document(doc(serde_json::json!([{
            "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"
        }])))
        .send()
        .await
        .unwrap();

    // moto keeps no permissions boundary for users (it does for roles): bob is a plain admin, and
    // the capped administrator is a role.
    c.create_user().user_name("bob").send().await.unwrap();
    c.attach_user_policy()
        .user_name("bob")
        .policy_arn(&admin_arn)
        .send()
        .await
        .unwrap();
    c.create_role()
        .role_name("platform-admin")
        .permissions_boundary(&boundary_arn)
        .assume_role_policy_document(doc(serde_json::json!([{
            "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:user/bob")}, "Action": "sts:AssumeRole"
        }])))
        .send()
        .await
        .unwrap();
    c.attach_role_policy()
        .role_name("platform-admin")
        .policy_arn(&admin_arn)
        .send()
        .await
        .unwrap();

    c.create_role()
        .role_name("ci-deploy")
        .path("/service-role/")
        .assume_role_policy_document(doc(serde_json::json!([{
            "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"
        }])))
        .tags(tag("purpose", "ci"))
        .send()
        .await
        .unwrap();
    c.put_role_policy()
        .role_name("ci-deploy")
        .policy_name("publish-artifacts")
        .policy_document(doc(serde_json::json!([{
            "Effect": "Allow", "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/artifacts/*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/purpose": "ci"}}
        }])))
        .send()
        .await
        .unwrap();
}

async fn decide(
    store: &Store,
    principal: &str,
    action: &str,
    resource: &str,
    ctx: &[(&str, &str)],
) -> Decision {
    let mut context = ContextMap::new();
    for (k, v) in ctx {
        context.insert(k, *v);
    }
    let q = Query {
        principal: principal.into(),
        action: action.into(),
        resource: resource.into(),
        context,
        ..Query::default()
    };
    store.prepare(q).await.unwrap().evaluate()
}

/// The same story, whichever mode the store reads IAM in.
async fn check(store: &Store) {
    let alice = format!("arn:aws:iam::{ACCOUNT}:user/alice");
    let r = store.resolve(&alice, None).await.unwrap();
    let mut policies = r.summary().policies.clone();
    policies.sort();
    assert_eq!(
        policies,
        [
            format!("arn:aws:iam::{ACCOUNT}:policy/DeveloperAccess"),
            "group/oncall:inline/reboot-own-team".to_owned(),
            "user/alice:inline/s3-home".to_owned(),
        ]
    );
    assert_eq!(r.tags(), [("team".to_owned(), "payments".to_owned())]);
    let home = "arn:aws:s3:::amzn-s3-demo-bucket/home/alice/notes.txt";
    assert_eq!(
        decide(store, &alice, "s3:GetObject", home, &[]).await,
        Decision::Allow
    );
    assert_eq!(
        decide(
            store,
            &alice,
            "s3:GetObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/home/bob/x",
            &[]
        )
        .await,
        Decision::ImplicitDeny
    );
    // The managed policy's default version is v2.
    assert_eq!(
        decide(store, &alice, "ec2:DescribeInstances", "*", &[]).await,
        Decision::Allow
    );
    assert_eq!(
        decide(store, &alice, "ec2:TerminateInstances", "*", &[]).await,
        Decision::ImplicitDeny
    );
    // Her tag, through her group's policy.
    assert_eq!(
        decide(
            store,
            &alice,
            "ec2:RebootInstances",
            "*",
            &[("aws:ResourceTag/team", "payments")]
        )
        .await,
        Decision::Allow
    );
    // bob is an administrator; the platform-admin role is one capped by a boundary.
    let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
    let new_user = format!("arn:aws:iam::{ACCOUNT}:user/eve");
    assert_eq!(
        decide(store, &bob, "iam:CreateUser", &new_user, &[]).await,
        Decision::Allow
    );
    let capped = format!("arn:aws:sts::{ACCOUNT}:assumed-role/platform-admin/bob");
    let r = store.resolve(&capped, None).await.unwrap();
    assert_eq!(
        r.summary().boundary.as_deref(),
        Some(format!("arn:aws:iam::{ACCOUNT}:policy/boundaries/AdminBoundary").as_str())
    );
    assert_eq!(
        decide(store, &capped, "s3:ListAllMyBuckets", "*", &[]).await,
        Decision::Allow
    );
    assert_eq!(
        decide(store, &capped, "iam:CreateUser", &new_user, &[]).await,
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(store, &capped, "iam:GetUser", &new_user, &[]).await,
        Decision::Allow
    );
    let platform_admin = format!("arn:aws:iam::{ACCOUNT}:role/platform-admin");
    assert_eq!(
        decide(store, &bob, "sts:AssumeRole", &platform_admin, &[]).await,
        Decision::Allow
    );
    // A role session: the role's path in its issuer, the role's tags in its context.
    let session = format!("arn:aws:sts::{ACCOUNT}:assumed-role/ci-deploy/build-7");
    let r = store.resolve(&session, None).await.unwrap();
    let role = format!("arn:aws:iam::{ACCOUNT}:role/service-role/ci-deploy");
    assert_eq!(r.session_issuer(), Some(role.as_str()));
    assert_eq!(
        decide(
            store,
            &session,
            "s3:PutObject",
            "arn:aws:s3:::amzn-s3-demo-bucket/artifacts/a.zip",
            &[]
        )
        .await,
        Decision::Allow
    );
    // The trust policy decides AssumeRole.
    assert_eq!(
        decide(
            store,
            "codebuild.amazonaws.com",
            "sts:AssumeRole",
            &role,
            &[]
        )
        .await,
        Decision::Allow
    );
    assert_eq!(
        decide(store, "ec2.amazonaws.com", "sts:AssumeRole", &role, &[]).await,
        Decision::ImplicitDeny
    );
    // Unknown principals.
    assert!(matches!(
        store
            .resolve(&format!("arn:aws:iam::{ACCOUNT}:user/mallory"), None)
            .await,
        Err(StoreError::UnknownPrincipal(_))
    ));
    assert!(matches!(
        store
            .resolve(
                &format!("arn:aws:iam::{ACCOUNT}:user/wrong-path/alice"),
                None
            )
            .await,
        Err(StoreError::UnknownPrincipal(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_iam_per_principal_and_account_snapshot() {
    let moto = start_moto();
    let client = iam_api::client(&config(&moto, IamApiMode::PerPrincipal)).await;
    populate(&client).await;

    let per_principal = Store::open(StoreConfig {
        accounts: AccountSource::IamApi(config(&moto, IamApiMode::PerPrincipal)),
        ..StoreConfig::path("unused")
    })
    .await
    .unwrap();
    check(&per_principal).await;
    assert!(per_principal.snapshot().is_none());
    // Cached: asking again makes no call.
    let before = per_principal.cache_stats();
    per_principal
        .resolve(&format!("arn:aws:iam::{ACCOUNT}:user/alice"), None)
        .await
        .unwrap();
    assert_eq!(per_principal.cache_stats().fetches, before.fetches);

    let snapshot = Store::open(StoreConfig {
        accounts: AccountSource::IamApi(config(&moto, IamApiMode::AccountSnapshot)),
        ..StoreConfig::path("unused")
    })
    .await
    .unwrap();
    check(&snapshot).await;
    assert!(snapshot.snapshot().unwrap().principals().len() >= 3);

    // The server goes away: cached principals are still served; new ones fail closed.
    drop(moto);
    per_principal
        .resolve(&format!("arn:aws:iam::{ACCOUNT}:user/bob"), None)
        .await
        .unwrap();
    per_principal.invalidate_all();
    assert!(matches!(
        per_principal
            .resolve(&format!("arn:aws:iam::{ACCOUNT}:user/bob"), None)
            .await,
        Err(StoreError::Unavailable { .. })
    ));
}
