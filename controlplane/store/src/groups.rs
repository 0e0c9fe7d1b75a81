//! IAM groups and their members.

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::model::{now, EntityKind, Group, User};
use crate::names::{IamPath, Name, PathPrefix};
use crate::page::{Page, Paged};
use crate::sql::within_quota;
use crate::users::no_such_user;
use crate::Iam;

/// `UpdateGroup`'s parameters.
#[derive(Clone, Debug)]
pub struct UpdateGroup {
    /// `NewGroupName`.
    pub new_name: Option<Name>,
    /// `NewPath`.
    pub new_path: Option<IamPath>,
}

type GroupRow = (String, String, String, i64);

impl Iam {
    fn group_of(&self, (id, name, path, created): GroupRow) -> Group {
        let path = IamPath::stored(path);
        Group {
            arn: self.arn(EntityKind::Group, &path, &name),
            id,
            name: Name::stored(name),
            path,
            created,
        }
    }

    /// The group with this name, if there is one.
    pub async fn find_group(&self, tx: &mut Tx, name: &Name) -> Result<Option<Group>, IamError> {
        let row: Option<GroupRow> =
            sqlx::query_as("SELECT id, name, path, created_at FROM iam_groups WHERE name_key = $1")
                .bind(name.key())
                .fetch_optional(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        Ok(row.map(|r| self.group_of(r)))
    }

    /// The group with this name, or `NoSuchEntity`.
    pub async fn group(&self, tx: &mut Tx, name: &Name) -> Result<Group, IamError> {
        self.find_group(tx, name).await?.ok_or_else(|| {
            IamError::no_such_entity(format!("The group with name {name} cannot be found."))
        })
    }

    /// Creates a group.
    pub async fn create_group(
        &self,
        tx: &mut Tx,
        name: &Name,
        path: &IamPath,
    ) -> Result<Group, IamError> {
        self.create_group_as(tx, name, path, None).await
    }

    /// Creates a group with a given id (an import keeps its export's ids).
    pub(crate) async fn create_group_as(
        &self,
        tx: &mut Tx,
        name: &Name,
        path: &IamPath,
        id: Option<&str>,
    ) -> Result<Group, IamError> {
        if self.find_group(tx, name).await?.is_some() {
            return Err(IamError::already_exists(format!(
                "Group with name {name} already exists."
            )));
        }
        let count = tx.count("SELECT COUNT(*) FROM iam_groups", None).await?;
        within_quota(count, self.quotas().groups, "GroupsPerAccount")?;
        let id = match id {
            Some(id) => id.to_owned(),
            None => crate::new_id("AGPA")?,
        };
        sqlx::query(
            "INSERT INTO iam_groups (id, name, name_key, path, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(name.as_str())
        .bind(name.key())
        .bind(path.as_str())
        .bind(now())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        tx.touch(Touch::Group(id.clone()));
        self.group(tx, name).await
    }

    /// The groups whose path starts with the prefix, by name.
    pub async fn list_groups(
        &self,
        tx: &mut Tx,
        prefix: &PathPrefix,
        page: &Page,
    ) -> Result<Paged<Group>, IamError> {
        let rows: Paged<GroupRow> = tx
            .list_named(
                "id, name, path, created_at",
                "iam_groups",
                prefix,
                page,
                |r: &GroupRow| &r.1,
            )
            .await?;
        Ok(rows.map(|r| self.group_of(r)))
    }

    /// A group and a page of its members (`GetGroup`).
    pub async fn get_group(
        &self,
        tx: &mut Tx,
        name: &Name,
        page: &Page,
    ) -> Result<(Group, Paged<User>), IamError> {
        let group = self.group(tx, name).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT u.name_key, u.name FROM iam_group_members m JOIN iam_users u ON u.id = m.user_id \
             WHERE m.group_id = $1 AND u.name_key > $2 ORDER BY u.name_key LIMIT $3",
        )
        .bind(&group.id)
        .bind(page.after())
        .bind(page.limit())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let names = page.cut(rows, |r| r.0.clone());
        let mut users = Vec::with_capacity(names.items.len());
        for (_, n) in &names.items {
            users.push(self.user(tx, &Name::stored(n.clone())).await?);
        }
        Ok((
            group,
            Paged {
                items: users,
                marker: names.marker,
            },
        ))
    }

    /// Renames or moves a group.
    pub async fn update_group(
        &self,
        tx: &mut Tx,
        name: &Name,
        r: &UpdateGroup,
    ) -> Result<Group, IamError> {
        let group = self.group(tx, name).await?;
        let new_name = r.new_name.as_ref().unwrap_or(&group.name);
        if new_name.key() != group.name.key() && self.find_group(tx, new_name).await?.is_some() {
            return Err(IamError::already_exists(format!(
                "Group with name {new_name} already exists."
            )));
        }
        let new_path = r.new_path.as_ref().unwrap_or(&group.path);
        tx.rename("iam_groups", &group.id, new_name, new_path)
            .await?;
        tx.touch(Touch::Group(group.id.clone()));
        self.group(tx, new_name).await
    }

    /// Deletes a group with no members and no policies.
    pub async fn delete_group(&self, tx: &mut Tx, name: &Name) -> Result<(), IamError> {
        let group = self.group(tx, name).await?;
        tx.refuse_while_any(&group.id, &[
            (
                "SELECT COUNT(*) FROM iam_group_members WHERE group_id = $1",
                "Cannot delete entity, must remove users from group first.",
            ),
            (
                "SELECT COUNT(*) FROM iam_inline_policies WHERE owner_kind = 'group' AND owner_id = $1",
                "Cannot delete entity, must delete policies first.",
            ),
            (
                "SELECT COUNT(*) FROM iam_attachments WHERE owner_kind = 'group' AND owner_id = $1",
                "Cannot delete entity, must detach all policies first.",
            ),
        ]).await?;
        tx.exec_id("DELETE FROM iam_groups WHERE id = $1", &group.id)
            .await?;
        tx.touch(Touch::Group(group.id.clone()));
        Ok(())
    }

    /// Adds a user to a group (already a member: nothing changes, as in AWS); at most
    /// `groups_per_user` groups per user.
    pub async fn add_user_to_group(
        &self,
        tx: &mut Tx,
        group: &Name,
        user: &Name,
    ) -> Result<(), IamError> {
        let g = self.group(tx, group).await?;
        let u = self
            .find_user(tx, user)
            .await?
            .ok_or_else(|| no_such_user(user.as_str()))?;
        let groups = self.user_group_ids(tx, &u.id).await?;
        if groups.contains(&g.id) {
            return Ok(());
        }
        if groups.len() >= self.quotas().groups_per_user {
            return Err(IamError::limit_exceeded(format!(
                "Cannot exceed quota for GroupsPerUser: {}",
                self.quotas().groups_per_user
            )));
        }
        sqlx::query("INSERT INTO iam_group_members (group_id, user_id) VALUES ($1, $2)")
            .bind(&g.id)
            .bind(&u.id)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        tx.touch(Touch::User(u.id.clone()));
        Ok(())
    }

    /// Removes a user from a group.
    pub async fn remove_user_from_group(
        &self,
        tx: &mut Tx,
        group: &Name,
        user: &Name,
    ) -> Result<(), IamError> {
        let g = self.group(tx, group).await?;
        let u = self.user(tx, user).await?;
        let done =
            sqlx::query("DELETE FROM iam_group_members WHERE group_id = $1 AND user_id = $2")
                .bind(&g.id)
                .bind(&u.id)
                .execute(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(IamError::no_such_entity(format!(
                "The user with name {user} is not a member of group {group}."
            )));
        }
        tx.touch(Touch::User(u.id.clone()));
        Ok(())
    }

    /// A page of the groups a user is in.
    pub async fn list_groups_for_user(
        &self,
        tx: &mut Tx,
        user: &Name,
        page: &Page,
    ) -> Result<Paged<Group>, IamError> {
        let u = self.user(tx, user).await?;
        let rows: Vec<GroupRow> = sqlx::query_as(
            "SELECT g.id, g.name, g.path, g.created_at FROM iam_group_members m \
             JOIN iam_groups g ON g.id = m.group_id \
             WHERE m.user_id = $1 AND g.name_key > $2 ORDER BY g.name_key LIMIT $3",
        )
        .bind(&u.id)
        .bind(page.after())
        .bind(page.limit())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(page
            .cut(rows, |r| r.1.to_ascii_lowercase())
            .map(|r| self.group_of(r)))
    }

    async fn user_group_ids(&self, tx: &mut Tx, user_id: &str) -> Result<Vec<String>, IamError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT group_id FROM iam_group_members WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        Ok(rows.into_iter().map(|(g,)| g).collect())
    }
}
