//! A credentials file's part of an import: access keys (with their secrets, status and creation
//! date), MFA devices and the STS session key. Every key and device must belong to a user of the
//! account (after the export's users are in) or, for keys, to its root user.

use super::Counts;
use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::names::{Name, NameKind};
use crate::{Iam, KeyState, ROOT_OWNER};
use iamlet_auth::{Credentials, KeyStatus, MfaStatus};

fn unix(what: &str, text: &str) -> Result<i64, IamError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .map_err(|e| {
            IamError::invalid_input(format!("{what} `{text}` is not an RFC 3339 time: {e}"))
        })
}

impl Iam {
    /// The id of the user with this ARN (its path included), or the root user's owner id for the
    /// account's root ARN.
    async fn owner_of_arn(
        &self,
        tx: &mut Tx,
        arn: &str,
        root_allowed: bool,
    ) -> Result<String, IamError> {
        if root_allowed && arn == self.root_arn() {
            return Ok(ROOT_OWNER.to_owned());
        }
        let name = arn.rsplit('/').next().unwrap_or_default();
        let found = match Name::parse("UserName", name, NameKind::User) {
            Ok(n) => self.find_user(tx, &n).await?,
            Err(_) => None,
        };
        match found {
            Some(u) if u.arn == arn => Ok(u.id),
            _ => Err(IamError::no_such_entity(format!(
                "`{arn}` is no user of account {}",
                self.account_id()
            ))),
        }
    }

    pub(super) async fn import_credentials(
        &self,
        tx: &mut Tx,
        c: &Credentials,
        new_account: bool,
        counts: &mut Counts,
    ) -> Result<(), IamError> {
        for (i, k) in c.access_keys.iter().enumerate() {
            let entity = format!("credentials: accessKeys[{i}] ({})", k.access_key_id);
            self.import_key(tx, k)
                .await
                .map_err(|e| IamError::new(e.code, format!("{entity}: {}", e.message)))?;
            counts.access_keys += 1;
        }
        for (i, d) in c.mfa_devices.iter().enumerate() {
            let entity = format!("credentials: mfaDevices[{i}] ({})", d.serial_number);
            self.import_device(tx, d)
                .await
                .map_err(|e| IamError::new(e.code, format!("{entity}: {}", e.message)))?;
            counts.mfa_devices += 1;
        }
        if let Some(key) = &c.session_key {
            if new_account {
                // Sessions the file's key sealed stay valid against this database.
                sqlx::query("UPDATE iam_sts SET session_key = $1 WHERE id = 1")
                    .bind(key.expose())
                    .execute(&mut *tx.inner)
                    .await
                    .map_err(db_error)?;
            } else {
                counts.notes.push(
                    "the credentials file's session key was not imported: the database's account already has its own, and replacing it would end the sessions it sealed".to_owned(),
                );
            }
        }
        tx.touch(Touch::AccountCredentials);
        Ok(())
    }

    async fn import_key(&self, tx: &mut Tx, k: &iamlet_auth::AccessKey) -> Result<(), IamError> {
        let id = &k.access_key_id;
        if !(16..=128).contains(&id.len())
            || !id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(IamError::invalid_input(format!(
                "`{id}` is not an access key id: 16 to 128 upper-case letters and digits"
            )));
        }
        let secret = k.secret_access_key.expose();
        if secret.is_empty() || secret.len() > 128 || secret.chars().any(char::is_whitespace) {
            // The secret itself never goes into a message.
            return Err(IamError::invalid_input(
                "the secret access key is empty, longer than 128 characters or holds whitespace",
            ));
        }
        let created = unix("createDate", &k.create_date)?;
        let owner = self.owner_of_arn(tx, &k.user_arn, true).await?;
        let taken: Option<(String,)> =
            sqlx::query_as("SELECT id FROM iam_access_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        if taken.is_some() {
            return Err(IamError::already_exists(format!(
                "the access key {id} is already in the database"
            )));
        }
        let status = match k.status {
            KeyStatus::Active => KeyState::Active,
            KeyStatus::Inactive => KeyState::Inactive,
        };
        self.insert_access_key(tx, &owner, id, secret, status, created)
            .await?;
        Ok(())
    }

    /// An enabled device is assigned to its user; a pending one is imported unassigned, as a
    /// virtual MFA device is in AWS until it is enabled.
    async fn import_device(&self, tx: &mut Tx, d: &iamlet_auth::MfaDevice) -> Result<(), IamError> {
        let serial = &d.serial_number;
        let invalid = || {
            IamError::invalid_input(format!(
                "`{serial}` is not a virtual MFA device's serial number of account {}: arn:aws:iam::{}:mfa/PATH/NAME",
                self.account_id(),
                self.account_id()
            ))
        };
        let parsed = iamlet_engine::Arn::parse(serial).ok_or_else(invalid)?;
        let rest = parsed.resource.strip_prefix("mfa/").ok_or_else(invalid)?;
        if parsed.service != "iam" || parsed.account != self.account_id() {
            return Err(invalid());
        }
        let (path, name) = match rest.rsplit_once('/') {
            Some((p, n)) => (format!("/{p}/"), n),
            None => ("/".to_owned(), rest),
        };
        let name = Name::parse("VirtualMFADeviceName", name, NameKind::MfaDevice)?;
        crate::names::IamPath::parse("Path", Some(&path))?;
        let seed = d.seed.expose();
        if seed.is_empty()
            || !seed
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b) || b == b'=')
        {
            return Err(IamError::invalid_input("the seed is not base32"));
        }
        let owner = self.owner_of_arn(tx, &d.user_arn, false).await?;
        let taken: Option<(String,)> =
            sqlx::query_as("SELECT serial FROM iam_mfa_devices WHERE serial = $1")
                .bind(serial)
                .fetch_optional(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        if taken.is_some() {
            return Err(IamError::already_exists(format!(
                "MFADevice entity at the same path and name already exists: {serial}"
            )));
        }
        let enabled = d.status == MfaStatus::Enabled;
        if enabled {
            self.mfa_quota(tx, &owner).await?;
        }
        let now = crate::model::now();
        let enabled_at = match (&d.enable_date, enabled) {
            (Some(t), true) => Some(unix("enableDate", t)?),
            (None, true) => Some(now),
            (_, false) => None,
        };
        sqlx::query(
            "INSERT INTO iam_mfa_devices (serial, name, path, seed, user_id, status, created_at, enabled_at, \
             last_used_step, failed_attempts, locked_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(serial)
        .bind(name.as_str())
        .bind(&path)
        .bind(seed)
        .bind(enabled.then_some(owner.as_str()))
        .bind(if enabled { "Enabled" } else { "Pending" })
        .bind(enabled_at.unwrap_or(now))
        .bind(enabled_at)
        .bind(d.last_used_step)
        .bind(i64::from(d.failed_attempts))
        .bind(d.locked_until)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}
