//! The change feed: every committed write is a numbered change that names what it touched (users,
//! groups, roles, policies, instance profiles, access keys, MFA devices) and the principals whose
//! decisions it may change, so that a reader forgets exactly those and nothing else.
//!
//! Numbers are given in commit order without gaps: writers are one at a time (`BEGIN IMMEDIATE` on
//! SQLite, an advisory lock on PostgreSQL, see [`crate::db`]), and each takes the next number inside
//! its own transaction. A reader that remembers the last number it applied resumes from it; the feed
//! keeps the last [`RETAINED`] changes, and a reader further behind is told to start over.
//!
//! The principals are worked out at commit, from the rows as the transaction leaves them: a group's
//! change reaches its members, a managed policy's reaches every user and role it is attached to
//! (directly or through a group) or bounds. What a commit removes (a deleted user, a member taken out
//! of a group, a renamed entity's old ARN) is named by the write itself, before the row goes.

use crate::db::{db_error, Database, Tx};
use crate::error::IamError;
use crate::generation::DataKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Duration;

/// How many changes the feed keeps: a reader further behind starts over from a full reload.
pub const RETAINED: i64 = 100_000;

/// What a write touched, by id (or, for what the write removes, by the ARN it had).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Touch {
    /// A user or role by its ARN as it is (or was, for a delete or the old name of a rename).
    Principal(String),
    /// A user by id, as the commit leaves it.
    User(String),
    /// A role by id.
    Role(String),
    /// A group by id: its members as the commit leaves them.
    Group(String),
    /// A managed policy by id: whoever it is attached to or bounds.
    Policy(String),
    /// What no principal's decisions depend on (an instance profile, a group's or a policy's
    /// tags), named as the feed names it (`instance-profile:AIPA…`): nothing is forgotten.
    Inert(String),
    /// An access key (its status, its existence).
    AccessKey(String),
    /// An MFA device by serial number.
    MfaDevice(String),
    /// Credentials beyond one key: the STS session key, the root key, the ARN a user's keys sign
    /// as (a rename).
    AccountCredentials,
    /// Everything (an import, the account's creation).
    Account,
}

impl Touch {
    fn kind(&self) -> DataKind {
        match self {
            Touch::AccessKey(_) | Touch::MfaDevice(_) | Touch::AccountCredentials => {
                DataKind::Credentials
            }
            _ => DataKind::Identity,
        }
    }

    /// The entity as the feed names it (`user:AIDA…`, `access-key:AKIA…`).
    fn entity(&self) -> String {
        match self {
            Touch::Principal(arn) => format!("principal:{arn}"),
            Touch::User(id) => format!("user:{id}"),
            Touch::Role(id) => format!("role:{id}"),
            Touch::Group(id) => format!("group:{id}"),
            Touch::Policy(id) => format!("policy:{id}"),
            Touch::Inert(entity) => entity.clone(),
            Touch::AccessKey(id) => format!("access-key:{id}"),
            Touch::MfaDevice(serial) => format!("mfa-device:{serial}"),
            Touch::AccountCredentials => "account-credentials".to_owned(),
            Touch::Account => "account".to_owned(),
        }
    }
}

/// What a transaction touched so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Touched(BTreeSet<Touch>);

impl Touched {
    pub(crate) fn kinds(&self) -> (bool, bool) {
        let identity = self.0.iter().any(|t| t.kind() == DataKind::Identity);
        let credentials = self.0.iter().any(|t| t.kind() == DataKind::Credentials);
        (identity, credentials)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Tx {
    /// Records that the transaction changed something: at commit it becomes one numbered change.
    pub(crate) fn touch(&mut self, t: Touch) {
        self.touched.0.insert(t);
    }
}

/// One committed change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Its number: one more than the change committed before it.
    pub sequence: i64,
    /// When it committed (milliseconds since the epoch).
    pub committed_at: i64,
    /// Whether it may change any principal's decisions (an import): a reader forgets everything.
    pub everything: bool,
    /// Whether it changed what signatures are verified with (keys, MFA devices, the session key).
    pub credentials: bool,
    /// The ARNs (path included) of the users and roles whose decisions it may change.
    pub principals: Vec<String>,
    /// What it touched, as `kind:id`.
    pub entities: Vec<String>,
}

/// Changes after a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangesPage {
    /// The changes, in order.
    pub changes: Vec<Change>,
    /// The last change number the database has (the reader's position once it applied `changes`
    /// and no `more`).
    pub latest: i64,
    /// Whether more changes follow the page.
    pub more: bool,
    /// The reader's position is older than the feed keeps: it must forget everything and resume
    /// from `latest`.
    pub resync: bool,
}

/// Writes the transaction's change, numbered; whether there was one.
pub(crate) async fn record(tx: &mut Tx) -> Result<Option<i64>, IamError> {
    if tx.touched.is_empty() {
        return Ok(None);
    }
    let touched = std::mem::take(&mut tx.touched);
    let (account,): (String,) = sqlx::query_as("SELECT id FROM iam_account")
        .fetch_one(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    let arn =
        |kind: &str, path: &str, name: &str| format!("arn:aws:iam::{account}:{kind}{path}{name}");
    let mut principals = BTreeSet::new();
    let mut everything = false;
    for t in &touched.0 {
        let rows: Vec<(String, String, String)> = match t {
            Touch::Principal(a) => {
                principals.insert(a.clone());
                continue;
            }
            Touch::Account => {
                everything = true;
                continue;
            }
            _ if everything => continue,
            Touch::User(id) => {
                principal_rows(tx, "SELECT 'user', path, name FROM iam_users WHERE id = $1", id)
                    .await?
            }
            Touch::Role(id) => {
                principal_rows(tx, "SELECT 'role', path, name FROM iam_roles WHERE id = $1", id)
                    .await?
            }
            Touch::Group(id) => {
                principal_rows(
                    tx,
                    "SELECT 'user', u.path, u.name FROM iam_users u \
                     JOIN iam_group_members m ON m.user_id = u.id WHERE m.group_id = $1",
                    id,
                )
                .await?
            }
            Touch::Policy(id) => {
                principal_rows(
                    tx,
                    "SELECT 'user', u.path, u.name FROM iam_users u JOIN iam_attachments a \
                       ON a.owner_kind = 'user' AND a.owner_id = u.id WHERE a.policy_id = $1 \
                     UNION SELECT 'role', r.path, r.name FROM iam_roles r JOIN iam_attachments a \
                       ON a.owner_kind = 'role' AND a.owner_id = r.id WHERE a.policy_id = $1 \
                     UNION SELECT 'user', u.path, u.name FROM iam_users u \
                       JOIN iam_group_members m ON m.user_id = u.id \
                       JOIN iam_attachments a ON a.owner_kind = 'group' AND a.owner_id = m.group_id \
                       WHERE a.policy_id = $1 \
                     UNION SELECT 'user', u.path, u.name FROM iam_users u \
                       JOIN iam_policies p ON u.boundary_arn = p.arn WHERE p.id = $1 \
                     UNION SELECT 'role', r.path, r.name FROM iam_roles r \
                       JOIN iam_policies p ON r.boundary_arn = p.arn WHERE p.id = $1",
                    id,
                )
                .await?
            }
            Touch::Inert(_)
            | Touch::AccessKey(_)
            | Touch::MfaDevice(_)
            | Touch::AccountCredentials => continue,
        };
        principals.extend(rows.iter().map(|(k, p, n)| arn(k, p, n)));
    }
    if everything {
        principals.clear();
    }
    let (identity, credentials) = touched.kinds();
    let (latest,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(sequence), 0) FROM iam_changes")
        .fetch_one(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    let sequence = latest + 1;
    let principals: Vec<String> = principals.into_iter().collect();
    let entities: Vec<String> = touched.0.iter().map(Touch::entity).collect();
    sqlx::query(
        "INSERT INTO iam_changes (sequence, committed_at, everything, credentials, principals, entities) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(sequence)
    .bind(chrono::Utc::now().timestamp_millis())
    .bind(i64::from(everything))
    .bind(i64::from(credentials))
    .bind(json_list(&principals))
    .bind(json_list(&entities))
    .execute(&mut *tx.inner)
    .await
    .map_err(db_error)?;
    sqlx::query("DELETE FROM iam_changes WHERE sequence <= $1")
        .bind(sequence - RETAINED)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    crate::generation::bump(tx, identity, credentials).await?;
    if tx.dialect == crate::Dialect::Postgres {
        crate::listen::notify(tx, sequence).await?;
    }
    Ok(Some(sequence))
}

async fn principal_rows(
    tx: &mut Tx,
    sql: &str,
    id: &str,
) -> Result<Vec<(String, String, String)>, IamError> {
    sqlx::query_as(sql)
        .bind(id)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

fn parse_list(column: &str, text: &str) -> Result<Vec<String>, IamError> {
    serde_json::from_str(text)
        .map_err(|e| IamError::service(format!("the change feed's {column} column: {e}")))
}

type ChangeRow = (i64, i64, i64, i64, String, String);

impl Database {
    /// The last change number (0 before the first change).
    pub async fn latest_change(&self) -> Result<i64, IamError> {
        let (latest,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(sequence), 0) FROM iam_changes")
                .fetch_one(self.pool())
                .await
                .map_err(db_error)?;
        Ok(latest)
    }

    /// Up to `limit` changes after number `after`, in order, read in one statement from the pool
    /// (no transaction is held: a reader may call this in a loop).
    pub async fn changes_after(&self, after: i64, limit: u32) -> Result<ChangesPage, IamError> {
        // The latest number first: a commit between the two reads then adds a row beyond it, which
        // is harmless; read the other way round, it would look like a gap and force a resync.
        let latest = self.latest_change().await?;
        let rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT sequence, committed_at, everything, credentials, principals, entities \
             FROM iam_changes WHERE sequence > $1 ORDER BY sequence LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit) + 1)
        .fetch_all(self.pool())
        .await
        .map_err(db_error)?;
        let latest = rows.last().map_or(latest, |r| r.0.max(latest));
        // The reader missed changes the feed no longer keeps (or is ahead of a database that was
        // replaced): only a full reload is right.
        let first = rows.first().map(|r| r.0);
        let resync = after > latest || (after < latest && first != Some(after + 1));
        if resync {
            return Ok(ChangesPage {
                changes: Vec::new(),
                latest,
                more: false,
                resync: true,
            });
        }
        let more = rows.len() > limit as usize;
        let changes = rows
            .into_iter()
            .take(limit as usize)
            .map(
                |(sequence, committed_at, everything, credentials, principals, entities)| {
                    Ok(Change {
                        sequence,
                        committed_at,
                        everything: everything != 0,
                        credentials: credentials != 0,
                        principals: parse_list("principals", &principals)?,
                        entities: parse_list("entities", &entities)?,
                    })
                },
            )
            .collect::<Result<Vec<_>, IamError>>()?;
        Ok(ChangesPage {
            changes,
            latest,
            more,
            resync,
        })
    }

    /// Like [`Database::changes_after`], but waits up to `wait` for a change when there is none
    /// yet: woken at once by this process's commits, and by polling every `poll` for another
    /// process's.
    pub async fn wait_for_changes(
        &self,
        after: i64,
        limit: u32,
        wait: Duration,
        poll: Duration,
    ) -> Result<ChangesPage, IamError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut commits = self.commits();
        loop {
            let page = self.changes_after(after, limit).await?;
            if !page.changes.is_empty() || page.resync {
                return Ok(page);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(page);
            }
            let nap = poll.min(deadline - now);
            tokio::select! {
                _ = commits.changed() => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{name, temp_db, user};
    use crate::{
        CreatePolicy, IamPath, KeyOwner, KeyState, NameKind, Owner, PolicyDocument, UpdateUser,
    };
    use iamlet_engine::PolicyType;

    const ACCOUNT: &str = "arn:aws:iam::111122223333";

    fn doc(action: &str) -> PolicyDocument {
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"*"}}}}"#
        );
        PolicyDocument::parse("PolicyDocument", &text, PolicyType::Identity).unwrap()
    }

    /// The one change after `after`.
    async fn next(db: &Database, after: i64) -> Change {
        let page = db.changes_after(after, 10).await.unwrap();
        assert!(!page.resync);
        assert_eq!(page.changes.len(), 1, "{page:?}");
        page.changes.into_iter().next().unwrap()
    }

    #[tokio::test]
    async fn each_write_names_the_principals_it_affects() {
        let t = temp_db("changes").await;
        let (iam, db) = (&t.iam, t.iam.database());
        let mut at = db.latest_change().await.unwrap();
        assert!(at >= 1, "the account's creation is a change");

        let mut tx = iam.write().await.unwrap();
        let alice = iam.create_user(&mut tx, &user("alice")).await.unwrap();
        iam.create_user(&mut tx, &user("bob")).await.unwrap();
        tx.commit().await.unwrap();
        let c = next(db, at).await;
        assert_eq!(c.sequence, at + 1);
        assert_eq!(
            c.principals,
            [
                format!("{ACCOUNT}:user/alice"),
                format!("{ACCOUNT}:user/bob")
            ]
        );
        assert!(!c.credentials && !c.everything);
        at = c.sequence;

        // A group's policy reaches its members, and only them.
        let ops = name("ops", NameKind::Group);
        let mut tx = iam.write().await.unwrap();
        iam.create_group(&mut tx, &ops, &IamPath::root())
            .await
            .unwrap();
        iam.add_user_to_group(&mut tx, &ops, &alice.name)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        at = next(db, at).await.sequence;
        let mut tx = iam.write().await.unwrap();
        let policy = iam
            .create_policy(
                &mut tx,
                &CreatePolicy {
                    name: name("read", NameKind::Policy),
                    path: IamPath::root(),
                    document: doc("s3:GetObject"),
                    description: None,
                    tags: Vec::new(),
                },
            )
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let c = next(db, at).await;
        assert!(c.principals.is_empty(), "attached to no one yet");
        assert_eq!(c.entities, [format!("policy:{}", policy.policy.id)]);
        at = c.sequence;
        let mut tx = iam.write().await.unwrap();
        iam.attach_policy(&mut tx, Owner::Group(&ops), &policy.policy.arn)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let c = next(db, at).await;
        assert_eq!(c.principals, [format!("{ACCOUNT}:user/alice")]);
        at = c.sequence;

        // A new default version reaches whoever the policy applies to, through the group.
        let mut tx = iam.write().await.unwrap();
        iam.create_policy_version(&mut tx, &policy.policy.arn, &doc("s3:*"), true)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let c = next(db, at).await;
        assert_eq!(c.principals, [format!("{ACCOUNT}:user/alice")]);
        at = c.sequence;

        // Leaving the group reaches the one who left.
        let mut tx = iam.write().await.unwrap();
        iam.remove_user_from_group(&mut tx, &ops, &alice.name)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let c = next(db, at).await;
        assert_eq!(c.principals, [format!("{ACCOUNT}:user/alice")]);
        at = c.sequence;

        // A key's status is a credentials change naming the key.
        let mut tx = iam.write().await.unwrap();
        let owner = KeyOwner::User(alice.clone());
        let (key, _) = iam.create_access_key(&mut tx, &owner).await.unwrap();
        tx.commit().await.unwrap();
        at = next(db, at).await.sequence;
        let mut tx = iam.write().await.unwrap();
        iam.update_access_key(&mut tx, &owner, &key.id, KeyState::Inactive)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let c = next(db, at).await;
        assert!(c.credentials);
        assert_eq!(c.entities, [format!("access-key:{}", key.id)]);
        at = c.sequence;

        // A rename names the old ARN and the new one.
        let mut tx = iam.write().await.unwrap();
        iam.update_user(
            &mut tx,
            &name("bob", NameKind::User),
            &UpdateUser {
                new_name: Some(name("robert", NameKind::User)),
                new_path: Some(IamPath::parse("NewPath", Some("/eng/")).unwrap()),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let c = next(db, at).await;
        assert_eq!(
            c.principals,
            [
                format!("{ACCOUNT}:user/bob"),
                format!("{ACCOUNT}:user/eng/robert")
            ]
        );
        at = c.sequence;

        // A delete names what went.
        let mut tx = iam.write().await.unwrap();
        iam.delete_user(&mut tx, &name("robert", NameKind::User))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            next(db, at).await.principals,
            [format!("{ACCOUNT}:user/eng/robert")]
        );

        // A transaction that changes nothing is no change.
        let before = db.latest_change().await.unwrap();
        let mut tx = iam.write().await.unwrap();
        iam.list_users(
            &mut tx,
            &crate::PathPrefix::parse("PathPrefix", None).unwrap(),
            &crate::Page::default(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(db.latest_change().await.unwrap(), before);
    }

    #[tokio::test]
    async fn pages_resume_and_a_reader_too_far_behind_starts_over() {
        let t = temp_db("changes-pages").await;
        let (iam, db) = (&t.iam, t.iam.database());
        for i in 0..5 {
            let mut tx = iam.write().await.unwrap();
            iam.create_user(&mut tx, &user(&format!("u{i}")))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let latest = db.latest_change().await.unwrap();
        let page = db.changes_after(latest - 5, 2).await.unwrap();
        assert_eq!(page.changes.len(), 2);
        assert!(page.more && !page.resync);
        assert_eq!(page.changes[0].sequence, latest - 4);
        let rest = db
            .changes_after(page.changes[1].sequence, 10)
            .await
            .unwrap();
        assert_eq!(rest.changes.len(), 3);
        assert!(!rest.more);
        assert_eq!(rest.latest, latest);
        // Up to date: nothing, no resync.
        let none = db.changes_after(latest, 10).await.unwrap();
        assert!(none.changes.is_empty() && !none.resync);
        // Ahead of the database (another database, restored from a backup): start over.
        assert!(db.changes_after(latest + 3, 10).await.unwrap().resync);
        // Behind what the feed keeps: start over.
        sqlx::query("DELETE FROM iam_changes WHERE sequence <= $1")
            .bind(latest - 2)
            .execute(db.pool())
            .await
            .unwrap();
        let behind = db.changes_after(latest - 4, 10).await.unwrap();
        assert!(behind.resync && behind.changes.is_empty());
        assert_eq!(behind.latest, latest);
    }

    #[tokio::test]
    async fn a_waiting_reader_wakes_at_the_commit() {
        let t = temp_db("changes-wait").await;
        let db = t.iam.database().clone();
        let at = db.latest_change().await.unwrap();
        let waiter = tokio::spawn({
            let db = db.clone();
            async move {
                db.wait_for_changes(at, 10, Duration::from_secs(60), Duration::from_secs(60))
                    .await
                    .unwrap()
            }
        });
        tokio::task::yield_now().await;
        let mut tx = t.iam.write().await.unwrap();
        t.iam.create_user(&mut tx, &user("late")).await.unwrap();
        tx.commit().await.unwrap();
        // Woken by the commit, not by the 60 s poll or deadline (the test would time out first).
        let page = tokio::time::timeout(Duration::from_secs(20), waiter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(page.changes[0].principals, [format!("{ACCOUNT}:user/late")]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reader_racing_writers_never_sees_a_false_gap() {
        let t = temp_db("changes-race").await;
        let db = t.iam.database().clone();
        let writer = tokio::spawn({
            let iam = t.iam.clone();
            async move {
                for i in 0..60 {
                    let mut tx = iam.write().await.unwrap();
                    iam.create_user(&mut tx, &user(&format!("racer{i}")))
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            }
        });
        let mut at = db.latest_change().await.unwrap();
        while !writer.is_finished() {
            let page = db.changes_after(at, 1000).await.unwrap();
            assert!(
                !page.resync,
                "a reader that kept up was told to resync at {at}"
            );
            if let Some(last) = page.changes.last() {
                at = last.sequence;
            }
        }
        writer.await.unwrap();
    }

    #[tokio::test]
    async fn another_process_hears_the_change() {
        let t = temp_db("changes-replicas").await;
        // A second pool on the same database: another replica, as far as the database can tell.
        let other = crate::Iam::open(t.iam.database().url(), crate::Quotas::default())
            .await
            .unwrap();
        let at = other.database().latest_change().await.unwrap();
        // On PostgreSQL the notification wakes it (the poll is longer than the test may take);
        // on SQLite, its poll.
        let poll = match t.iam.database().dialect() {
            crate::Dialect::Postgres => Duration::from_secs(60),
            crate::Dialect::Sqlite => Duration::from_millis(50),
        };
        let waiter = tokio::spawn({
            let db = other.database().clone();
            async move {
                db.wait_for_changes(at, 10, Duration::from_secs(60), poll)
                    .await
                    .unwrap()
            }
        });
        // Let the waiter (and on PostgreSQL the listening connection) start first.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut tx = t.iam.write().await.unwrap();
        t.iam
            .create_user(&mut tx, &user("elsewhere"))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let page = tokio::time::timeout(Duration::from_secs(20), waiter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            page.changes[0].principals,
            [format!("{ACCOUNT}:user/elsewhere")]
        );
    }
}
