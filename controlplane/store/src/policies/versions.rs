//! A managed policy's versions: `v1`, `v2`, … numbered on, at most `policy_versions` (5) of the
//! account's policy at once, exactly one the default (the one in force, never deleted on its own).

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::document::PolicyDocument;
use crate::error::IamError;
use crate::export::VersionDetail;
use crate::model::now;
use crate::names::constraint;
use crate::page::{Page, Paged};
use crate::policies::ManagedPolicy;
use crate::Iam;

/// A version id's number: `v3` → 3 (AWS's ids may carry a suffix after a dot, `v3.a`).
pub(crate) fn number(id: &str) -> Option<i64> {
    let digits = id.strip_prefix('v')?;
    let digits = digits.split_once('.').map_or(digits, |(n, _)| n);
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Checks a `VersionId` parameter: `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`.
pub fn parse_version_id(param: &str, value: &str) -> Result<String, IamError> {
    let suffix_ok = value
        .split_once('.')
        .is_none_or(|(_, s)| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if number(value).is_none() || !suffix_ok {
        return Err(constraint(
            param,
            value,
            "Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?",
        ));
    }
    Ok(value.to_owned())
}

/// Stores a version's document.
pub(crate) async fn insert(
    tx: &mut Tx,
    policy_id: &str,
    version: &str,
    document: &str,
    created: i64,
) -> Result<(), IamError> {
    sqlx::query(
        "INSERT INTO iam_policy_versions (policy_id, version_id, document, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(policy_id)
    .bind(version)
    .bind(document)
    .bind(created)
    .execute(&mut *tx.inner)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Makes a version the default.
pub(crate) async fn set_default(
    tx: &mut Tx,
    policy_id: &str,
    version: &str,
    at: i64,
) -> Result<(), IamError> {
    sqlx::query("UPDATE iam_policies SET default_version = $1, updated_at = $2 WHERE id = $3")
        .bind(version)
        .bind(at)
        .bind(policy_id)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    tx.touch(Touch::Policy(policy_id.to_owned()));
    Ok(())
}

fn no_such_version(arn: &str, version: &str) -> IamError {
    IamError::no_such_entity(format!(
        "Policy {arn} version {version} does not exist or is not attachable."
    ))
}

impl Iam {
    /// Every version of a policy, newest first.
    async fn versions_of(
        &self,
        tx: &mut Tx,
        p: &ManagedPolicy,
    ) -> Result<Vec<VersionDetail>, IamError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT version_id, document, created_at FROM iam_policy_versions WHERE policy_id = $1",
        )
        .bind(&p.id)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let mut versions: Vec<VersionDetail> = rows
            .into_iter()
            .map(|(id, document, created)| VersionDetail {
                is_default: id == p.default_version,
                id,
                document,
                created,
            })
            .collect();
        versions.sort_by(|a, b| {
            number(&b.id)
                .cmp(&number(&a.id))
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(versions)
    }

    /// Adds a version to one of the account's policies (`CreatePolicyVersion`), the default when
    /// `set_default`; refused at the quota of versions.
    pub async fn create_policy_version(
        &self,
        tx: &mut Tx,
        arn: &str,
        document: &PolicyDocument,
        set_default: bool,
    ) -> Result<VersionDetail, IamError> {
        let p = self.own_policy(tx, arn).await?;
        document.within("PolicySize", crate::quotas::document::MANAGED)?;
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM iam_policy_versions WHERE policy_id = $1")
                .bind(&p.id)
                .fetch_one(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        let max = self.quotas().policy_versions;
        if usize::try_from(count).unwrap_or(usize::MAX) >= max {
            return Err(IamError::limit_exceeded(format!(
                "A managed policy can have up to {max} versions. Before you create a new version, you must delete an existing version."
            )));
        }
        let (next,): (i64,) = sqlx::query_as("SELECT next_version FROM iam_policies WHERE id = $1")
            .bind(&p.id)
            .fetch_one(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        let id = format!("v{next}");
        self.add_version(tx, &p, &id, document.text(), set_default)
            .await
    }

    /// Stores a version with a given id (numbering on after it) and makes it the default when asked.
    pub(crate) async fn add_version(
        &self,
        tx: &mut Tx,
        p: &ManagedPolicy,
        id: &str,
        document: &str,
        make_default: bool,
    ) -> Result<VersionDetail, IamError> {
        let n = number(id)
            .ok_or_else(|| IamError::invalid_input(format!("`{id}` is not a policy version id")))?;
        let exists: Option<(String,)> = sqlx::query_as(
            "SELECT version_id FROM iam_policy_versions WHERE policy_id = $1 AND version_id = $2",
        )
        .bind(&p.id)
        .bind(id)
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if exists.is_some() {
            return Err(IamError::already_exists(format!(
                "Policy {} already has version {id}.",
                p.arn
            )));
        }
        let created = now();
        insert(tx, &p.id, id, document, created).await?;
        sqlx::query(
            "UPDATE iam_policies SET next_version = $1 WHERE id = $2 AND next_version <= $3",
        )
        .bind(n + 1)
        .bind(&p.id)
        .bind(n)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if make_default {
            set_default(tx, &p.id, id, created).await?;
        }
        Ok(VersionDetail {
            id: id.to_owned(),
            document: document.to_owned(),
            is_default: make_default,
            created,
        })
    }

    /// One version of a policy (`GetPolicyVersion`).
    pub async fn get_policy_version(
        &self,
        tx: &mut Tx,
        arn: &str,
        version: &str,
    ) -> Result<VersionDetail, IamError> {
        let p = self.policy(tx, arn).await?;
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT document, created_at FROM iam_policy_versions WHERE policy_id = $1 AND version_id = $2",
        )
        .bind(&p.id)
        .bind(version)
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let (document, created) = row.ok_or_else(|| no_such_version(arn, version))?;
        Ok(VersionDetail {
            id: version.to_owned(),
            document,
            is_default: version == p.default_version,
            created,
        })
    }

    /// A page of a policy's versions, newest first (`ListPolicyVersions`); the documents are left
    /// out, as AWS leaves them.
    pub async fn list_policy_versions(
        &self,
        tx: &mut Tx,
        arn: &str,
        page: &Page,
    ) -> Result<Paged<VersionDetail>, IamError> {
        let p = self.policy(tx, arn).await?;
        let after = number(page.after());
        let rows: Vec<VersionDetail> = self
            .versions_of(tx, &p)
            .await?
            .into_iter()
            .filter(|v| after.is_none_or(|a| number(&v.id).is_some_and(|n| n < a)))
            .map(|v| VersionDetail {
                document: String::new(),
                ..v
            })
            .collect();
        let rows = rows
            .into_iter()
            .take(page.max_items.saturating_add(1))
            .collect();
        Ok(page.cut(rows, |v| v.id.clone()))
    }

    /// Makes a version the one in force (`SetDefaultPolicyVersion`).
    pub async fn set_default_policy_version(
        &self,
        tx: &mut Tx,
        arn: &str,
        version: &str,
    ) -> Result<(), IamError> {
        let p = self.own_policy(tx, arn).await?;
        let v = self.get_policy_version(tx, arn, version).await?;
        if v.id != p.default_version {
            set_default(tx, &p.id, &v.id, now()).await?;
        }
        Ok(())
    }

    /// Deletes a version that is not the default (`DeletePolicyVersion`).
    pub async fn delete_policy_version(
        &self,
        tx: &mut Tx,
        arn: &str,
        version: &str,
    ) -> Result<(), IamError> {
        let p = self.own_policy(tx, arn).await?;
        let v = self.get_policy_version(tx, arn, version).await?;
        if v.is_default {
            return Err(IamError::delete_conflict(
                "Cannot delete the default version of a policy.",
            ));
        }
        sqlx::query("DELETE FROM iam_policy_versions WHERE policy_id = $1 AND version_id = $2")
            .bind(&p.id)
            .bind(&v.id)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        // Only a version that is not the default can go: no decision changes.
        tx.touch(Touch::Inert(format!("policy-version:{}:{}", p.id, v.id)));
        Ok(())
    }
}
