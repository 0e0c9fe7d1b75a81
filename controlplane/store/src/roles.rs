//! IAM roles: what reading them needs (the rest of their life is in the role operations).

use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::model::{EntityKind, Role};
use crate::names::{IamPath, Name};
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

    /// The role with this name and its tags (`GetRole`).
    pub async fn get_role(&self, tx: &mut Tx, name: &Name) -> Result<Role, IamError> {
        let mut role = self.role(tx, name).await?;
        role.tags = tags::of(tx, EntityKind::Role, &role.id).await?;
        Ok(role)
    }
}

/// AWS's message for a missing role.
pub(crate) fn no_such_role(name: &str) -> IamError {
    IamError::no_such_entity(format!("The role with name {name} cannot be found."))
}
