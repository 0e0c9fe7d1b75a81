//! The account: its alias (at most `account_aliases`, AWS allows one) and `GetAccountSummary`'s
//! counts and quotas.

use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::page::{Page, Paged};
use crate::quotas::document;
use crate::{Iam, ROOT_OWNER};

/// Checks `AccountAlias`: 3 to 63 lowercase letters, digits and single hyphens, beginning and ending
/// with a letter or digit (`^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`).
pub fn parse_alias(param: &str, value: &str) -> Result<String, IamError> {
    let bytes = value.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let ok = (3..=63).contains(&bytes.len())
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && bytes.iter().all(|b| edge(b) || *b == b'-')
        && !value.contains("--");
    if !ok {
        return Err(crate::names::constraint(
            param,
            value,
            "Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$",
        ));
    }
    Ok(value.to_owned())
}

/// `GetAccountSummary`'s map: AWS's keys, in a stable order.
pub type Summary = Vec<(&'static str, i64)>;

impl Iam {
    /// Gives the account an alias.
    pub async fn create_account_alias(&self, tx: &mut Tx, alias: &str) -> Result<(), IamError> {
        let existing = self.aliases(tx).await?;
        if existing.iter().any(|a| a == alias) {
            return Err(IamError::already_exists(format!(
                "The account alias {alias} already exists."
            )));
        }
        let quota = self.quotas().account_aliases;
        if existing.len() >= quota {
            return Err(IamError::limit_exceeded(format!(
                "Cannot exceed quota for AccountAliasesPerAccount: {quota}"
            )));
        }
        sqlx::query("INSERT INTO iam_account_aliases (alias) VALUES ($1)")
            .bind(alias)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Removes an alias.
    pub async fn delete_account_alias(&self, tx: &mut Tx, alias: &str) -> Result<(), IamError> {
        let done = tx
            .exec_id("DELETE FROM iam_account_aliases WHERE alias = $1", alias)
            .await?;
        if done == 0 {
            return Err(IamError::no_such_entity(format!(
                "The account alias {alias} cannot be found."
            )));
        }
        Ok(())
    }

    /// A page of the account's aliases.
    pub async fn list_account_aliases(
        &self,
        tx: &mut Tx,
        page: &Page,
    ) -> Result<Paged<String>, IamError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT alias FROM iam_account_aliases WHERE alias > $1 ORDER BY alias LIMIT $2",
        )
        .bind(page.after())
        .bind(page.limit())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(page.cut(rows, |r| r.0.clone()).map(|(a,)| a))
    }

    async fn aliases(&self, tx: &mut Tx) -> Result<Vec<String>, IamError> {
        Ok(self.list_account_aliases(tx, &Page::all()).await?.items)
    }

    /// The account's counts and quotas, under AWS's names (`GetAccountSummary`).
    pub async fn account_summary(&self, tx: &mut Tx) -> Result<Summary, IamError> {
        let q = *self.quotas();
        let quota = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let root_keys = quota(
            tx.count(
                "SELECT COUNT(*) FROM iam_access_keys WHERE user_id = $1",
                Some(ROOT_OWNER),
            )
            .await?,
        );
        let users = quota(tx.count("SELECT COUNT(*) FROM iam_users", None).await?);
        let groups = quota(tx.count("SELECT COUNT(*) FROM iam_groups", None).await?);
        let roles = quota(tx.count("SELECT COUNT(*) FROM iam_roles", None).await?);
        let profiles = quota(
            tx.count("SELECT COUNT(*) FROM iam_instance_profiles", None)
                .await?,
        );
        let policies = quota(
            tx.count(
                "SELECT COUNT(*) FROM iam_policies WHERE aws_managed = 0",
                None,
            )
            .await?,
        );
        // Each attachment of a managed policy puts its default version in use.
        let versions_in_use = quota(
            tx.count("SELECT COUNT(*) FROM iam_attachments", None)
                .await?,
        );
        let devices = quota(
            tx.count("SELECT COUNT(*) FROM iam_mfa_devices", None)
                .await?,
        );
        let devices_in_use = quota(
            tx.count(
                "SELECT COUNT(*) FROM iam_mfa_devices WHERE user_id IS NOT NULL",
                None,
            )
            .await?,
        );
        let size = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        Ok(vec![
            ("Users", users),
            ("UsersQuota", quota(q.users)),
            ("Groups", groups),
            ("GroupsQuota", quota(q.groups)),
            ("Roles", roles),
            ("RolesQuota", quota(q.roles)),
            ("Policies", policies),
            ("PoliciesQuota", quota(q.managed_policies)),
            ("InstanceProfiles", profiles),
            ("InstanceProfilesQuota", quota(q.instance_profiles)),
            ("MFADevices", devices),
            ("MFADevicesInUse", devices_in_use),
            // The root user has no MFA device (EnableMFADevice names an IAM user) and no console
            // password here.
            ("AccountMFAEnabled", 0),
            ("AccountAccessKeysPresent", i64::from(root_keys > 0)),
            ("AccountPasswordPresent", 0),
            ("AccountSigningCertificatesPresent", 0),
            ("AccessKeysPerUserQuota", quota(q.access_keys_per_user)),
            ("SigningCertificatesPerUserQuota", 2),
            ("GroupsPerUserQuota", quota(q.groups_per_user)),
            (
                "AttachedPoliciesPerUserQuota",
                quota(q.managed_policies_per_entity),
            ),
            (
                "AttachedPoliciesPerGroupQuota",
                quota(q.managed_policies_per_entity),
            ),
            (
                "AttachedPoliciesPerRoleQuota",
                quota(q.managed_policies_per_entity),
            ),
            ("PolicyVersionsInUse", versions_in_use),
            ("PolicyVersionsInUseQuota", 10_000),
            ("VersionsPerPolicyQuota", quota(q.policy_versions)),
            ("PolicySizeQuota", size(document::MANAGED)),
            ("UserPolicySizeQuota", size(document::USER_INLINE)),
            ("GroupPolicySizeQuota", size(document::GROUP_INLINE)),
            ("RolePolicySizeQuota", size(document::ROLE_INLINE)),
            ("AssumeRolePolicySizeQuota", size(document::TRUST)),
            ("ServerCertificates", 0),
            ("ServerCertificatesQuota", 20),
            ("Providers", 0),
            ("GlobalEndpointTokenVersion", 1),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{temp_db, user};
    use crate::ErrorCode;

    #[test]
    fn aliases_follow_aws_pattern() {
        for good in ["abc", "my-company-1", "0a0", &"a".repeat(63)] {
            assert!(parse_alias("AccountAlias", good).is_ok(), "{good}");
        }
        for bad in ["ab", "-abc", "abc-", "a--b", "Abc", "a_b", &"a".repeat(64)] {
            let e = parse_alias("AccountAlias", bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::ValidationError, "{bad}");
            assert!(e.message.contains("'accountAlias'"), "{e}");
        }
    }

    #[tokio::test]
    async fn one_alias_and_a_summary_of_counts() {
        let t = temp_db("account").await;
        let iam = &t.iam;
        let mut tx = iam.write().await.unwrap();
        iam.create_account_alias(&mut tx, "example-corp")
            .await
            .unwrap();
        assert_eq!(
            iam.create_account_alias(&mut tx, "example-corp")
                .await
                .unwrap_err()
                .code,
            ErrorCode::EntityAlreadyExists
        );
        let e = iam
            .create_account_alias(&mut tx, "other")
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                ErrorCode::LimitExceeded,
                "Cannot exceed quota for AccountAliasesPerAccount: 1"
            )
        );
        assert_eq!(
            iam.list_account_aliases(&mut tx, &Page::default())
                .await
                .unwrap()
                .items,
            vec!["example-corp".to_owned()]
        );
        assert_eq!(
            iam.delete_account_alias(&mut tx, "other")
                .await
                .unwrap_err()
                .code,
            ErrorCode::NoSuchEntity
        );
        iam.delete_account_alias(&mut tx, "example-corp")
            .await
            .unwrap();

        iam.create_user(&mut tx, &user("a")).await.unwrap();
        iam.create_user(&mut tx, &user("b")).await.unwrap();
        let s = iam.account_summary(&mut tx).await.unwrap();
        let get = |k: &str| s.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        assert_eq!(get("Users"), Some(2));
        assert_eq!(get("UsersQuota"), Some(5000));
        assert_eq!(get("Groups"), Some(0));
        assert_eq!(get("AccountAccessKeysPresent"), Some(1));
        assert_eq!(get("AccessKeysPerUserQuota"), Some(2));
        assert_eq!(get("PolicySizeQuota"), Some(6144));
        assert_eq!(get("MFADevices"), Some(0));
    }
}
