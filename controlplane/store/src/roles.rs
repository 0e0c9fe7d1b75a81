//! IAM roles: create (with a trust policy), read, list, update, delete (only once nothing is left
//! attached), their trust policies and tags. Service-linked roles ([`service_linked`]) are made
//! and deleted by their service: the calls that change an ordinary role refuse them
//! (`UnmodifiableEntity`).

pub mod service_linked;
#[cfg(test)]
pub(crate) mod tests;

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::document::PolicyDocument;
use crate::error::{ErrorCode, IamError};
use crate::model::{now, EntityKind, Role};
use crate::names::{IamPath, Name, PathPrefix, Tag};
use crate::page::{Page, Paged};
use crate::sql::within_quota;
use crate::{tags, Iam};

pub(crate) type RoleRow = (
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    i64,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
);

pub(crate) const ROLE_COLUMNS: &str = "id, name, path, created_at, trust_policy, description, \
     max_session_duration, boundary_arn, service_linked, last_used_at, last_used_region";

/// The longest session a role grants unless told otherwise: one hour.
pub const DEFAULT_MAX_SESSION_DURATION: i64 = 3600;

/// `CreateRole`'s parameters.
#[derive(Clone, Debug)]
pub struct CreateRole {
    /// `RoleName`.
    pub name: Name,
    /// `Path`.
    pub path: IamPath,
    /// `AssumeRolePolicyDocument`, parsed as a trust policy.
    pub trust: PolicyDocument,
    /// `Description`.
    pub description: Option<String>,
    /// `MaxSessionDuration` (3600 to 43200 seconds).
    pub max_session_duration: i64,
    /// `PermissionsBoundary`: a managed policy's ARN.
    pub boundary: Option<String>,
    /// `Tags`.
    pub tags: Vec<Tag>,
}

/// `UpdateRole`'s parameters.
#[derive(Clone, Debug, Default)]
pub struct UpdateRole {
    /// `Description`.
    pub description: Option<String>,
    /// `MaxSessionDuration`.
    pub max_session_duration: Option<i64>,
}

/// `UnmodifiableEntity` for a service-linked role, in AWS's words.
pub(crate) fn protected_role(name: &str) -> IamError {
    IamError::new(
        ErrorCode::UnmodifiableEntity,
        format!(
            "Cannot perform the operation on the protected role '{name}' - this role is only modifiable by AWS"
        ),
    )
}

impl Iam {
    pub(crate) fn role_of(
        &self,
        (id, name, path, created, trust, description, max, boundary, linked, used_at, used_region): RoleRow,
    ) -> Role {
        let path = IamPath::stored(path);
        Role {
            arn: self.arn(EntityKind::Role, &path, &name),
            id,
            name: Name::stored(name),
            path,
            created,
            trust_policy: trust,
            description,
            max_session_duration: max,
            boundary,
            service_linked: linked != 0,
            last_used: used_at.map(|t| (t, used_region.unwrap_or_default())),
            tags: Vec::new(),
        }
    }

    /// The role with this name, if there is one.
    pub async fn find_role(&self, tx: &mut Tx, name: &Name) -> Result<Option<Role>, IamError> {
        let row: Option<RoleRow> = sqlx::query_as(&format!(
            "SELECT {ROLE_COLUMNS} FROM iam_roles WHERE name_key = $1"
        ))
        .bind(name.key())
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(row.map(|r| self.role_of(r)))
    }

    /// The role with this name, or `NoSuchEntity`.
    pub async fn role(&self, tx: &mut Tx, name: &Name) -> Result<Role, IamError> {
        self.find_role(tx, name)
            .await?
            .ok_or_else(|| no_such_role(name.as_str()))
    }

    /// The role with this name, unless it is service-linked (`UnmodifiableEntity`).
    pub(crate) async fn modifiable_role(&self, tx: &mut Tx, name: &Name) -> Result<Role, IamError> {
        let role = self.role(tx, name).await?;
        if role.service_linked {
            return Err(protected_role(role.name.as_str()));
        }
        Ok(role)
    }

    /// The role with this name and its tags (`GetRole`).
    pub async fn get_role(&self, tx: &mut Tx, name: &Name) -> Result<Role, IamError> {
        let mut role = self.role(tx, name).await?;
        role.tags = tags::of(tx, EntityKind::Role, &role.id).await?;
        Ok(role)
    }

    /// Creates a role.
    pub async fn create_role(&self, tx: &mut Tx, r: &CreateRole) -> Result<Role, IamError> {
        self.create_role_as(tx, r, None, false).await
    }

    /// Creates a role with a given id (an import keeps its export's) or a service-linked one.
    pub(crate) async fn create_role_as(
        &self,
        tx: &mut Tx,
        r: &CreateRole,
        id: Option<&str>,
        service_linked: bool,
    ) -> Result<Role, IamError> {
        r.trust
            .within("ACLSizePerRole", crate::quotas::document::TRUST)?;
        if !(3600..=43_200).contains(&r.max_session_duration) {
            return Err(crate::names::constraint(
                "MaxSessionDuration",
                &r.max_session_duration.to_string(),
                "Member must have value between 3600 and 43200",
            ));
        }
        if self.find_role(tx, &r.name).await?.is_some() {
            return Err(IamError::already_exists(format!(
                "Role with name {} already exists.",
                r.name
            )));
        }
        let count = tx.count("SELECT COUNT(*) FROM iam_roles", None).await?;
        within_quota(count, self.quotas().roles, "RolesPerAccount")?;
        if let Some(arn) = &r.boundary {
            self.boundary_policy(tx, arn).await?;
        }
        let id = match id {
            Some(id) => id.to_owned(),
            None => crate::new_id("AROA")?,
        };
        sqlx::query(
            "INSERT INTO iam_roles (id, name, name_key, path, created_at, trust_policy, description, \
             max_session_duration, boundary_arn, service_linked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(r.name.as_str())
        .bind(r.name.key())
        .bind(r.path.as_str())
        .bind(now())
        .bind(r.trust.text())
        .bind(r.description.as_deref())
        .bind(r.max_session_duration)
        .bind(r.boundary.as_deref())
        .bind(i64::from(service_linked))
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if !r.tags.is_empty() {
            tags::add(tx, EntityKind::Role, &id, &r.tags).await?;
        }
        tx.touch(Touch::Role(id.clone()));
        let mut role = self.role(tx, &r.name).await?;
        role.tags = r.tags.clone();
        Ok(role)
    }

    /// The roles whose path starts with the prefix, by name (`ListRoles`).
    pub async fn list_roles(
        &self,
        tx: &mut Tx,
        prefix: &PathPrefix,
        page: &Page,
    ) -> Result<Paged<Role>, IamError> {
        let rows: Paged<RoleRow> = tx
            .list_named(ROLE_COLUMNS, "iam_roles", prefix, page, |r: &RoleRow| &r.1)
            .await?;
        Ok(rows.map(|r| self.role_of(r)))
    }

    /// Changes a role's description and longest session (`UpdateRole`); a service-linked role's
    /// description only.
    pub async fn update_role(
        &self,
        tx: &mut Tx,
        name: &Name,
        r: &UpdateRole,
    ) -> Result<Role, IamError> {
        let role = self.role(tx, name).await?;
        if let Some(max) = r.max_session_duration {
            if role.service_linked {
                return Err(protected_role(role.name.as_str()));
            }
            sqlx::query("UPDATE iam_roles SET max_session_duration = $1 WHERE id = $2")
                .bind(max)
                .bind(&role.id)
                .execute(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        }
        if let Some(d) = &r.description {
            sqlx::query("UPDATE iam_roles SET description = $1 WHERE id = $2")
                .bind(d)
                .bind(&role.id)
                .execute(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        }
        tx.touch(Touch::Role(role.id.clone()));
        self.get_role(tx, name).await
    }

    /// Replaces a role's trust policy (`UpdateAssumeRolePolicy`).
    pub async fn update_assume_role_policy(
        &self,
        tx: &mut Tx,
        name: &Name,
        trust: &PolicyDocument,
    ) -> Result<(), IamError> {
        let role = self.modifiable_role(tx, name).await?;
        trust.within("ACLSizePerRole", crate::quotas::document::TRUST)?;
        sqlx::query("UPDATE iam_roles SET trust_policy = $1 WHERE id = $2")
            .bind(trust.text())
            .bind(&role.id)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        tx.touch(Touch::Role(role.id.clone()));
        Ok(())
    }

    /// Deletes a role that has nothing left: no instance profile, inline or attached policy (AWS's
    /// order of complaints). A service-linked role is deleted only through
    /// `DeleteServiceLinkedRole`.
    pub async fn delete_role(&self, tx: &mut Tx, name: &Name) -> Result<(), IamError> {
        let role = self.modifiable_role(tx, name).await?;
        tx.refuse_while_any(&role.id, &[
            (
                "SELECT COUNT(*) FROM iam_instance_profile_roles WHERE role_id = $1",
                "Cannot delete entity, must remove roles from instance profile first.",
            ),
            (
                "SELECT COUNT(*) FROM iam_inline_policies WHERE owner_kind = 'role' AND owner_id = $1",
                "Cannot delete entity, must delete policies first.",
            ),
            (
                "SELECT COUNT(*) FROM iam_attachments WHERE owner_kind = 'role' AND owner_id = $1",
                "Cannot delete entity, must detach all policies first.",
            ),
        ]).await?;
        self.remove_role(tx, &role).await
    }

    /// Removes a role row and its tags.
    async fn remove_role(&self, tx: &mut Tx, role: &Role) -> Result<(), IamError> {
        tags::clear(tx, EntityKind::Role, &role.id).await?;
        tx.exec_id("DELETE FROM iam_roles WHERE id = $1", &role.id)
            .await?;
        tx.touch(Touch::Principal(role.arn.clone()));
        Ok(())
    }

    /// Tags a role.
    pub async fn tag_role(&self, tx: &mut Tx, name: &Name, tags: &[Tag]) -> Result<(), IamError> {
        let role = self.role(tx, name).await?;
        tags::add(tx, EntityKind::Role, &role.id, tags).await
    }

    /// Removes tags from a role.
    pub async fn untag_role(
        &self,
        tx: &mut Tx,
        name: &Name,
        keys: &[String],
    ) -> Result<(), IamError> {
        let role = self.role(tx, name).await?;
        tags::remove(tx, EntityKind::Role, &role.id, keys).await
    }

    /// A page of a role's tags.
    pub async fn list_role_tags(
        &self,
        tx: &mut Tx,
        name: &Name,
        page: &Page,
    ) -> Result<Paged<Tag>, IamError> {
        let role = self.role(tx, name).await?;
        tags::list(tx, EntityKind::Role, &role.id, page).await
    }
}

/// AWS's message for a missing role.
pub(crate) fn no_such_role(name: &str) -> IamError {
    IamError::no_such_entity(format!("The role with name {name} cannot be found."))
}
