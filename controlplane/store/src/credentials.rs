//! The sidecar's credentials from the IAM database (`[principal] sigv4 = "database"`): every access
//! key, MFA device and the STS session key held in memory as the credentials file's document is, and
//! reloaded when the credentials generation moves; MFA attempts recorded in a transaction; key use
//! (`GetAccessKeyLastUsed`) collected and written in batches, never on a request's path.

use crate::db::{db_error, Tx};
use crate::generation::{DataKind, Watcher};
use crate::model::EntityKind;
use crate::names::IamPath;
use crate::{Iam, IamError, ROOT_OWNER};
use arc_swap::ArcSwap;
use iamlet_auth::{
    AccessKey, BoxFuture, CredentialSource, Credentials, CredentialsError, KeyStatus, KeyUse,
    MfaDevice, MfaError, MfaStatus, Secret,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How often collected key uses are written.
const KEY_USE_FLUSH: Duration = Duration::from_secs(1);

/// Credentials from the IAM database.
#[derive(Debug)]
pub struct DatabaseCredentials {
    iam: Iam,
    current: ArcSwap<Credentials>,
    uses: Mutex<HashMap<String, KeyUse>>,
}

impl DatabaseCredentials {
    /// Loads the credentials and starts the task that reloads them (within `poll` of another
    /// process's change, at once for this process's) and writes key uses. Needs a tokio runtime;
    /// the task ends when the returned value is dropped.
    pub async fn start(iam: Iam, poll: Duration) -> Result<Arc<DatabaseCredentials>, IamError> {
        let watcher = Watcher::new(iam.database().clone(), DataKind::Credentials, poll).await?;
        let first = load(&iam).await?;
        let this = Arc::new(DatabaseCredentials {
            iam,
            current: ArcSwap::from_pointee(first),
            uses: Mutex::new(HashMap::new()),
        });
        let weak = Arc::downgrade(&this);
        tokio::spawn(async move {
            let mut flush = tokio::time::interval(KEY_USE_FLUSH);
            flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let changed = tokio::select! {
                    () = watcher.changed() => true,
                    _ = flush.tick() => false,
                };
                let Some(this) = weak.upgrade() else { break };
                if changed {
                    match load(&this.iam).await {
                        Ok(c) => this.current.store(Arc::new(c)),
                        Err(e) => {
                            tracing::warn!(error = %e, "reloading credentials from the IAM database failed; keeping the last good ones")
                        }
                    }
                }
                if let Err(e) = this.flush_uses().await {
                    tracing::warn!(error = %e, "recording access key use in the IAM database failed");
                }
            }
        });
        Ok(this)
    }

    /// Writes the key uses collected so far.
    pub async fn flush_uses(&self) -> Result<(), IamError> {
        let uses: Vec<KeyUse> =
            std::mem::take(&mut *self.uses.lock().unwrap_or_else(PoisonError::into_inner))
                .into_values()
                .collect();
        if uses.is_empty() {
            return Ok(());
        }
        let mut tx = self.iam.write().await?;
        for u in &uses {
            sqlx::query(
                "UPDATE iam_access_keys SET last_used_at = $1, last_used_service = $2, last_used_region = $3 \
                 WHERE id = $4 AND (last_used_at IS NULL OR last_used_at <= $1)",
            )
            .bind(u.at)
            .bind(&u.service)
            .bind(&u.region)
            .bind(&u.access_key_id)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        }
        tx.commit().await
    }
}

fn status(text: &str) -> KeyStatus {
    if text == "Active" {
        KeyStatus::Active
    } else {
        KeyStatus::Inactive
    }
}

/// An access key and its owner's name and path (none for the root user).
type KeyRow = (
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
);

/// Every key (with its owner's ARN), every device assigned to a user, and the session key.
async fn load(iam: &Iam) -> Result<Credentials, IamError> {
    let mut tx = iam.read().await?;
    let keys: Vec<KeyRow> = sqlx::query_as(
        "SELECT k.id, k.secret, k.status, k.created_at, k.user_id, u.name, u.path \
             FROM iam_access_keys k LEFT JOIN iam_users u ON u.id = k.user_id",
    )
    .fetch_all(&mut *tx.inner)
    .await
    .map_err(db_error)?;
    let access_keys = keys
        .into_iter()
        .filter_map(|(id, secret, st, created, owner, name, path)| {
            let user_arn = if owner == ROOT_OWNER {
                iam.root_arn()
            } else {
                iam.arn(EntityKind::User, &IamPath::stored(path?), &name?)
            };
            Some(AccessKey {
                access_key_id: id,
                secret_access_key: Secret::new(secret),
                user_arn,
                status: status(&st),
                create_date: crate::iso8601(created),
            })
        })
        .collect();
    let mfa_devices = devices(iam, &mut tx, None).await?;
    let session: Option<(String,)> = sqlx::query_as("SELECT session_key FROM iam_sts WHERE id = 1")
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    Ok(Credentials {
        access_keys,
        mfa_devices,
        session_key: session.map(|(k,)| Secret::new(k)),
    })
}

type DeviceRow = (
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
    String,
    String,
);

/// The devices assigned to users (one, by serial number, when `serial` is given), as the
/// credentials file's document holds them.
async fn devices(iam: &Iam, tx: &mut Tx, serial: Option<&str>) -> Result<Vec<MfaDevice>, IamError> {
    let rows: Vec<DeviceRow> = sqlx::query_as(
        "SELECT d.serial, d.seed, d.status, d.enabled_at, d.last_used_step, d.failed_attempts, d.locked_until, u.name, u.path \
         FROM iam_mfa_devices d JOIN iam_users u ON u.id = d.user_id WHERE ($1 = '' OR d.serial = $1)",
    )
    .bind(serial.unwrap_or(""))
    .fetch_all(&mut *tx.inner)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(
            |(serial, seed, st, enabled, last, failed, locked, name, path)| MfaDevice {
                serial_number: serial,
                user_arn: iam.arn(EntityKind::User, &IamPath::stored(path), &name),
                seed: Secret::new(seed),
                status: if st == "Enabled" {
                    MfaStatus::Enabled
                } else {
                    MfaStatus::Pending
                },
                enable_date: enabled.map(crate::iso8601),
                last_used_step: last,
                failed_attempts: u32::try_from(failed).unwrap_or(u32::MAX),
                locked_until: locked,
            },
        )
        .collect())
}

impl Iam {
    /// Checks a code from the user's enabled device and records the attempt, in one transaction.
    pub async fn verify_mfa_code(
        &self,
        user_arn: &str,
        serial: &str,
        code: &str,
        now: i64,
    ) -> Result<Result<(), MfaError>, IamError> {
        let mut tx = self.write().await?;
        let mut found = devices(self, &mut tx, Some(serial)).await?;
        let Some(device) = found
            .iter_mut()
            .find(|d| d.user_arn == user_arn && d.status == MfaStatus::Enabled)
        else {
            return Ok(Err(MfaError::NoDevice {
                serial: serial.to_owned(),
            }));
        };
        let outcome = device.attempt(code, now);
        sqlx::query(
            "UPDATE iam_mfa_devices SET last_used_step = $1, failed_attempts = $2, locked_until = $3 WHERE serial = $4",
        )
        .bind(device.last_used_step)
        .bind(i64::from(device.failed_attempts))
        .bind(device.locked_until)
        .bind(serial)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        tx.commit().await?;
        Ok(outcome)
    }
}

impl CredentialSource for DatabaseCredentials {
    fn current(&self) -> Arc<Credentials> {
        self.current.load_full()
    }

    fn verify_mfa_code<'a>(
        &'a self,
        user_arn: &'a str,
        serial: &'a str,
        code: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Result<(), MfaError>, CredentialsError>> {
        Box::pin(async move {
            self.iam
                .verify_mfa_code(user_arn, serial, code, now)
                .await
                .map_err(|e| CredentialsError::Mfa(e.to_string()))
        })
    }

    fn key_used(&self, key_use: KeyUse) {
        self.uses
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key_use.access_key_id.clone(), key_use);
    }

    fn describe(&self) -> String {
        format!("the IAM database {}", self.iam.database().url())
    }
}
