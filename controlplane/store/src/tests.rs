//! The store on a real SQLite file: what every operation module's tests build on.

use crate::*;
use std::path::PathBuf;

pub(crate) struct TempDb {
    pub(crate) dir: PathBuf,
    pub(crate) iam: Iam,
    pub(crate) root: RootKey,
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new account in a fresh database: a SQLite file, or with `IAMLET_TEST_POSTGRES` set (by
/// `scripts/with-postgres`) a new database on that PostgreSQL server, so every store test runs on
/// both dialects.
pub(crate) async fn temp_db(name: &str) -> TempDb {
    let dir = std::env::temp_dir().join(format!("iamlet-iam-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let url = match std::env::var("IAMLET_TEST_POSTGRES") {
        Ok(admin) => postgres_db(&admin, name).await,
        Err(_) => DatabaseUrl::parse("sqlite:iam.db", &dir).unwrap(),
    };
    let (iam, root) = Iam::init(&url, "111122223333", Quotas::default())
        .await
        .unwrap();
    TempDb { dir, iam, root }
}

/// A new, empty database on the test server (the cluster is thrown away after the suite).
async fn postgres_db(admin: &str, name: &str) -> DatabaseUrl {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let db = format!("iamlet_{}_{}", name.replace('-', "_"), std::process::id());
    let mut conn = sqlx::AnyConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    DatabaseUrl::parse(&format!("{base}/{db}"), std::path::Path::new(".")).unwrap()
}

pub(crate) fn name(n: &str, kind: NameKind) -> Name {
    Name::parse("Name", n, kind).unwrap()
}

pub(crate) fn user(n: &str) -> CreateUser {
    CreateUser {
        name: name(n, NameKind::User),
        path: IamPath::root(),
        boundary: None,
        tags: Vec::new(),
    }
}

#[tokio::test]
async fn init_once_then_open() {
    let t = temp_db("init").await;
    assert!(t.root.access_key_id.starts_with("AKIA"));
    let url = t.iam.database().url().clone();
    let e = Iam::init(&url, "111122223333", Quotas::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::EntityAlreadyExists);
    let again = Iam::open(&url, Quotas::default()).await.unwrap();
    assert_eq!(again.account_id(), "111122223333");
    let empty = DatabaseUrl::parse("sqlite:other.db", &t.dir).unwrap();
    let e = Iam::open(&empty, Quotas::default()).await.unwrap_err();
    assert!(e.message.contains("iamlet iam init"), "{e}");
}

#[tokio::test]
async fn users_live_and_die_by_iam_rules() {
    let t = temp_db("users").await;
    let iam = &t.iam;
    let mut tx = iam.write().await.unwrap();
    let mut bob = user("Bob");
    bob.path = IamPath::parse("Path", Some("/ops/")).unwrap();
    bob.tags = Tag::parse_list(&[("team", "platform")]).unwrap();
    let created = iam.create_user(&mut tx, &bob).await.unwrap();
    assert_eq!(created.arn, "arn:aws:iam::111122223333:user/ops/Bob");
    assert!(created.id.starts_with("AIDA") && created.id.len() == 21);
    let e = iam.create_user(&mut tx, &user("bob")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::EntityAlreadyExists);
    iam.create_user(&mut tx, &user("alice")).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = iam.read().await.unwrap();
    let got = iam
        .get_user(&mut tx, &name("BOB", NameKind::User))
        .await
        .unwrap();
    assert_eq!(got.name.as_str(), "Bob");
    assert_eq!(got.tags.len(), 1);
    let ops = PathPrefix::parse("PathPrefix", Some("/ops")).unwrap();
    let listed = iam
        .list_users(&mut tx, &ops, &Page::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let first = iam
        .list_users(
            &mut tx,
            &PathPrefix::default(),
            &Page::parse(None, Some("1")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(first.items[0].name.as_str(), "alice");
    let second = iam
        .list_users(
            &mut tx,
            &PathPrefix::default(),
            &Page::parse(first.marker.as_deref(), Some("1")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(second.items[0].name.as_str(), "Bob");
    assert!(!second.is_truncated());
    drop(tx);

    let mut tx = iam.write().await.unwrap();
    let g = name("admins", NameKind::Group);
    iam.create_group(&mut tx, &g, &IamPath::root())
        .await
        .unwrap();
    iam.add_user_to_group(&mut tx, &g, &name("bob", NameKind::User))
        .await
        .unwrap();
    let e = iam
        .delete_user(&mut tx, &name("bob", NameKind::User))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::DeleteConflict);
    let e = iam.delete_group(&mut tx, &g).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::DeleteConflict);
    iam.remove_user_from_group(&mut tx, &g, &name("bob", NameKind::User))
        .await
        .unwrap();
    iam.delete_user(&mut tx, &name("bob", NameKind::User))
        .await
        .unwrap();
    let e = iam
        .user(&mut tx, &name("bob", NameKind::User))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NoSuchEntity);
    assert_eq!(e.message, "The user with name bob cannot be found.");
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn quotas_hold() {
    let t = temp_db("quotas").await;
    let iam = Iam {
        quotas: Quotas {
            users: 2,
            groups_per_user: 1,
            ..Quotas::default()
        },
        ..t.iam.clone()
    };
    let mut tx = iam.write().await.unwrap();
    iam.create_user(&mut tx, &user("a")).await.unwrap();
    iam.create_user(&mut tx, &user("b")).await.unwrap();
    let e = iam.create_user(&mut tx, &user("c")).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
    for g in ["g1", "g2"] {
        iam.create_group(&mut tx, &name(g, NameKind::Group), &IamPath::root())
            .await
            .unwrap();
    }
    let a = name("a", NameKind::User);
    iam.add_user_to_group(&mut tx, &name("g1", NameKind::Group), &a)
        .await
        .unwrap();
    let e = iam
        .add_user_to_group(&mut tx, &name("g2", NameKind::Group), &a)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded);
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_nothing() {
    let t = temp_db("rollback").await;
    let iam = &t.iam;
    let before = iam.database().generation(DataKind::Identity).await.unwrap();
    {
        let mut tx = iam.write().await.unwrap();
        iam.create_user(&mut tx, &user("ghost")).await.unwrap();
    }
    let mut tx = iam.read().await.unwrap();
    assert!(iam
        .find_user(&mut tx, &name("ghost", NameKind::User))
        .await
        .unwrap()
        .is_none());
    drop(tx);
    assert_eq!(
        iam.database().generation(DataKind::Identity).await.unwrap(),
        before
    );
    let mut tx = iam.write().await.unwrap();
    iam.create_user(&mut tx, &user("real")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        iam.database().generation(DataKind::Identity).await.unwrap(),
        before + 1
    );
}

#[tokio::test]
async fn the_sidecar_reads_principals_and_keys() {
    use iamlet_auth::CredentialSource as _;
    use iamlet_store::{Fetcher as _, LiveFetcher as _};
    let t = temp_db("sidecar").await;
    let iam = &t.iam;
    let fetcher = DatabaseFetcher::new(iam.clone(), std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let credentials = DatabaseCredentials::start(iam.clone(), std::time::Duration::from_secs(60))
        .await
        .unwrap();
    let root = credentials.current();
    assert_eq!(root.access_keys.len(), 1);
    assert_eq!(
        root.access_keys[0].user_arn,
        "arn:aws:iam::111122223333:root"
    );
    assert!(root.session_key().unwrap().is_some());

    let key = iamlet_store::PrincipalKey::User("arn:aws:iam::111122223333:user/team/carol".into());
    assert!(matches!(
        fetcher.fetch(&key).await,
        Err(iamlet_account::FetchError::NotFound(_))
    ));
    let changed = fetcher.changed();
    let mut tx = iam.write().await.unwrap();
    let mut carol = user("carol");
    carol.path = IamPath::parse("Path", Some("/team/")).unwrap();
    iam.create_user(&mut tx, &carol).await.unwrap();
    tx.commit().await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), changed)
        .await
        .expect("a commit in this process wakes the fetcher at once");
    let parts = fetcher.fetch(&key).await.unwrap();
    assert_eq!(parts.entity, "arn:aws:iam::111122223333:user/team/carol");
    assert!(parts.unique_id.unwrap().starts_with("AIDA"));
    // The same name under another path is another principal.
    let wrong = iamlet_store::PrincipalKey::User("arn:aws:iam::111122223333:user/carol".into());
    assert!(fetcher.fetch(&wrong).await.is_err());
    let other = iamlet_store::PrincipalKey::Root("999988887777".into());
    assert!(fetcher.fetch(&other).await.is_err());
}

#[tokio::test]
async fn a_groups_details_are_its_policies() {
    let t = temp_db("group-details").await;
    let iam = &t.iam;
    let mut tx = iam.write().await.unwrap();
    let g = iam
        .create_group(&mut tx, &name("Ops", NameKind::Group), &IamPath::root())
        .await
        .unwrap();
    let doc = |text: &str| {
        PolicyDocument::parse("PolicyDocument", text, iamlet_engine::PolicyType::Identity).unwrap()
    };
    let text =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
    iam.put_inline_policy(
        &mut tx,
        Owner::Group(&g.name),
        &name("inline", NameKind::Policy),
        &doc(text),
    )
    .await
    .unwrap();
    let m = iam
        .create_policy(
            &mut tx,
            &policies::CreatePolicy {
                name: name("m", NameKind::Policy),
                path: IamPath::root(),
                document: doc(text),
                description: None,
                tags: Vec::new(),
            },
        )
        .await
        .unwrap();
    iam.attach_policy(&mut tx, Owner::Group(&g.name), &m.policy.arn)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = iam.read().await.unwrap();
    let ops = name("ops", NameKind::Group);
    let d = iam
        .principal_details(&mut tx, export::PrincipalRef::Group(&ops))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.groups.len(), 1);
    assert_eq!(d.groups[0].inline[0].name, "inline");
    assert_eq!(
        d.groups[0].attached[0].arn,
        "arn:aws:iam::111122223333:policy/m"
    );
    assert_eq!(d.policies.len(), 1);
    assert!(d.policies[0].versions[0].is_default);
    assert!(d.users.is_empty() && d.roles.is_empty());
    let none = name("nobody", NameKind::Group);
    assert!(iam
        .principal_details(&mut tx, export::PrincipalRef::Group(&none))
        .await
        .unwrap()
        .is_none());
}
