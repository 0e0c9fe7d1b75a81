//! Managed policies attached to users, groups and roles: at most `managed_policies_per_entity`
//! (10) each; attaching one twice changes nothing, as in AWS.

use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::export::Attached;
use crate::generation::DataKind;
use crate::inline::Owner;
use crate::names::PathPrefix;
use crate::page::{Page, Paged};
use crate::policies::check_policy_arn;
use crate::Iam;

impl Iam {
    /// Attaches a managed policy (`Attach{User,Group,Role}Policy`).
    pub async fn attach_policy(
        &self,
        tx: &mut Tx,
        owner: Owner<'_>,
        arn: &str,
    ) -> Result<(), IamError> {
        let o = self.owner(tx, owner, true).await?;
        let p = self.managed_policy(tx, arn).await?;
        let attached: Vec<(String,)> = sqlx::query_as(
            "SELECT policy_id FROM iam_attachments WHERE owner_kind = $1 AND owner_id = $2",
        )
        .bind(o.kind.as_str())
        .bind(&o.id)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if attached.iter().any(|(id,)| *id == p.id) {
            return Ok(());
        }
        let max = self.quotas().managed_policies_per_entity;
        if attached.len() >= max {
            let quota = match owner {
                Owner::User(_) => "PoliciesPerUser",
                Owner::Group(_) => "PoliciesPerGroup",
                Owner::Role(_) => "PoliciesPerRole",
            };
            return Err(IamError::limit_exceeded(format!(
                "Cannot exceed quota for {quota}: {max}"
            )));
        }
        sqlx::query(
            "INSERT INTO iam_attachments (owner_kind, owner_id, policy_id) VALUES ($1, $2, $3)",
        )
        .bind(o.kind.as_str())
        .bind(&o.id)
        .bind(&p.id)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        tx.touch(DataKind::Identity);
        Ok(())
    }

    /// Detaches a managed policy (`Detach{User,Group,Role}Policy`); one not attached is
    /// `NoSuchEntity`.
    pub async fn detach_policy(
        &self,
        tx: &mut Tx,
        owner: Owner<'_>,
        arn: &str,
    ) -> Result<(), IamError> {
        check_policy_arn(arn)?;
        let o = self.owner(tx, owner, true).await?;
        let not_found = || IamError::no_such_entity(format!("Policy {arn} was not found."));
        let p = self
            .find_managed_policy(tx, arn)
            .await?
            .ok_or_else(not_found)?;
        let done = sqlx::query(
            "DELETE FROM iam_attachments WHERE owner_kind = $1 AND owner_id = $2 AND policy_id = $3",
        )
        .bind(o.kind.as_str())
        .bind(&o.id)
        .bind(&p.id)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(not_found());
        }
        tx.touch(DataKind::Identity);
        Ok(())
    }

    /// A page of the managed policies attached to an owner whose path starts with the prefix, by
    /// ARN (`ListAttached{User,Group,Role}Policies`).
    pub async fn list_attached_policies(
        &self,
        tx: &mut Tx,
        owner: Owner<'_>,
        prefix: &PathPrefix,
        page: &Page,
    ) -> Result<Paged<Attached>, IamError> {
        let o = self.owner(tx, owner, false).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT p.arn, p.name FROM iam_attachments a JOIN iam_policies p ON p.id = a.policy_id \
             WHERE a.owner_kind = $1 AND a.owner_id = $2 AND p.arn > $3 \
             AND substr(p.path, 1, length($4)) = $4 ORDER BY p.arn LIMIT $5",
        )
        .bind(o.kind.as_str())
        .bind(&o.id)
        .bind(page.after())
        .bind(prefix.as_str().unwrap_or("/"))
        .bind(page.limit())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(page
            .cut(rows, |r| r.0.clone())
            .map(|(arn, name)| Attached { name, arn }))
    }
}
