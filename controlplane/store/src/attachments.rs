//! Managed policies attached to users, groups and roles: at most `managed_policies_per_entity`
//! (10) each; attaching one twice changes nothing, as in AWS.

use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::export::Attached;
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
        tx.touch(o.touch());
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
        tx.touch(o.touch());
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

#[cfg(test)]
mod tests {
    use crate::policies::tests::policy;
    use crate::roles::tests::role;
    use crate::tests::{name, temp_db, user};
    use crate::*;

    #[tokio::test]
    async fn attachments_have_a_quota_and_need_a_policy() {
        let t = temp_db("attachments").await;
        let iam = Iam {
            quotas: Quotas {
                managed_policies_per_entity: 2,
                ..Quotas::default()
            },
            ..t.iam.clone()
        };
        let mut tx = iam.write().await.unwrap();
        iam.create_user(&mut tx, &user("carol")).await.unwrap();
        let carol = name("carol", NameKind::User);
        let arns: Vec<String> = {
            let mut v = Vec::new();
            for p in ["a", "b", "c"] {
                v.push(
                    iam.create_policy(&mut tx, &policy(p))
                        .await
                        .unwrap()
                        .policy
                        .arn,
                );
            }
            v
        };
        iam.attach_policy(&mut tx, Owner::User(&carol), &arns[0])
            .await
            .unwrap();
        // Twice is once.
        iam.attach_policy(&mut tx, Owner::User(&carol), &arns[0])
            .await
            .unwrap();
        iam.attach_policy(&mut tx, Owner::User(&carol), &arns[1])
            .await
            .unwrap();
        let e = iam
            .attach_policy(&mut tx, Owner::User(&carol), &arns[2])
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::LimitExceeded);
        assert_eq!(e.message, "Cannot exceed quota for PoliciesPerUser: 2");
        let e = iam
            .attach_policy(
                &mut tx,
                Owner::User(&carol),
                "arn:aws:iam::111122223333:policy/none",
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSuchEntity);
        assert_eq!(
            e.message,
            "Policy arn:aws:iam::111122223333:policy/none does not exist or is not attachable."
        );
        let e = iam
            .detach_policy(&mut tx, Owner::User(&carol), &arns[2])
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSuchEntity);
        assert_eq!(e.message, format!("Policy {} was not found.", arns[2]));
        let listed = iam
            .list_attached_policies(
                &mut tx,
                Owner::User(&carol),
                &PathPrefix::default(),
                &Page::default(),
            )
            .await
            .unwrap();
        assert_eq!(
            listed
                .items
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        let e = iam.delete_user(&mut tx, &carol).await.unwrap_err();
        assert_eq!(
            e.message,
            "Cannot delete entity, must detach all policies first."
        );

        // Boundaries: any managed policy, set and removed.
        iam.put_user_boundary(&mut tx, &carol, "arn:aws:iam::aws:policy/PowerUserAccess")
            .await
            .unwrap();
        assert!(iam.user(&mut tx, &carol).await.unwrap().boundary.is_some());
        let e = iam
            .put_user_boundary(&mut tx, &carol, "arn:aws:iam::aws:policy/NoSuchPolicy")
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSuchEntity);
        let e = iam
            .put_user_boundary(&mut tx, &carol, "not-an-arn-at-all-really")
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        iam.delete_user_boundary(&mut tx, &carol).await.unwrap();
        assert!(iam.user(&mut tx, &carol).await.unwrap().boundary.is_none());
        iam.create_role(&mut tx, &role("r")).await.unwrap();
        let r = name("r", NameKind::Role);
        iam.put_role_boundary(&mut tx, &r, &arns[0]).await.unwrap();
        let e = iam.delete_policy(&mut tx, &arns[0]).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::DeleteConflict);
        iam.delete_role_boundary(&mut tx, &r).await.unwrap();
    }
}
