//! Generations: one counter per kind of data, bumped by every transaction that changes it, in the
//! same transaction. A reader in any process (the sidecar's identity cache, its credentials in
//! memory) polls a single row to learn that something changed, and reloads only then.

use crate::db::{db_error, Database, Tx};
use crate::error::IamError;

/// What a change affects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKind {
    /// Users, groups, roles, policies, attachments, tags: what decisions are made with.
    Identity,
    /// Access keys, MFA devices, the STS session key: what signatures are verified with.
    Credentials,
}

impl DataKind {
    fn as_str(self) -> &'static str {
        match self {
            DataKind::Identity => "identity",
            DataKind::Credentials => "credentials",
        }
    }
}

/// Bumps the generations of what the transaction changed.
pub(crate) async fn bump(tx: &mut Tx, identity: bool, credentials: bool) -> Result<(), IamError> {
    for (kind, touched) in [
        (DataKind::Identity, identity),
        (DataKind::Credentials, credentials),
    ] {
        if touched {
            sqlx::query("UPDATE iam_generation SET generation = generation + 1 WHERE kind = $1")
                .bind(kind.as_str())
                .execute(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        }
    }
    Ok(())
}

impl Database {
    /// The generation of a kind of data now.
    pub async fn generation(&self, kind: DataKind) -> Result<i64, IamError> {
        let (g,): (i64,) = sqlx::query_as("SELECT generation FROM iam_generation WHERE kind = $1")
            .bind(kind.as_str())
            .fetch_one(self.pool())
            .await
            .map_err(db_error)?;
        Ok(g)
    }
}

/// Watches one generation: [`Watcher::changed`] resolves once it moved, woken at once by this
/// process's commits and otherwise by polling (another process's commits).
#[derive(Debug)]
pub(crate) struct Watcher {
    db: Database,
    kind: DataKind,
    poll: std::time::Duration,
    seen: tokio::sync::Mutex<i64>,
}

impl Watcher {
    /// Watches from the generation now.
    pub(crate) async fn new(
        db: Database,
        kind: DataKind,
        poll: std::time::Duration,
    ) -> Result<Watcher, IamError> {
        let seen = db.generation(kind).await?;
        Ok(Watcher {
            db,
            kind,
            poll,
            seen: tokio::sync::Mutex::new(seen),
        })
    }

    /// Resolves once the generation differs from the one last seen. A database that cannot be
    /// read is retried at the poll interval (and reported).
    pub(crate) async fn changed(&self) {
        let mut seen = self.seen.lock().await;
        // Subscribed before the first read: a commit after that read wakes the wait below.
        let mut commits = self.db.commits();
        loop {
            match self.db.generation(self.kind).await {
                Ok(g) if g != *seen => {
                    *seen = g;
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, kind = self.kind.as_str(), "reading the IAM database's generation failed")
                }
            }
            tokio::select! {
                _ = commits.changed() => {}
                () = tokio::time::sleep(self.poll) => {}
            }
        }
    }
}
