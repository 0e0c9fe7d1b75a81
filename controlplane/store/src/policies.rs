//! Managed policies: the account's own (`arn:aws:iam::ACCOUNT:policy/PATH/NAME`) and AWS's
//! (`arn:aws:iam::aws:policy/NAME`), each with up to five versions, one of them the default.

use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::names::{IamPath, Name};
use crate::Iam;

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

impl Iam {
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

    /// The managed policy with this ARN, or `NoSuchEntity` as AWS words it.
    pub async fn managed_policy(&self, tx: &mut Tx, arn: &str) -> Result<ManagedPolicy, IamError> {
        self.find_managed_policy(tx, arn).await?.ok_or_else(|| {
            IamError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."))
        })
    }

    /// A policy to be a permissions boundary: a managed policy of this account or AWS's.
    pub(crate) async fn boundary_policy(
        &self,
        tx: &mut Tx,
        arn: &str,
    ) -> Result<ManagedPolicy, IamError> {
        self.find_managed_policy(tx, arn).await?.ok_or_else(|| {
            IamError::no_such_entity(format!(
                "Scope ARN: {arn} does not exist or is not attachable."
            ))
        })
    }
}
