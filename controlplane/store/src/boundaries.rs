//! Permissions boundaries of users and roles: a managed policy (the account's or AWS's) that caps
//! what the identity policies can grant.

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::model::EntityKind;
use crate::names::Name;
use crate::Iam;

impl Iam {
    /// Sets a user's permissions boundary (`PutUserPermissionsBoundary`).
    pub async fn put_user_boundary(
        &self,
        tx: &mut Tx,
        user: &Name,
        arn: &str,
    ) -> Result<(), IamError> {
        let u = self.user(tx, user).await?;
        self.boundary_policy(tx, arn).await?;
        set(tx, EntityKind::User, &u.id, Some(arn)).await
    }

    /// Removes a user's permissions boundary (`DeleteUserPermissionsBoundary`; none is no error).
    pub async fn delete_user_boundary(&self, tx: &mut Tx, user: &Name) -> Result<(), IamError> {
        let u = self.user(tx, user).await?;
        set(tx, EntityKind::User, &u.id, None).await
    }

    /// Sets a role's permissions boundary (`PutRolePermissionsBoundary`); not a service-linked
    /// role's.
    pub async fn put_role_boundary(
        &self,
        tx: &mut Tx,
        role: &Name,
        arn: &str,
    ) -> Result<(), IamError> {
        let r = self.modifiable_role(tx, role).await?;
        self.boundary_policy(tx, arn).await?;
        set(tx, EntityKind::Role, &r.id, Some(arn)).await
    }

    /// Removes a role's permissions boundary (`DeleteRolePermissionsBoundary`).
    pub async fn delete_role_boundary(&self, tx: &mut Tx, role: &Name) -> Result<(), IamError> {
        let r = self.modifiable_role(tx, role).await?;
        set(tx, EntityKind::Role, &r.id, None).await
    }
}

async fn set(tx: &mut Tx, kind: EntityKind, id: &str, arn: Option<&str>) -> Result<(), IamError> {
    let (table, touch) = match kind {
        EntityKind::Role => ("iam_roles", Touch::Role(id.to_owned())),
        _ => ("iam_users", Touch::User(id.to_owned())),
    };
    sqlx::query(&format!(
        "UPDATE {table} SET boundary_arn = $1 WHERE id = $2"
    ))
    .bind(arn)
    .bind(id)
    .execute(&mut *tx.inner)
    .await
    .map_err(db_error)?;
    tx.touch(touch);
    Ok(())
}
