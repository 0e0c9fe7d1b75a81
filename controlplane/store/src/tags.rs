//! Tags of users, roles, managed policies, instance profiles and MFA devices: at most fifty per
//! entity, keys unique without regard to case (a tag with an existing key replaces it).

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::model::EntityKind;
use crate::names::{Tag, MAX_TAGS};
use crate::page::{Page, Paged};

/// An entity's tags, sorted by key.
pub(crate) async fn of(tx: &mut Tx, kind: EntityKind, id: &str) -> Result<Vec<Tag>, IamError> {
    Ok(list(tx, kind, id, &Page::all()).await?.items)
}

/// A page of an entity's tags, sorted by key.
pub(crate) async fn list(
    tx: &mut Tx,
    kind: EntityKind,
    id: &str,
    page: &Page,
) -> Result<Paged<Tag>, IamError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT key_lower, tag_key, tag_value FROM iam_tags \
         WHERE entity_kind = $1 AND entity_id = $2 AND key_lower > $3 ORDER BY key_lower LIMIT $4",
    )
    .bind(kind.as_str())
    .bind(id)
    .bind(page.after())
    .bind(page.limit())
    .fetch_all(&mut *tx.inner)
    .await
    .map_err(db_error)?;
    Ok(page
        .cut(rows, |(k, _, _)| k.clone())
        .map(|(_, key, value)| Tag { key, value }))
}

/// Adds tags, replacing the values of keys the entity has; refused past fifty in all.
pub(crate) async fn add(
    tx: &mut Tx,
    kind: EntityKind,
    id: &str,
    tags: &[Tag],
) -> Result<(), IamError> {
    let existing = of(tx, kind, id).await?;
    let new = tags
        .iter()
        .filter(|t| !existing.iter().any(|e| e.key.eq_ignore_ascii_case(&t.key)))
        .count();
    if existing.len() + new > MAX_TAGS {
        return Err(IamError::limit_exceeded(format!(
            "The number of tags has reached the maximum limit: a {} has at most {MAX_TAGS} tags",
            kind.noun()
        )));
    }
    for t in tags {
        let lower = t.key.to_lowercase();
        sqlx::query(
            "DELETE FROM iam_tags WHERE entity_kind = $1 AND entity_id = $2 AND key_lower = $3",
        )
        .bind(kind.as_str())
        .bind(id)
        .bind(&lower)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO iam_tags (entity_kind, entity_id, tag_key, key_lower, tag_value) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(kind.as_str())
        .bind(id)
        .bind(&t.key)
        .bind(&lower)
        .bind(&t.value)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    }
    tx.touch(touch(kind, id));
    Ok(())
}

/// Removes the tags with these keys (keys the entity lacks are ignored, as AWS does).
pub(crate) async fn remove(
    tx: &mut Tx,
    kind: EntityKind,
    id: &str,
    keys: &[String],
) -> Result<(), IamError> {
    for k in keys {
        sqlx::query(
            "DELETE FROM iam_tags WHERE entity_kind = $1 AND entity_id = $2 AND key_lower = $3",
        )
        .bind(kind.as_str())
        .bind(id)
        .bind(k.to_lowercase())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    }
    tx.touch(touch(kind, id));
    Ok(())
}

/// Removes every tag of an entity being deleted.
pub(crate) async fn clear(tx: &mut Tx, kind: EntityKind, id: &str) -> Result<(), IamError> {
    sqlx::query("DELETE FROM iam_tags WHERE entity_kind = $1 AND entity_id = $2")
        .bind(kind.as_str())
        .bind(id)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Checks `TagKeys.member.N` for `Untag*`: 1 to 50 keys of 1 to 128 characters.
pub fn parse_keys(keys: &[&str]) -> Result<Vec<String>, IamError> {
    if keys.is_empty() || keys.len() > MAX_TAGS {
        return Err(crate::names::constraint(
            "TagKeys",
            &format!("{} keys", keys.len()),
            &format!("Member must have length between 1 and {MAX_TAGS}"),
        ));
    }
    keys.iter()
        .map(|k| {
            if (1..=128).contains(&k.chars().count()) {
                Ok((*k).to_owned())
            } else {
                Err(crate::names::constraint(
                    "TagKeys.member",
                    k,
                    "Member must have length between 1 and 128",
                ))
            }
        })
        .collect()
}

impl crate::Iam {
    /// An entity's tags, sorted by key.
    pub async fn tags_of(
        &self,
        tx: &mut Tx,
        kind: EntityKind,
        id: &str,
    ) -> Result<Vec<Tag>, IamError> {
        of(tx, kind, id).await
    }
}

/// A tag change as the feed records it: a user's or role's tags are its principal tags; other
/// entities' tags decide only IAM API calls on them.
fn touch(kind: EntityKind, id: &str) -> Touch {
    match kind {
        EntityKind::User => Touch::User(id.to_owned()),
        EntityKind::Role => Touch::Role(id.to_owned()),
        other => Touch::Inert(format!("{}-tags:{id}", other.as_str())),
    }
}
