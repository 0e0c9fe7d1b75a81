//! IAM users: create, read, list (by path prefix), rename or move, delete (only once nothing is left
//! attached to them), and their tags.

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::model::{now, EntityKind, User};
use crate::names::{IamPath, Name, PathPrefix, Tag};
use crate::page::{Page, Paged};
use crate::sql::within_quota;
use crate::{tags, Iam};

/// `CreateUser`'s parameters.
#[derive(Clone, Debug)]
pub struct CreateUser {
    /// `UserName`.
    pub name: Name,
    /// `Path`.
    pub path: IamPath,
    /// `PermissionsBoundary`: a managed policy's ARN.
    pub boundary: Option<String>,
    /// `Tags`.
    pub tags: Vec<Tag>,
}

/// `UpdateUser`'s parameters.
#[derive(Clone, Debug)]
pub struct UpdateUser {
    /// `NewUserName`.
    pub new_name: Option<Name>,
    /// `NewPath`.
    pub new_path: Option<IamPath>,
}

pub(crate) type UserRow = (String, String, String, i64, Option<String>, Option<i64>);

pub(crate) const USER_COLUMNS: &str =
    "id, name, path, created_at, boundary_arn, password_last_used";

impl Iam {
    pub(crate) fn user_of(
        &self,
        (id, name, path, created, boundary, password_last_used): UserRow,
    ) -> User {
        let path = IamPath::stored(path);
        User {
            arn: self.arn(EntityKind::User, &path, &name),
            id,
            name: Name::stored(name),
            path,
            created,
            boundary,
            password_last_used,
            tags: Vec::new(),
        }
    }

    /// The user with this name, if there is one.
    pub async fn find_user(&self, tx: &mut Tx, name: &Name) -> Result<Option<User>, IamError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM iam_users WHERE name_key = $1"
        ))
        .bind(name.key())
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(row.map(|r| self.user_of(r)))
    }

    /// The user with this name, or `NoSuchEntity`.
    pub async fn user(&self, tx: &mut Tx, name: &Name) -> Result<User, IamError> {
        self.find_user(tx, name)
            .await?
            .ok_or_else(|| no_such_user(name.as_str()))
    }

    /// The user with this name and its tags (`GetUser`).
    pub async fn get_user(&self, tx: &mut Tx, name: &Name) -> Result<User, IamError> {
        let mut user = self.user(tx, name).await?;
        user.tags = tags::of(tx, EntityKind::User, &user.id).await?;
        Ok(user)
    }

    /// Creates a user.
    pub async fn create_user(&self, tx: &mut Tx, r: &CreateUser) -> Result<User, IamError> {
        self.create_user_as(tx, r, None).await
    }

    /// Creates a user with a given id (an import keeps its export's ids).
    pub(crate) async fn create_user_as(
        &self,
        tx: &mut Tx,
        r: &CreateUser,
        id: Option<&str>,
    ) -> Result<User, IamError> {
        if self.find_user(tx, &r.name).await?.is_some() {
            return Err(IamError::already_exists(format!(
                "User with name {} already exists.",
                r.name
            )));
        }
        let count = tx.count("SELECT COUNT(*) FROM iam_users", None).await?;
        within_quota(count, self.quotas().users, "UsersPerAccount")?;
        if let Some(arn) = &r.boundary {
            self.boundary_policy(tx, arn).await?;
        }
        let id = match id {
            Some(id) => id.to_owned(),
            None => crate::new_id("AIDA")?,
        };
        let created = now();
        sqlx::query(
            "INSERT INTO iam_users (id, name, name_key, path, created_at, boundary_arn) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(r.name.as_str())
        .bind(r.name.key())
        .bind(r.path.as_str())
        .bind(created)
        .bind(r.boundary.as_deref())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if !r.tags.is_empty() {
            tags::add(tx, EntityKind::User, &id, &r.tags).await?;
        }
        tx.touch(Touch::User(id.clone()));
        let mut user = self.user(tx, &r.name).await?;
        user.tags = r.tags.clone();
        Ok(user)
    }

    /// The users whose path starts with the prefix, by name.
    pub async fn list_users(
        &self,
        tx: &mut Tx,
        prefix: &PathPrefix,
        page: &Page,
    ) -> Result<Paged<User>, IamError> {
        let rows: Paged<UserRow> = tx
            .list_named(USER_COLUMNS, "iam_users", prefix, page, |r: &UserRow| &r.1)
            .await?;
        Ok(rows.map(|r| self.user_of(r)))
    }

    /// Renames or moves a user (`UpdateUser`).
    pub async fn update_user(
        &self,
        tx: &mut Tx,
        name: &Name,
        r: &UpdateUser,
    ) -> Result<User, IamError> {
        let user = self.user(tx, name).await?;
        let new_name = r.new_name.as_ref().unwrap_or(&user.name);
        if new_name.key() != user.name.key() && self.find_user(tx, new_name).await?.is_some() {
            return Err(IamError::already_exists(format!(
                "User with name {new_name} already exists."
            )));
        }
        let new_path = r.new_path.as_ref().unwrap_or(&user.path);
        tx.rename("iam_users", &user.id, new_name, new_path).await?;
        // The old ARN's cached decisions go; the user's keys now sign as the new ARN.
        tx.touch(Touch::Principal(user.arn.clone()));
        tx.touch(Touch::User(user.id.clone()));
        tx.touch(Touch::AccountCredentials);
        self.user(tx, new_name).await
    }

    /// Deletes a user that has nothing left: no access keys, login profile, MFA device, group,
    /// inline or attached policy (AWS's order of complaints).
    pub async fn delete_user(&self, tx: &mut Tx, name: &Name) -> Result<(), IamError> {
        let user = self.user(tx, name).await?;
        tx.refuse_while_any(&user.id, &[
            (
                "SELECT COUNT(*) FROM iam_login_profiles WHERE user_id = $1",
                "Cannot delete entity, must delete login profile first.",
            ),
            (
                "SELECT COUNT(*) FROM iam_access_keys WHERE user_id = $1",
                "Cannot delete entity, must delete access keys first.",
            ),
            (
                "SELECT COUNT(*) FROM iam_mfa_devices WHERE user_id = $1",
                "Cannot delete entity, must delete MFA device first.",
            ),
            (
                "SELECT COUNT(*) FROM iam_group_members WHERE user_id = $1",
                "Cannot delete entity, must remove users from group first.",
            ),
            (
                "SELECT COUNT(*) FROM iam_inline_policies WHERE owner_kind = 'user' AND owner_id = $1",
                "Cannot delete entity, must delete policies first.",
            ),
            (
                "SELECT COUNT(*) FROM iam_attachments WHERE owner_kind = 'user' AND owner_id = $1",
                "Cannot delete entity, must detach all policies first.",
            ),
        ]).await?;
        tags::clear(tx, EntityKind::User, &user.id).await?;
        for sql in [
            "DELETE FROM iam_password_history WHERE user_id = $1",
            "DELETE FROM iam_users WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(&user.id)
                .execute(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        }
        tx.touch(Touch::Principal(user.arn.clone()));
        Ok(())
    }

    /// Tags a user.
    pub async fn tag_user(&self, tx: &mut Tx, name: &Name, tags: &[Tag]) -> Result<(), IamError> {
        let user = self.user(tx, name).await?;
        tags::add(tx, EntityKind::User, &user.id, tags).await
    }

    /// Removes tags from a user.
    pub async fn untag_user(
        &self,
        tx: &mut Tx,
        name: &Name,
        keys: &[String],
    ) -> Result<(), IamError> {
        let user = self.user(tx, name).await?;
        tags::remove(tx, EntityKind::User, &user.id, keys).await
    }

    /// A page of a user's tags.
    pub async fn list_user_tags(
        &self,
        tx: &mut Tx,
        name: &Name,
        page: &Page,
    ) -> Result<Paged<Tag>, IamError> {
        let user = self.user(tx, name).await?;
        tags::list(tx, EntityKind::User, &user.id, page).await
    }
}

/// AWS's message for a missing user.
pub(crate) fn no_such_user(name: &str) -> IamError {
    IamError::no_such_entity(format!("The user with name {name} cannot be found."))
}
