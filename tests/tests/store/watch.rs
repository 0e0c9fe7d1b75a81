//! File and directory sources: loaded at start, polled, swapped atomically, and a broken version
//! reported while the last good snapshot stays in force.

use super::{arn, example, temp_dir};
use iamlet_engine::Decision;
use iamlet_store::{LoadError, Query, Store, StoreConfig};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// Writes atomically, as a deployment would (write then rename).
fn write(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..200 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

fn example_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(example("account.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_reloaded_and_corrupt_versions_keep_the_last_good_snapshot() {
    let dir = temp_dir("watch");
    let path = dir.join("account.json");
    let mut export = example_json();
    write(&path, &export.to_string());
    let store = Store::open(StoreConfig::path(&path).watching(Duration::from_millis(20)))
        .await
        .unwrap();
    let alice = arn("user/alice");
    assert_eq!(
        store
            .resolve(&alice, None)
            .await
            .unwrap()
            .summary()
            .policies
            .len(),
        3
    );

    // alice loses her inline policy: the cache is invalidated on reload.
    export["UserDetailList"][0]["UserPolicyList"] = Value::Array(Vec::new());
    write(&path, &export.to_string());
    wait_for("the reload", || store.accounts_status().unwrap().loads == 2).await;
    assert_eq!(
        store
            .resolve(&alice, None)
            .await
            .unwrap()
            .summary()
            .policies
            .len(),
        2
    );

    // Not JSON: reported, the last good snapshot stays.
    write(&path, "{ \"UserDetailList\": [ ");
    wait_for("the failure", || {
        store.accounts_status().unwrap().failures == 1
    })
    .await;
    let status = store.accounts_status().unwrap();
    assert!(
        matches!(status.last_error, Some(LoadError::Format { .. })),
        "{status:?}"
    );
    assert_eq!(status.loads, 2);
    assert_eq!(
        store
            .resolve(&alice, None)
            .await
            .unwrap()
            .summary()
            .policies
            .len(),
        2
    );

    // A broken policy: the error names the entity and the JSON path.
    let mut broken = example_json();
    broken["GroupDetailList"][1]["GroupPolicyList"][0]["PolicyDocument"]["Statement"][0]
        ["Action"] = Value::from(7);
    write(&path, &broken.to_string());
    wait_for("the second failure", || {
        store.accounts_status().unwrap().failures == 2
    })
    .await;
    let err = store
        .accounts_status()
        .unwrap()
        .last_error
        .unwrap()
        .to_string();
    assert!(
        err.contains("GroupDetailList[1] (oncall).GroupPolicyList[0] (reboot-own-team): Statement[0].Action: "),
        "{err}"
    );
    assert_eq!(
        store
            .resolve(&alice, None)
            .await
            .unwrap()
            .summary()
            .policies
            .len(),
        2
    );
    let q = Query {
        principal: alice.clone(),
        action: "ec2:RebootInstances".into(),
        resource: "arn:aws:ec2:eu-west-1:111122223333:instance/i-1".into(),
        ..Query::default()
    };
    assert_eq!(
        store.prepare(q).await.unwrap().evaluate(),
        Decision::ImplicitDeny
    );

    // Fixed: loaded, and the error is cleared.
    write(&path, &example_json().to_string());
    wait_for("the fix", || store.accounts_status().unwrap().loads == 3).await;
    assert!(store.accounts_status().unwrap().last_error.is_none());
    assert_eq!(
        store
            .resolve(&alice, None)
            .await
            .unwrap()
            .summary()
            .policies
            .len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_holds_one_export_per_account() {
    let dir = temp_dir("dir");
    write(
        &dir.join("111122223333.json"),
        &std::fs::read_to_string(example("account.json")).unwrap(),
    );
    // The second account attaches an AWS-managed policy that only the first file carries.
    let erin = r#"{"UserDetailList":[{"UserName":"erin","Arn":"arn:aws:iam::444455556666:user/erin",
        "AttachedManagedPolicies":[{"PolicyName":"AdministratorAccess","PolicyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}]}]}"#;
    write(&dir.join("444455556666.json"), erin);
    let store = Store::open(StoreConfig::path(&dir).watching(Duration::from_millis(20)))
        .await
        .unwrap();
    let snapshot = store.snapshot().unwrap();
    assert_eq!(
        snapshot.accounts().collect::<Vec<_>>(),
        ["111122223333", "444455556666"]
    );
    let r = store
        .resolve("arn:aws:iam::444455556666:user/erin", None)
        .await
        .unwrap();
    assert_eq!(
        r.summary().policies,
        ["arn:aws:iam::aws:policy/AdministratorAccess"]
    );
    assert!(store.resolve(&arn("user/alice"), None).await.is_ok());

    // A third account appears.
    let frank =
        r#"{"UserDetailList":[{"UserName":"frank","Arn":"arn:aws:iam::777788889999:user/frank"}]}"#;
    write(&dir.join("777788889999.json"), frank);
    wait_for("the new file", || {
        store.accounts_status().unwrap().loads == 2
    })
    .await;
    assert!(store
        .resolve("arn:aws:iam::777788889999:user/frank", None)
        .await
        .is_ok());

    // A broken file names itself.
    write(
        &dir.join("777788889999.json"),
        r#"{"UserDetailList":[{"UserName":"frank","Arn":"arn:aws:iam::777788889999:user/frank","GroupList":["x"]}]}"#,
    );
    wait_for("the failure", || {
        store.accounts_status().unwrap().failures == 1
    })
    .await;
    let err = store
        .accounts_status()
        .unwrap()
        .last_error
        .unwrap()
        .to_string();
    assert!(
        err.contains("777788889999.json: UserDetailList[0] (frank).GroupList[0]: group `x`"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organization_file_is_watched_too() {
    let dir = temp_dir("org");
    let org_path = dir.join("organization.json");
    let org_text = std::fs::read_to_string(example("organization.json")).unwrap();
    write(&org_path, &org_text);
    let config = StoreConfig::path(example("account.json"))
        .with_organization_path(&org_path)
        .watching(Duration::from_millis(20));
    let store = Store::open(config).await.unwrap();
    let q = || Query {
        principal: arn("user/alice"),
        action: "ec2:DescribeInstances".into(),
        resource: "*".into(),
        context: {
            let mut c = iamlet_engine::ContextMap::new();
            c.insert("aws:RequestedRegion", "ap-south-1");
            c
        },
        ..Query::default()
    };
    assert_eq!(
        store.prepare(q()).await.unwrap().evaluate(),
        Decision::ExplicitDeny
    );
    // Detach the region guard from the Workloads OU.
    let mut org: Value = serde_json::from_str(&org_text).unwrap();
    org["OrganizationalUnits"][0]["Policies"] =
        serde_json::json!(["FullAWSAccess", "RCPFullAWSAccess", "DataPerimeter"]);
    write(&org_path, &org.to_string());
    wait_for("the reload", || {
        store.organization_status().unwrap().loads == 2
    })
    .await;
    assert_eq!(
        store.prepare(q()).await.unwrap().evaluate(),
        Decision::Allow
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_down_at_start_is_unready_then_loads_when_the_source_appears() {
    let dir = temp_dir("unready");
    let path = dir.join("account.json");
    let org = dir.join("organization.json");
    // Without a watcher nothing would retry: still an error, naming the file.
    let err = Store::open_unready(StoreConfig::path(&path))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("account.json"), "{err}");

    let config = StoreConfig::path(&path)
        .with_organization_path(&org)
        .watching(Duration::from_millis(20));
    let store = Store::open_unready(config).await.unwrap();
    let status = store.accounts_status().unwrap();
    assert_eq!(status.loads, 0);
    assert!(status.last_error.is_some());
    let alice = arn("user/alice");
    let why = store.resolve(&alice, None).await.unwrap_err().to_string();
    assert!(why.contains("organization.json has not loaded"), "{why}");

    // The organization arrives first: lookups now fail on the accounts, never answer without SCPs.
    write(
        &org,
        &std::fs::read_to_string(example("organization.json")).unwrap(),
    );
    wait_for("the organization", || {
        store.organization_status().unwrap().loads == 1
    })
    .await;
    let why = store.resolve(&alice, None).await.unwrap_err().to_string();
    assert!(why.contains("account.json has not loaded"), "{why}");

    write(&path, &example_json().to_string());
    wait_for("the accounts", || {
        store.accounts_status().unwrap().loads == 1
    })
    .await;
    assert!(store.resolve(&alice, None).await.is_ok());
}
