//! Access keys: at most `access_keys_per_user` per user (and for the root user), the secret returned
//! once at creation, Active or Inactive, deleted only explicitly. Every change bumps the credentials
//! generation, so the sidecar and the IAM API accept or refuse a key within their poll interval (this
//! process at once).

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::model::{now, User};
use crate::page::{Page, Paged};
use crate::sql::within_quota;
use crate::{Iam, ROOT_OWNER};
use iamlet_auth::Secret;

/// Whose keys a call is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOwner {
    /// The root user (a root caller without `UserName`).
    Root,
    /// An IAM user.
    User(User),
}

impl KeyOwner {
    fn id(&self) -> &str {
        match self {
            KeyOwner::Root => ROOT_OWNER,
            KeyOwner::User(u) => &u.id,
        }
    }

    /// The `UserName` AWS answers with: the user's, or the account's id for the root user.
    fn user_name(&self, iam: &Iam) -> String {
        match self {
            KeyOwner::Root => iam.account_id().to_owned(),
            KeyOwner::User(u) => u.name.as_str().to_owned(),
        }
    }
}

/// `Active` or `Inactive`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyState {
    /// Signatures made with it are accepted.
    Active,
    /// Signatures made with it are refused (`InvalidClientTokenId`).
    Inactive,
}

impl KeyState {
    /// Reads `Status` (`Active` or `Inactive`; AWS's `Expired` cannot be set).
    pub fn parse(param: &str, value: &str) -> Result<KeyState, IamError> {
        match value {
            "Active" => Ok(KeyState::Active),
            "Inactive" => Ok(KeyState::Inactive),
            other => Err(crate::names::constraint(
                param,
                other,
                "Member must satisfy enum value set: [Active, Inactive]",
            )),
        }
    }

    /// As AWS spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Active => "Active",
            KeyState::Inactive => "Inactive",
        }
    }

    fn stored(text: &str) -> KeyState {
        if text == "Active" {
            KeyState::Active
        } else {
            KeyState::Inactive
        }
    }
}

/// An access key as `ListAccessKeys` shows it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessKeyMeta {
    /// `AKIA…`.
    pub id: String,
    /// The owner's name (the account's id for the root user).
    pub user_name: String,
    /// Active or Inactive.
    pub status: KeyState,
    /// When it was created.
    pub created: i64,
}

/// When and where a key was last used (`GetAccessKeyLastUsed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLastUsed {
    /// The owner's name (the account's id for the root user).
    pub user_name: String,
    /// When (none if never).
    pub at: Option<i64>,
    /// The service its signature named (`N/A` if never used, as AWS answers).
    pub service: String,
    /// The region its signature named (`N/A` if never used).
    pub region: String,
}

/// A key's last use as stored: when, service and region.
pub(crate) type LastUseRow = (Option<i64>, Option<String>, Option<String>);

/// AWS's message for a key that is not the owner's (or does not exist).
fn no_such_key(id: &str) -> IamError {
    IamError::no_such_entity(format!("The Access Key with id {id} cannot be found."))
}

/// Checks `AccessKeyId`: 16 to 128 word characters.
pub fn parse_key_id(param: &str, value: &str) -> Result<String, IamError> {
    let ok = (16..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        return Err(crate::names::constraint(
            param,
            value,
            "Member must have length between 16 and 128 and satisfy regular expression pattern: [\\w]+",
        ));
    }
    Ok(value.to_owned())
}

impl Iam {
    /// Creates an access key: its metadata and its secret, which is never shown again.
    pub async fn create_access_key(
        &self,
        tx: &mut Tx,
        owner: &KeyOwner,
    ) -> Result<(AccessKeyMeta, Secret), IamError> {
        let (id, secret) = iamlet_auth::new_key_pair().map_err(crate::credentials_error)?;
        let created = now();
        self.insert_access_key(
            tx,
            owner.id(),
            &id,
            secret.expose(),
            KeyState::Active,
            created,
        )
        .await?;
        Ok((
            AccessKeyMeta {
                id,
                user_name: owner.user_name(self),
                status: KeyState::Active,
                created,
            },
            secret,
        ))
    }

    /// Stores a key for an owner (a user's id or the root's), within the per-user quota: what
    /// `CreateAccessKey` and the import of a credentials file both do.
    pub(crate) async fn insert_access_key(
        &self,
        tx: &mut Tx,
        owner_id: &str,
        id: &str,
        secret: &str,
        status: KeyState,
        created: i64,
    ) -> Result<(), IamError> {
        let count = tx
            .count(
                "SELECT COUNT(*) FROM iam_access_keys WHERE user_id = $1",
                Some(owner_id),
            )
            .await?;
        within_quota(
            count,
            self.quotas().access_keys_per_user,
            "AccessKeysPerUser",
        )?;
        sqlx::query(
            "INSERT INTO iam_access_keys (id, user_id, secret, status, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(owner_id)
        .bind(secret)
        .bind(status.as_str())
        .bind(created)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        tx.touch(Touch::AccessKey(id.to_owned()));
        Ok(())
    }

    /// A page of the owner's keys, by id.
    pub async fn list_access_keys(
        &self,
        tx: &mut Tx,
        owner: &KeyOwner,
        page: &Page,
    ) -> Result<Paged<AccessKeyMeta>, IamError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, status, created_at FROM iam_access_keys \
             WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(owner.id())
        .bind(page.after())
        .bind(page.limit())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let user_name = owner.user_name(self);
        Ok(page
            .cut(rows, |r| r.0.clone())
            .map(|(id, status, created)| AccessKeyMeta {
                id,
                user_name: user_name.clone(),
                status: KeyState::stored(&status),
                created,
            }))
    }

    /// Makes one of the owner's keys Active or Inactive.
    pub async fn update_access_key(
        &self,
        tx: &mut Tx,
        owner: &KeyOwner,
        id: &str,
        status: KeyState,
    ) -> Result<(), IamError> {
        let done =
            sqlx::query("UPDATE iam_access_keys SET status = $1 WHERE id = $2 AND user_id = $3")
                .bind(status.as_str())
                .bind(id)
                .bind(owner.id())
                .execute(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(no_such_key(id));
        }
        tx.touch(Touch::AccessKey(id.to_owned()));
        Ok(())
    }

    /// Deletes one of the owner's keys.
    pub async fn delete_access_key(
        &self,
        tx: &mut Tx,
        owner: &KeyOwner,
        id: &str,
    ) -> Result<(), IamError> {
        let done = sqlx::query("DELETE FROM iam_access_keys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(owner.id())
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(no_such_key(id));
        }
        tx.touch(Touch::AccessKey(id.to_owned()));
        Ok(())
    }

    /// Who owns a key: the root user, or a user (by name), if the key exists.
    pub async fn access_key_owner(
        &self,
        tx: &mut Tx,
        id: &str,
    ) -> Result<Option<KeyOwner>, IamError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT user_id FROM iam_access_keys WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        let Some((owner,)) = row else {
            return Ok(None);
        };
        if owner == ROOT_OWNER {
            return Ok(Some(KeyOwner::Root));
        }
        let user: Option<crate::users::UserRow> = sqlx::query_as(&format!(
            "SELECT {} FROM iam_users WHERE id = $1",
            crate::users::USER_COLUMNS
        ))
        .bind(&owner)
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(user.map(|u| KeyOwner::User(self.user_of(u))))
    }

    /// When and where a key was last used, as the sidecar recorded it; `NoSuchEntity` for a key
    /// that does not exist.
    pub async fn access_key_last_used(
        &self,
        tx: &mut Tx,
        id: &str,
    ) -> Result<KeyLastUsed, IamError> {
        let owner = self
            .access_key_owner(tx, id)
            .await?
            .ok_or_else(|| no_such_key(id))?;
        let (at, service, region): LastUseRow = sqlx::query_as(
            "SELECT last_used_at, last_used_service, last_used_region FROM iam_access_keys WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let na = || "N/A".to_owned();
        Ok(KeyLastUsed {
            user_name: owner.user_name(self),
            at,
            service: service.filter(|_| at.is_some()).unwrap_or_else(na),
            region: region.filter(|_| at.is_some()).unwrap_or_else(na),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{name, temp_db, user};
    use crate::{DataKind, ErrorCode, NameKind};

    #[tokio::test]
    async fn keys_live_by_quota_and_owner() {
        let t = temp_db("keys").await;
        let iam = &t.iam;
        let mut tx = iam.write().await.unwrap();
        let bob = KeyOwner::User(iam.create_user(&mut tx, &user("bob")).await.unwrap());
        let alice = KeyOwner::User(iam.create_user(&mut tx, &user("alice")).await.unwrap());
        let (k1, s1) = iam.create_access_key(&mut tx, &bob).await.unwrap();
        assert!(k1.id.starts_with("AKIA") && k1.id.len() == 20);
        assert_eq!(s1.expose().len(), 40);
        assert_eq!(
            (k1.user_name.as_str(), k1.status),
            ("bob", KeyState::Active)
        );
        let (k2, _) = iam.create_access_key(&mut tx, &bob).await.unwrap();
        let e = iam.create_access_key(&mut tx, &bob).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::LimitExceeded);
        assert_eq!(e.message, "Cannot exceed quota for AccessKeysPerUser: 2");
        // The root user has one from init and may have a second.
        let (root_key, _) = iam
            .create_access_key(&mut tx, &KeyOwner::Root)
            .await
            .unwrap();
        assert_eq!(root_key.user_name, "111122223333");
        assert_eq!(
            iam.create_access_key(&mut tx, &KeyOwner::Root)
                .await
                .unwrap_err()
                .code,
            ErrorCode::LimitExceeded
        );

        let listed = iam
            .list_access_keys(&mut tx, &bob, &Page::parse(None, Some("1")).unwrap())
            .await
            .unwrap();
        assert_eq!(listed.items.len(), 1);
        let rest = iam
            .list_access_keys(
                &mut tx,
                &bob,
                &Page::parse(listed.marker.as_deref(), None).unwrap(),
            )
            .await
            .unwrap();
        let mut ids = vec![listed.items[0].id.clone(), rest.items[0].id.clone()];
        ids.sort();
        let mut want = vec![k1.id.clone(), k2.id.clone()];
        want.sort();
        assert_eq!(ids, want);

        // Another user's key is not found through this user.
        let e = iam
            .update_access_key(&mut tx, &alice, &k1.id, KeyState::Inactive)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSuchEntity);
        assert_eq!(
            e.message,
            format!("The Access Key with id {} cannot be found.", k1.id)
        );
        iam.update_access_key(&mut tx, &bob, &k1.id, KeyState::Inactive)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        // The sidecar's credentials see the change: Inactive.
        let before = iam
            .database()
            .generation(DataKind::Credentials)
            .await
            .unwrap();
        let mut tx = iam.write().await.unwrap();
        let e = iam
            .delete_user(&mut tx, &name("bob", NameKind::User))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::DeleteConflict);
        let last = iam.access_key_last_used(&mut tx, &k2.id).await.unwrap();
        assert_eq!(
            (last.at, last.service.as_str(), last.region.as_str()),
            (None, "N/A", "N/A")
        );
        iam.delete_access_key(&mut tx, &bob, &k1.id).await.unwrap();
        iam.delete_access_key(&mut tx, &bob, &k2.id).await.unwrap();
        assert_eq!(
            iam.delete_access_key(&mut tx, &bob, &k2.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NoSuchEntity
        );
        assert_eq!(
            iam.access_key_last_used(&mut tx, &k2.id)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NoSuchEntity
        );
        iam.delete_user(&mut tx, &name("bob", NameKind::User))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(
            iam.database()
                .generation(DataKind::Credentials)
                .await
                .unwrap()
                > before
        );
    }

    #[tokio::test]
    async fn the_sidecar_records_last_use_and_refuses_inactive_keys() {
        use iamlet_auth::{CredentialSource as _, KeyStatus, KeyUse};
        let t = temp_db("keyuse").await;
        let iam = &t.iam;
        let credentials =
            crate::DatabaseCredentials::start(iam.clone(), std::time::Duration::from_secs(60))
                .await
                .unwrap();
        let mut tx = iam.write().await.unwrap();
        let bob = KeyOwner::User(iam.create_user(&mut tx, &user("bob")).await.unwrap());
        let (k, _) = iam.create_access_key(&mut tx, &bob).await.unwrap();
        tx.commit().await.unwrap();
        credentials.key_used(KeyUse {
            access_key_id: k.id.clone(),
            service: "s3".into(),
            region: "eu-west-1".into(),
            at: 1_800_000_000,
        });
        credentials.flush_uses().await.unwrap();
        let mut tx = iam.read().await.unwrap();
        let last = iam.access_key_last_used(&mut tx, &k.id).await.unwrap();
        assert_eq!(
            (
                last.user_name.as_str(),
                last.at,
                last.service.as_str(),
                last.region.as_str()
            ),
            ("bob", Some(1_800_000_000), "s3", "eu-west-1")
        );
        drop(tx);
        let mut tx = iam.write().await.unwrap();
        iam.update_access_key(&mut tx, &bob, &k.id, KeyState::Inactive)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // This process's commit wakes the credentials at once.
        for _ in 0..100 {
            let now = credentials.current();
            if now
                .key(&k.id)
                .is_some_and(|x| x.status == KeyStatus::Inactive)
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the key did not become inactive in the sidecar's credentials");
    }

    #[test]
    fn statuses_and_ids_are_checked() {
        assert_eq!(
            KeyState::parse("Status", "Inactive").unwrap(),
            KeyState::Inactive
        );
        assert_eq!(
            KeyState::parse("Status", "Expired").unwrap_err().code,
            ErrorCode::ValidationError
        );
        assert!(parse_key_id("AccessKeyId", "AKIAIOSFODNN7EXAMPLE").is_ok());
        assert!(parse_key_id("AccessKeyId", "short").is_err());
        assert!(parse_key_id("AccessKeyId", "AKIA-IOSFODNN7EXAMPLE").is_err());
    }
}
