//! Virtual MFA devices: created unassigned with a fresh TOTP seed (returned once), assigned to a user
//! and enabled by two consecutive codes, resynchronised by two more, deactivated (unassigned again)
//! and deleted once unassigned. Only enabled devices are in the sidecar's credentials (STS's
//! `SerialNumber`/`TokenCode`, [`Iam::verify_mfa_code`]); every change of assignment bumps the
//! credentials generation. Seeds are secrets: never logged, never in an error.

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::{ErrorCode, IamError};
use crate::model::{now, EntityKind, User};
use crate::names::{IamPath, Name, Tag};
use crate::page::{Page, Paged};
use crate::sql::within_quota;
use crate::users::{UserRow, USER_COLUMNS};
use crate::{tags, Iam};
use iamlet_auth::mfa::STEP_SECONDS;
use iamlet_auth::{MfaDevice, MfaStatus, Secret};

/// A virtual MFA device as `ListVirtualMFADevices` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualMfaDevice {
    /// `arn:aws:iam::ACCOUNT:mfa/PATH/NAME`.
    pub serial: String,
    /// The user it is assigned to.
    pub user: Option<User>,
    /// When it was enabled.
    pub enabled: Option<i64>,
    /// Its tags.
    pub tags: Vec<Tag>,
}

/// A device just created: its serial number and its seed (shown once).
#[derive(Debug)]
pub struct NewMfaDevice {
    /// The device.
    pub device: VirtualMfaDevice,
    /// The TOTP seed, base32 (what authenticator apps read).
    pub seed: Secret,
    /// The `otpauth://` URI its QR code carries.
    pub otpauth_uri: Secret,
}

/// An enabled device of a user (`ListMFADevices`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserMfaDevice {
    /// The user's name.
    pub user_name: String,
    /// The serial number.
    pub serial: String,
    /// When it was enabled.
    pub enabled: i64,
}

/// `AssignmentStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assignment {
    /// Devices assigned to a user.
    Assigned,
    /// Devices assigned to no one.
    Unassigned,
    /// Every device.
    Any,
}

impl Assignment {
    /// Reads `AssignmentStatus` (absent: `Any`).
    pub fn parse(param: &str, value: Option<&str>) -> Result<Assignment, IamError> {
        match value {
            None | Some("Any") => Ok(Assignment::Any),
            Some("Assigned") => Ok(Assignment::Assigned),
            Some("Unassigned") => Ok(Assignment::Unassigned),
            Some(other) => Err(crate::names::constraint(
                param,
                other,
                "Member must satisfy enum value set: [Unassigned, Any, Assigned]",
            )),
        }
    }
}

/// Checks `SerialNumber`: 9 to 256 of `[\w+=/:,.@-]`.
pub fn parse_serial(param: &str, value: &str) -> Result<String, IamError> {
    let ok = (9..=256).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=/:,.@-".contains(c));
    if !ok {
        return Err(crate::names::constraint(
            param,
            value,
            "Member must have length between 9 and 256 and satisfy regular expression pattern: [\\w+=/:,.@-]+",
        ));
    }
    Ok(value.to_owned())
}

/// Checks `AuthenticationCode1/2`: six digits (never echoed: a code is a secret while it is fresh).
pub fn parse_code(param: &str, value: &str) -> Result<String, IamError> {
    if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length 6 and satisfy regular expression pattern: [\\d]+",
            iamlet_query::lower_first(param)
        )));
    }
    Ok(value.to_owned())
}

type DeviceRow = (String, String, Option<String>, String, Option<i64>);

/// AWS's message for a device that does not exist.
fn no_such_device(serial: &str) -> IamError {
    IamError::no_such_entity(format!(
        "VirtualMFADevice with serial number {serial} doesn't exist."
    ))
}

fn invalid_codes() -> IamError {
    IamError::new(
        ErrorCode::InvalidAuthenticationCode,
        "Authentication code for device is not valid.",
    )
}

/// The step of the second of two consecutive codes, looking back as far as
/// [`MfaDevice::enable`] does; `None` when the codes are not two consecutive ones.
fn second_step(device: &MfaDevice, code1: &str, code2: &str, now: i64) -> Option<i64> {
    let current = now.div_euclid(STEP_SECONDS);
    (current - 20..=current).rev().find_map(|step| {
        let c1 = device.code_at(step * STEP_SECONDS)?;
        let c2 = device.code_at((step + 1) * STEP_SECONDS)?;
        (c1 == code1 && c2 == code2).then_some(step + 1)
    })
}

impl Iam {
    /// `arn:aws:iam::ACCOUNT:mfa/PATH/NAME`.
    pub fn mfa_serial(&self, path: &IamPath, name: &Name) -> String {
        self.arn(EntityKind::MfaDevice, path, name.as_str())
    }

    /// Creates an unassigned virtual device with a fresh seed.
    pub async fn create_virtual_mfa_device(
        &self,
        tx: &mut Tx,
        path: &IamPath,
        name: &Name,
        tags: &[Tag],
    ) -> Result<NewMfaDevice, IamError> {
        let serial = self.mfa_serial(path, name);
        let (taken,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM iam_mfa_devices WHERE lower(serial) = lower($1)")
                .bind(&serial)
                .fetch_one(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        if taken > 0 {
            return Err(IamError::already_exists(
                "MFADevice entity at the same path and name already exists.",
            ));
        }
        let seed = iamlet_auth::new_seed().map_err(crate::credentials_error)?;
        sqlx::query(
            "INSERT INTO iam_mfa_devices (serial, name, path, seed, user_id, status, created_at, failed_attempts) \
             VALUES ($1, $2, $3, $4, NULL, 'Pending', $5, 0)",
        )
        .bind(&serial)
        .bind(name.as_str())
        .bind(path.as_str())
        .bind(seed.expose())
        .bind(now())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if !tags.is_empty() {
            tags::add(tx, EntityKind::MfaDevice, &serial, tags).await?;
        }
        let device = MfaDevice {
            serial_number: serial.clone(),
            user_arn: String::new(),
            seed: seed.clone(),
            status: MfaStatus::Pending,
            enable_date: None,
            last_used_step: None,
            failed_attempts: 0,
            locked_until: None,
        };
        Ok(NewMfaDevice {
            device: VirtualMfaDevice {
                serial,
                user: None,
                enabled: None,
                tags: tags.to_vec(),
            },
            otpauth_uri: Secret::new(device.otpauth_uri()),
            seed,
        })
    }

    async fn device_row(&self, tx: &mut Tx, serial: &str) -> Result<Option<DeviceRow>, IamError> {
        sqlx::query_as(
            "SELECT serial, seed, user_id, status, enabled_at FROM iam_mfa_devices WHERE serial = $1",
        )
        .bind(serial)
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)
    }

    /// Assigns a device to a user and enables it with two consecutive codes.
    pub async fn enable_mfa_device(
        &self,
        tx: &mut Tx,
        user: &Name,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        let user = self.user(tx, user).await?;
        let (serial, seed, owner, _, _) = self
            .device_row(tx, serial)
            .await?
            .ok_or_else(|| no_such_device(serial))?;
        if owner.is_some() {
            return Err(IamError::already_exists("MFA Device is already in use."));
        }
        self.mfa_quota(tx, &user.id).await?;
        let mut device = MfaDevice {
            serial_number: serial.clone(),
            user_arn: user.arn.clone(),
            seed: Secret::new(seed),
            status: MfaStatus::Pending,
            enable_date: None,
            last_used_step: None,
            failed_attempts: 0,
            locked_until: None,
        };
        let at = chrono::Utc::now();
        device
            .enable(code1, code2, at)
            .map_err(|_| invalid_codes())?;
        // The second code is used: it cannot also sign an STS call.
        let step = second_step(&device, code1, code2, at.timestamp());
        sqlx::query(
            "UPDATE iam_mfa_devices SET user_id = $1, status = 'Enabled', enabled_at = $2, last_used_step = $3, \
             failed_attempts = 0, locked_until = NULL WHERE serial = $4",
        )
        .bind(&user.id)
        .bind(at.timestamp())
        .bind(step)
        .bind(&serial)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        tx.touch(Touch::MfaDevice(serial.to_string()));
        Ok(())
    }

    /// The device if it is assigned to this user, else `NoSuchEntity`.
    async fn users_device(
        &self,
        tx: &mut Tx,
        user: &User,
        serial: &str,
    ) -> Result<DeviceRow, IamError> {
        match self.device_row(tx, serial).await? {
            Some(row) if row.2.as_deref() == Some(user.id.as_str()) => Ok(row),
            _ => Err(IamError::no_such_entity(format!(
                "MFA Device with serial number {serial} does not exist for user {}.",
                user.name
            ))),
        }
    }

    /// Unassigns a user's device (it can then be enabled again, or deleted).
    pub async fn deactivate_mfa_device(
        &self,
        tx: &mut Tx,
        user: &Name,
        serial: &str,
    ) -> Result<(), IamError> {
        let user = self.user(tx, user).await?;
        let (serial, ..) = self.users_device(tx, &user, serial).await?;
        sqlx::query(
            "UPDATE iam_mfa_devices SET user_id = NULL, status = 'Pending', enabled_at = NULL, \
             failed_attempts = 0, locked_until = NULL WHERE serial = $1",
        )
        .bind(&serial)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        tx.touch(Touch::MfaDevice(serial.to_string()));
        Ok(())
    }

    /// Resynchronises a user's device with two consecutive codes: the second code's step is marked
    /// used, and a lock from refused codes ends.
    pub async fn resync_mfa_device(
        &self,
        tx: &mut Tx,
        user: &Name,
        serial: &str,
        code1: &str,
        code2: &str,
    ) -> Result<(), IamError> {
        let user = self.user(tx, user).await?;
        let (serial, seed, ..) = self.users_device(tx, &user, serial).await?;
        let device = MfaDevice {
            serial_number: serial.clone(),
            user_arn: user.arn.clone(),
            seed: Secret::new(seed),
            status: MfaStatus::Enabled,
            enable_date: None,
            last_used_step: None,
            failed_attempts: 0,
            locked_until: None,
        };
        let step = second_step(&device, code1, code2, now()).ok_or_else(invalid_codes)?;
        // Never below a step already used: a resync does not make a used code good again.
        let (used,): (Option<i64>,) =
            sqlx::query_as("SELECT last_used_step FROM iam_mfa_devices WHERE serial = $1")
                .bind(&serial)
                .fetch_one(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        let step = used.map_or(step, |u| u.max(step));
        sqlx::query(
            "UPDATE iam_mfa_devices SET last_used_step = $1, failed_attempts = 0, locked_until = NULL WHERE serial = $2",
        )
        .bind(step)
        .bind(&serial)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        tx.touch(Touch::MfaDevice(serial.to_string()));
        Ok(())
    }

    /// A page of a user's devices, by serial number.
    pub async fn list_mfa_devices(
        &self,
        tx: &mut Tx,
        user: &Name,
        page: &Page,
    ) -> Result<Paged<UserMfaDevice>, IamError> {
        let user = self.user(tx, user).await?;
        let rows: Vec<(String, Option<i64>)> = sqlx::query_as(
            "SELECT serial, enabled_at FROM iam_mfa_devices WHERE user_id = $1 AND serial > $2 ORDER BY serial LIMIT $3",
        )
        .bind(&user.id)
        .bind(page.after())
        .bind(page.limit())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(page
            .cut(rows, |r| r.0.clone())
            .map(|(serial, enabled)| UserMfaDevice {
                user_name: user.name.as_str().to_owned(),
                serial,
                enabled: enabled.unwrap_or_default(),
            }))
    }

    /// A page of the account's virtual devices, by serial number.
    pub async fn list_virtual_mfa_devices(
        &self,
        tx: &mut Tx,
        which: Assignment,
        page: &Page,
    ) -> Result<Paged<VirtualMfaDevice>, IamError> {
        let filter = match which {
            Assignment::Assigned => "AND d.user_id IS NOT NULL",
            Assignment::Unassigned => "AND d.user_id IS NULL",
            Assignment::Any => "",
        };
        let rows: Vec<(String, Option<i64>, Option<String>)> = sqlx::query_as(&format!(
            "SELECT d.serial, d.enabled_at, d.user_id FROM iam_mfa_devices d \
             WHERE d.serial > $1 {filter} ORDER BY d.serial LIMIT $2"
        ))
        .bind(page.after())
        .bind(page.limit())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let rows = page.cut(rows, |r| r.0.clone());
        let mut items = Vec::with_capacity(rows.items.len());
        for (serial, enabled, user_id) in rows.items {
            let user = match user_id {
                Some(id) => {
                    let row: Option<UserRow> = sqlx::query_as(&format!(
                        "SELECT {USER_COLUMNS} FROM iam_users WHERE id = $1"
                    ))
                    .bind(&id)
                    .fetch_optional(&mut *tx.inner)
                    .await
                    .map_err(db_error)?;
                    match row {
                        Some(r) => {
                            let mut u = self.user_of(r);
                            u.tags = tags::of(tx, EntityKind::User, &u.id).await?;
                            Some(u)
                        }
                        None => None,
                    }
                }
                None => None,
            };
            let tags = tags::of(tx, EntityKind::MfaDevice, &serial).await?;
            items.push(VirtualMfaDevice {
                serial,
                user,
                enabled,
                tags,
            });
        }
        Ok(Paged {
            items,
            marker: rows.marker,
        })
    }

    /// Deletes an unassigned device.
    pub async fn delete_virtual_mfa_device(
        &self,
        tx: &mut Tx,
        serial: &str,
    ) -> Result<(), IamError> {
        let (serial, _, owner, ..) = self
            .device_row(tx, serial)
            .await?
            .ok_or_else(|| no_such_device(serial))?;
        if owner.is_some() {
            return Err(IamError::delete_conflict(
                "MFA device is still assigned to a user: deactivate it first.",
            ));
        }
        tags::clear(tx, EntityKind::MfaDevice, &serial).await?;
        tx.exec_id("DELETE FROM iam_mfa_devices WHERE serial = $1", &serial)
            .await?;
        tx.touch(Touch::MfaDevice(serial.to_string()));
        Ok(())
    }
}

impl Iam {
    /// `LimitExceeded` once the user has `mfa_devices_per_user` devices (enabling one, importing
    /// one).
    pub(crate) async fn mfa_quota(&self, tx: &mut Tx, user_id: &str) -> Result<(), IamError> {
        let count = tx
            .count(
                "SELECT COUNT(*) FROM iam_mfa_devices WHERE user_id = $1",
                Some(user_id),
            )
            .await?;
        within_quota(
            count,
            self.quotas().mfa_devices_per_user,
            "MFADevicesPerUser",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{name, temp_db, user};
    use crate::NameKind;

    fn totp(seed: &Secret, at: i64) -> String {
        MfaDevice {
            serial_number: String::new(),
            user_arn: String::new(),
            seed: seed.clone(),
            status: MfaStatus::Enabled,
            enable_date: None,
            last_used_step: None,
            failed_attempts: 0,
            locked_until: None,
        }
        .code_at(at)
        .unwrap()
    }

    #[tokio::test]
    async fn devices_enable_with_consecutive_codes_and_reach_the_sidecar() {
        let t = temp_db("mfa").await;
        let iam = &t.iam;
        let bob = name("bob", NameKind::User);
        let mut tx = iam.write().await.unwrap();
        iam.create_user(&mut tx, &user("bob")).await.unwrap();
        let dev = name("bob-phone", NameKind::MfaDevice);
        let created = iam
            .create_virtual_mfa_device(&mut tx, &IamPath::root(), &dev, &[])
            .await
            .unwrap();
        let serial = created.device.serial.clone();
        assert_eq!(serial, "arn:aws:iam::111122223333:mfa/bob-phone");
        assert!(created.otpauth_uri.expose().starts_with("otpauth://totp/"));
        let e = iam
            .create_virtual_mfa_device(
                &mut tx,
                &IamPath::root(),
                &name("BOB-phone", NameKind::MfaDevice),
                &[],
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::EntityAlreadyExists);

        let now = chrono::Utc::now().timestamp();
        let c1 = totp(&created.seed, now - STEP_SECONDS);
        let c2 = totp(&created.seed, now);
        let c3 = totp(&created.seed, now + STEP_SECONDS);
        // Not consecutive: refused, and the seed is nowhere in the error.
        let e = iam
            .enable_mfa_device(&mut tx, &bob, &serial, &c1, &c3)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidAuthenticationCode);
        assert!(!e.message.contains(created.seed.expose()));
        iam.enable_mfa_device(&mut tx, &bob, &serial, &c1, &c2)
            .await
            .unwrap();
        let e = iam
            .enable_mfa_device(&mut tx, &bob, &serial, &c1, &c2)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::EntityAlreadyExists);
        assert_eq!(
            iam.delete_virtual_mfa_device(&mut tx, &serial)
                .await
                .unwrap_err()
                .code,
            ErrorCode::DeleteConflict
        );
        assert_eq!(
            iam.delete_user(&mut tx, &bob).await.unwrap_err().code,
            ErrorCode::DeleteConflict
        );
        let listed = iam
            .list_mfa_devices(&mut tx, &bob, &Page::default())
            .await
            .unwrap();
        assert_eq!(listed.items.len(), 1);
        assert_eq!(listed.items[0].serial, serial);
        tx.commit().await.unwrap();

        // The sidecar verifies codes from the enabled device; the enabling code is used up.
        let arn = "arn:aws:iam::111122223333:user/bob";
        let used = iam.verify_mfa_code(arn, &serial, &c2, now).await.unwrap();
        assert!(
            used.is_err(),
            "the second enabling code cannot be used again"
        );
        iam.verify_mfa_code(arn, &serial, &c3, now + STEP_SECONDS)
            .await
            .unwrap()
            .unwrap();

        // Resync takes two consecutive codes and clears the used step.
        let mut tx = iam.write().await.unwrap();
        assert_eq!(
            iam.resync_mfa_device(&mut tx, &bob, &serial, &c1, &c3)
                .await
                .unwrap_err()
                .code,
            ErrorCode::InvalidAuthenticationCode
        );
        iam.resync_mfa_device(&mut tx, &bob, &serial, &c1, &c2)
            .await
            .unwrap();
        let assigned = iam
            .list_virtual_mfa_devices(&mut tx, Assignment::Assigned, &Page::default())
            .await
            .unwrap();
        assert_eq!(
            assigned.items[0].user.as_ref().unwrap().name.as_str(),
            "bob"
        );
        let other = name("alice", NameKind::User);
        iam.create_user(&mut tx, &user("alice")).await.unwrap();
        assert_eq!(
            iam.deactivate_mfa_device(&mut tx, &other, &serial)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NoSuchEntity
        );
        iam.deactivate_mfa_device(&mut tx, &bob, &serial)
            .await
            .unwrap();
        let free = iam
            .list_virtual_mfa_devices(&mut tx, Assignment::Unassigned, &Page::default())
            .await
            .unwrap();
        assert_eq!(free.items.len(), 1);
        assert!(free.items[0].user.is_none());
        tx.commit().await.unwrap();
        let e = iam
            .verify_mfa_code(arn, &serial, &c3, now + STEP_SECONDS)
            .await
            .unwrap();
        assert!(e.is_err(), "a deactivated device authenticates no one");

        let mut tx = iam.write().await.unwrap();
        iam.delete_virtual_mfa_device(&mut tx, &serial)
            .await
            .unwrap();
        assert_eq!(
            iam.delete_virtual_mfa_device(&mut tx, &serial)
                .await
                .unwrap_err()
                .message,
            format!("VirtualMFADevice with serial number {serial} doesn't exist.")
        );
        iam.delete_user(&mut tx, &bob).await.unwrap();
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn a_user_has_at_most_its_quota_of_devices() {
        let t = temp_db("mfa-quota").await;
        let iam = Iam {
            quotas: crate::Quotas {
                mfa_devices_per_user: 1,
                ..crate::Quotas::default()
            },
            ..t.iam.clone()
        };
        let bob = name("bob", NameKind::User);
        let mut tx = iam.write().await.unwrap();
        iam.create_user(&mut tx, &user("bob")).await.unwrap();
        let now = chrono::Utc::now().timestamp();
        let mut serials = Vec::new();
        for n in ["a", "b"] {
            let d = iam
                .create_virtual_mfa_device(
                    &mut tx,
                    &IamPath::root(),
                    &name(n, NameKind::MfaDevice),
                    &[],
                )
                .await
                .unwrap();
            serials.push((d.device.serial, totp(&d.seed, now - 30), totp(&d.seed, now)));
        }
        let (s, c1, c2) = &serials[0];
        iam.enable_mfa_device(&mut tx, &bob, s, c1, c2)
            .await
            .unwrap();
        let (s, c1, c2) = &serials[1];
        let e = iam
            .enable_mfa_device(&mut tx, &bob, s, c1, c2)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::LimitExceeded);
        assert_eq!(
            Assignment::parse("AssignmentStatus", Some("Some"))
                .unwrap_err()
                .code,
            ErrorCode::ValidationError
        );
        assert!(parse_code("AuthenticationCode1", "12345").is_err());
        assert!(parse_serial("SerialNumber", "arn:aws:iam::1:mfa/x").is_ok());
    }
}
