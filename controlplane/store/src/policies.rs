//! Managed policies: the account's own (`arn:aws:iam::ACCOUNT:policy/PATH/NAME`) and AWS's
//! (`arn:aws:iam::aws:policy/PATH/NAME`, [`crate::aws_managed`]), each with versions, one of them
//! the default (the one in force). The account's are created, tagged, versioned and deleted by
//! callers; AWS's only by AWS (`UnmodifiableEntity`).
//!
//! Versions are in [`versions`], the entities a policy is attached to in [`entities`].

pub mod entities;
#[cfg(test)]
pub(crate) mod tests;
pub mod versions;

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::document::PolicyDocument;
use crate::error::{ErrorCode, IamError};
use crate::model::{now, EntityKind};
use crate::names::{constraint, IamPath, Name, NameKind, PathPrefix, Tag};
use crate::page::{Page, Paged};
use crate::sql::within_quota;
use crate::{tags, Iam};
use std::collections::HashMap;

/// A managed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedPolicy {
    /// `ANPA…`.
    pub id: String,
    /// Its name.
    pub name: Name,
    /// Its path.
    pub path: IamPath,
    /// Its ARN.
    pub arn: String,
    /// Its description.
    pub description: Option<String>,
    /// When it was created.
    pub created: i64,
    /// When its default version last changed.
    pub updated: i64,
    /// `v1`, `v2`, …
    pub default_version: String,
    /// Whether it is one of AWS's.
    pub aws_managed: bool,
}

/// A managed policy with its use, as `GetPolicy` and `ListPolicies` return it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyInfo {
    /// The policy.
    pub policy: ManagedPolicy,
    /// How many users, groups and roles it is attached to.
    pub attachment_count: i64,
    /// How many users and roles have it as their permissions boundary.
    pub boundary_usage_count: i64,
    /// Its tags (`GetPolicy`, `CreatePolicy`; `ListPolicies` leaves them out, as AWS does).
    pub tags: Vec<Tag>,
}

/// `CreatePolicy`'s parameters.
#[derive(Clone, Debug)]
pub struct CreatePolicy {
    /// `PolicyName`.
    pub name: Name,
    /// `Path` ([`IamPath::parse_policy`]).
    pub path: IamPath,
    /// `PolicyDocument`, parsed as an identity policy.
    pub document: PolicyDocument,
    /// `Description`.
    pub description: Option<String>,
    /// `Tags`.
    pub tags: Vec<Tag>,
}

/// `Scope` of `ListPolicies`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PolicyScope {
    /// Every policy (the default).
    #[default]
    All,
    /// AWS's.
    Aws,
    /// The account's own.
    Local,
}

impl PolicyScope {
    /// Reads `Scope` (`All`, `AWS`, `Local`).
    pub fn parse(param: &str, value: Option<&str>) -> Result<PolicyScope, IamError> {
        match value {
            None | Some("All") => Ok(PolicyScope::All),
            Some("AWS") => Ok(PolicyScope::Aws),
            Some("Local") => Ok(PolicyScope::Local),
            Some(other) => Err(constraint(
                param,
                other,
                "Member must satisfy enum value set: [All, AWS, Local]",
            )),
        }
    }
}

/// `PolicyUsageFilter`: how a policy is used by users, groups and roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyUsage {
    /// Attached as a permissions policy.
    PermissionsPolicy,
    /// Set as a permissions boundary.
    PermissionsBoundary,
}

impl PolicyUsage {
    /// Reads `PolicyUsageFilter` (`PermissionsPolicy`, `PermissionsBoundary`).
    pub fn parse(param: &str, value: Option<&str>) -> Result<Option<PolicyUsage>, IamError> {
        match value {
            None => Ok(None),
            Some("PermissionsPolicy") => Ok(Some(PolicyUsage::PermissionsPolicy)),
            Some("PermissionsBoundary") => Ok(Some(PolicyUsage::PermissionsBoundary)),
            Some(other) => Err(constraint(
                param,
                other,
                "Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]",
            )),
        }
    }
}

/// `ListPolicies`' filters.
#[derive(Clone, Debug, Default)]
pub struct ListPolicies {
    /// `Scope`.
    pub scope: PolicyScope,
    /// `OnlyAttached`: only policies in use (as the usage filter says, or either way).
    pub only_attached: bool,
    /// `PathPrefix` ([`PathPrefix::parse_policy`]).
    pub prefix: PathPrefix,
    /// `PolicyUsageFilter`: only policies used this way.
    pub usage: Option<PolicyUsage>,
}

type PolicyRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    i64,
    String,
    i64,
);

pub(crate) const POLICY_COLUMNS: &str =
    "id, name, path, arn, description, created_at, updated_at, default_version, aws_managed";

pub(crate) fn policy_of(
    (id, name, path, arn, description, created, updated, default_version, aws): PolicyRow,
) -> ManagedPolicy {
    ManagedPolicy {
        id,
        name: Name::stored(name),
        path: IamPath::stored(path),
        arn,
        description,
        created,
        updated,
        default_version,
        aws_managed: aws != 0,
    }
}

/// SQL: the policy `p` is attached to a user, group or role.
const ATTACHED: &str = "EXISTS (SELECT 1 FROM iam_attachments a WHERE a.policy_id = p.id)";
/// SQL: the policy `p` is a user's or role's permissions boundary.
const BOUNDING: &str = "(EXISTS (SELECT 1 FROM iam_users b WHERE b.boundary_arn = p.arn) \
     OR EXISTS (SELECT 1 FROM iam_roles b WHERE b.boundary_arn = p.arn))";

/// Checks that a parameter names a managed policy's ARN as IAM writes them:
/// `arn:aws:iam::ACCOUNT:policy/PATH/NAME`, the account twelve digits or `aws`. Anything else is
/// `InvalidInput` in AWS's words (`ARN … is not valid.`).
pub fn check_policy_arn(arn: &str) -> Result<(), IamError> {
    let invalid = || IamError::invalid_input(format!("ARN {arn} is not valid."));
    let parsed = iamlet_engine::Arn::parse(arn).ok_or_else(invalid)?;
    let account_ok = parsed.account == "aws"
        || (parsed.account.len() == 12 && parsed.account.bytes().all(|b| b.is_ascii_digit()));
    let Some(rest) = parsed.resource.strip_prefix("policy") else {
        return Err(invalid());
    };
    let (path, name) = match rest.rsplit_once('/') {
        Some((path, name)) => (format!("{path}/"), name),
        None => return Err(invalid()),
    };
    let ok = parsed.partition == "aws"
        && parsed.service == "iam"
        && parsed.region.is_empty()
        && account_ok
        && IamPath::parse_policy("PolicyArn", Some(&path)).is_ok()
        && Name::parse("PolicyArn", name, NameKind::Policy).is_ok();
    if ok {
        Ok(())
    } else {
        Err(invalid())
    }
}

/// `NoSuchEntity` for a policy `GetPolicy` and the calls that change a policy look up.
fn policy_not_found(arn: &str) -> IamError {
    IamError::no_such_entity(format!("Policy {arn} was not found."))
}

/// `UnmodifiableEntity`: AWS's policies change only by AWS.
pub(crate) fn aws_managed_unmodifiable(arn: &str) -> IamError {
    IamError::new(
        ErrorCode::UnmodifiableEntity,
        format!("Cannot perform the operation on the AWS managed policy {arn}: it is only modifiable by AWS"),
    )
}

impl Iam {
    /// `arn:aws:iam::ACCOUNT:policy{path}{name}`.
    pub fn policy_arn(&self, path: &IamPath, name: &str) -> String {
        format!(
            "arn:aws:iam::{}:policy{}{}",
            self.account_id(),
            path.as_str(),
            name
        )
    }

    /// The managed policy with this ARN, if there is one.
    pub async fn find_managed_policy(
        &self,
        tx: &mut Tx,
        arn: &str,
    ) -> Result<Option<ManagedPolicy>, IamError> {
        let row: Option<PolicyRow> = sqlx::query_as(&format!(
            "SELECT {POLICY_COLUMNS} FROM iam_policies WHERE arn = $1"
        ))
        .bind(arn)
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(row.map(policy_of))
    }

    /// A policy to attach: `NoSuchEntity` as AWS words it for attachments
    /// (`Policy … does not exist or is not attachable.`).
    pub async fn managed_policy(&self, tx: &mut Tx, arn: &str) -> Result<ManagedPolicy, IamError> {
        check_policy_arn(arn)?;
        self.find_managed_policy(tx, arn).await?.ok_or_else(|| {
            IamError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
        })
    }

    /// The policy with this ARN, or `NoSuchEntity` (`Policy … was not found.`).
    pub async fn policy(&self, tx: &mut Tx, arn: &str) -> Result<ManagedPolicy, IamError> {
        check_policy_arn(arn)?;
        self.find_managed_policy(tx, arn)
            .await?
            .ok_or_else(|| policy_not_found(arn))
    }

    /// The account's own policy with this ARN: `NoSuchEntity` when there is none,
    /// `UnmodifiableEntity` for one of AWS's.
    pub(crate) async fn own_policy(
        &self,
        tx: &mut Tx,
        arn: &str,
    ) -> Result<ManagedPolicy, IamError> {
        let p = self.policy(tx, arn).await?;
        if p.aws_managed {
            return Err(aws_managed_unmodifiable(arn));
        }
        Ok(p)
    }

    /// A policy to be a permissions boundary: a managed policy of this account or AWS's.
    pub(crate) async fn boundary_policy(
        &self,
        tx: &mut Tx,
        arn: &str,
    ) -> Result<ManagedPolicy, IamError> {
        check_policy_arn(arn)?;
        self.find_managed_policy(tx, arn).await?.ok_or_else(|| {
            IamError::no_such_entity(format!(
                "Scope ARN: {arn} does not exist or is not attachable."
            ))
        })
    }

    /// Creates a customer managed policy with its first version, `v1`, as the default.
    pub async fn create_policy(
        &self,
        tx: &mut Tx,
        r: &CreatePolicy,
    ) -> Result<PolicyInfo, IamError> {
        self.create_policy_as(tx, r, None, "v1").await
    }

    /// Creates a policy with a given id (an import keeps its export's ids) and first version id.
    pub(crate) async fn create_policy_as(
        &self,
        tx: &mut Tx,
        r: &CreatePolicy,
        id: Option<&str>,
        version: &str,
    ) -> Result<PolicyInfo, IamError> {
        r.document
            .within("PolicySize", crate::quotas::document::MANAGED)?;
        let taken: Option<(String,)> =
            sqlx::query_as("SELECT id FROM iam_policies WHERE aws_managed = 0 AND name_key = $1")
                .bind(r.name.key())
                .fetch_optional(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        if taken.is_some() {
            return Err(IamError::already_exists(format!(
                "A policy called {} already exists. Duplicate names are not allowed.",
                r.name
            )));
        }
        let count = tx
            .count(
                "SELECT COUNT(*) FROM iam_policies WHERE aws_managed = 0",
                None,
            )
            .await?;
        within_quota(count, self.quotas().managed_policies, "PoliciesPerAccount")?;
        let id = match id {
            Some(id) => id.to_owned(),
            None => crate::new_id("ANPA")?,
        };
        let number = versions::number(version).ok_or_else(|| {
            IamError::invalid_input(format!("`{version}` is not a policy version id"))
        })?;
        let arn = self.policy_arn(&r.path, r.name.as_str());
        let created = now();
        sqlx::query(
            "INSERT INTO iam_policies (id, arn, name, name_key, path, description, created_at, updated_at, \
             default_version, next_version, aws_managed) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9, 0)",
        )
        .bind(&id)
        .bind(&arn)
        .bind(r.name.as_str())
        .bind(r.name.key())
        .bind(r.path.as_str())
        .bind(r.description.as_deref())
        .bind(created)
        .bind(version)
        .bind(number + 1)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        versions::insert(tx, &id, version, r.document.text(), created).await?;
        if !r.tags.is_empty() {
            tags::add(tx, EntityKind::Policy, &id, &r.tags).await?;
        }
        tx.touch(Touch::Policy(id.clone()));
        let mut info = self.get_policy(tx, &arn).await?;
        info.tags = r.tags.clone();
        Ok(info)
    }

    /// A policy, its use and tags (`GetPolicy`).
    pub async fn get_policy(&self, tx: &mut Tx, arn: &str) -> Result<PolicyInfo, IamError> {
        let policy = self.policy(tx, arn).await?;
        let mut infos = with_use(tx, vec![policy]).await?;
        let mut info = infos.pop().ok_or_else(|| policy_not_found(arn))?;
        info.tags = tags::of(tx, EntityKind::Policy, &info.policy.id).await?;
        Ok(info)
    }

    /// A page of policies, by ARN (`ListPolicies`).
    pub async fn list_policies(
        &self,
        tx: &mut Tx,
        r: &ListPolicies,
        page: &Page,
    ) -> Result<Paged<PolicyInfo>, IamError> {
        let scope = match r.scope {
            PolicyScope::All => "1 = 1",
            PolicyScope::Aws => "p.aws_managed = 1",
            PolicyScope::Local => "p.aws_managed = 0",
        };
        // The usage filter keeps policies used that way; `OnlyAttached` alone, those used either way.
        let usage = match (r.usage, r.only_attached) {
            (Some(PolicyUsage::PermissionsPolicy), _) => ATTACHED.to_owned(),
            (Some(PolicyUsage::PermissionsBoundary), _) => BOUNDING.to_owned(),
            (None, true) => format!("({ATTACHED} OR {BOUNDING})"),
            (None, false) => "1 = 1".to_owned(),
        };
        let rows: Vec<PolicyRow> = sqlx::query_as(&format!(
            "SELECT {POLICY_COLUMNS} FROM iam_policies p WHERE p.arn > $1 \
             AND substr(p.path, 1, length($2)) = $2 AND {scope} AND {usage} ORDER BY p.arn LIMIT $3"
        ))
        .bind(page.after())
        .bind(r.prefix.as_str().unwrap_or("/"))
        .bind(page.limit())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let cut = page.cut(rows, |r| r.3.clone());
        let items = with_use(tx, cut.items.into_iter().map(policy_of).collect()).await?;
        Ok(Paged {
            items,
            marker: cut.marker,
        })
    }

    /// Deletes one of the account's policies: refused while it is attached or bounds anyone, and
    /// while it has versions other than the default (AWS deletes only the default with it).
    pub async fn delete_policy(&self, tx: &mut Tx, arn: &str) -> Result<(), IamError> {
        let p = self.own_policy(tx, arn).await?;
        let mut info = with_use(tx, vec![p]).await?;
        let Some(info) = info.pop() else {
            return Err(policy_not_found(arn));
        };
        if info.attachment_count > 0 || info.boundary_usage_count > 0 {
            return Err(IamError::delete_conflict(
                "Cannot delete a policy attached to entities.",
            ));
        }
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM iam_policy_versions WHERE policy_id = $1")
                .bind(&info.policy.id)
                .fetch_one(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        if n > 1 {
            return Err(IamError::delete_conflict(
                "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
            ));
        }
        tags::clear(tx, EntityKind::Policy, &info.policy.id).await?;
        for sql in [
            "DELETE FROM iam_policy_versions WHERE policy_id = $1",
            "DELETE FROM iam_policies WHERE id = $1",
        ] {
            sqlx::query(sql)
                .bind(&info.policy.id)
                .execute(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        }
        tx.touch(Touch::Policy(info.policy.id.clone()));
        Ok(())
    }

    /// Tags one of the account's policies.
    pub async fn tag_policy(&self, tx: &mut Tx, arn: &str, tags: &[Tag]) -> Result<(), IamError> {
        let p = self.own_policy(tx, arn).await?;
        tags::add(tx, EntityKind::Policy, &p.id, tags).await
    }

    /// Removes tags from one of the account's policies.
    pub async fn untag_policy(
        &self,
        tx: &mut Tx,
        arn: &str,
        keys: &[String],
    ) -> Result<(), IamError> {
        let p = self.own_policy(tx, arn).await?;
        tags::remove(tx, EntityKind::Policy, &p.id, keys).await
    }

    /// A page of a policy's tags.
    pub async fn list_policy_tags(
        &self,
        tx: &mut Tx,
        arn: &str,
        page: &Page,
    ) -> Result<Paged<Tag>, IamError> {
        let p = self.policy(tx, arn).await?;
        tags::list(tx, EntityKind::Policy, &p.id, page).await
    }
}

/// The policies with their attachment and boundary counts, in one query each for all of them.
async fn with_use(tx: &mut Tx, policies: Vec<ManagedPolicy>) -> Result<Vec<PolicyInfo>, IamError> {
    let (Some(lo), Some(hi)) = (
        policies.iter().map(|p| p.arn.clone()).min(),
        policies.iter().map(|p| p.arn.clone()).max(),
    ) else {
        return Ok(Vec::new());
    };
    let attachments: Vec<(String, i64)> = sqlx::query_as(
        "SELECT a.policy_id, COUNT(*) FROM iam_attachments a JOIN iam_policies p ON p.id = a.policy_id \
         WHERE p.arn >= $1 AND p.arn <= $2 GROUP BY a.policy_id",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(&mut *tx.inner)
    .await
    .map_err(db_error)?;
    let boundaries: Vec<(String, i64)> = sqlx::query_as(
        "SELECT b.arn, COUNT(*) FROM (SELECT boundary_arn AS arn FROM iam_users WHERE boundary_arn IS NOT NULL \
         UNION ALL SELECT boundary_arn AS arn FROM iam_roles WHERE boundary_arn IS NOT NULL) b \
         WHERE b.arn >= $1 AND b.arn <= $2 GROUP BY b.arn",
    )
    .bind(&lo)
    .bind(&hi)
    .fetch_all(&mut *tx.inner)
    .await
    .map_err(db_error)?;
    let attachments: HashMap<String, i64> = attachments.into_iter().collect();
    let boundaries: HashMap<String, i64> = boundaries.into_iter().collect();
    Ok(policies
        .into_iter()
        .map(|policy| PolicyInfo {
            attachment_count: attachments.get(&policy.id).copied().unwrap_or(0),
            boundary_usage_count: boundaries.get(&policy.arn).copied().unwrap_or(0),
            tags: Vec::new(),
            policy,
        })
        .collect())
}
