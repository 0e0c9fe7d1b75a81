//! Other processes' commits, heard at once on PostgreSQL: every commit that records a change
//! notifies a channel (`NOTIFY` is delivered at commit, never for a rollback), and each process
//! listens on one connection of its own and wakes its readers (the change feed's long polls, the
//! sidecar's cache) as its own commits do. On SQLite, and while the listening connection is being
//! re-established, readers fall back to polling at their interval: a lost notification delays a
//! change, it never loses one (the feed is read from the table).

use crate::db::{db_error, Tx};
use crate::error::IamError;
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The channel every replica's commits notify.
pub(crate) const CHANNEL: &str = "iamlet_changes";

/// Notifies the other replicas of a change when the transaction commits.
pub(crate) async fn notify(tx: &mut Tx, sequence: i64) -> Result<(), IamError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(sequence.to_string())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// The listening task; stops when the last handle to the database goes.
#[derive(Debug)]
pub(crate) struct Listening(JoinHandle<()>);

impl Drop for Listening {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Listens on `url` and wakes `commits` at each notification (and after each reconnection, for
/// what may have been missed meanwhile).
pub(crate) fn listen(url: String, commits: Arc<watch::Sender<u64>>) -> Listening {
    Listening(tokio::spawn(async move {
        loop {
            match session(&url, &commits).await {
                Ok(()) => {}
                Err(e) => tracing::warn!(
                    error = %e,
                    "listening for other replicas' IAM changes failed; polling until it is back"
                ),
            }
            commits.send_modify(|n| *n = n.wrapping_add(1));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}

async fn session(url: &str, commits: &watch::Sender<u64>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    // Whatever committed before the LISTEN took effect is found by the readers' next read.
    commits.send_modify(|n| *n = n.wrapping_add(1));
    loop {
        // `None`: the connection was lost (and is re-established by the next call).
        if listener.try_recv().await?.is_none() {
            tracing::info!("the IAM database's notification connection was lost; reconnecting");
        }
        commits.send_modify(|n| *n = n.wrapping_add(1));
    }
}
