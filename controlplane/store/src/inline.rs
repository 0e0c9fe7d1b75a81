//! Inline policies of users, groups and roles: named documents that live and die with their owner.
//! All of an owner's inline documents together are at most 2,048 (user), 5,120 (group) or 10,240
//! (role) characters as AWS counts them.

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::document::PolicyDocument;
use crate::error::IamError;
use crate::export::Inline;
use crate::model::EntityKind;
use crate::names::Name;
use crate::page::{Page, Paged};
use crate::quotas::document;
use crate::Iam;

/// The user, group or role a policy belongs to, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner<'a> {
    /// A user.
    User(&'a Name),
    /// A group.
    Group(&'a Name),
    /// A role.
    Role(&'a Name),
}

impl Owner<'_> {
    /// The owner's kind.
    pub fn kind(self) -> EntityKind {
        match self {
            Owner::User(_) => EntityKind::User,
            Owner::Group(_) => EntityKind::Group,
            Owner::Role(_) => EntityKind::Role,
        }
    }

    /// What AWS calls the owner's kind in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Owner::User(_) => "user",
            Owner::Group(_) => "group",
            Owner::Role(_) => "role",
        }
    }
}

/// An owner found in the database: its kind and id.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub(crate) kind: EntityKind,
    pub(crate) id: String,
    pub(crate) name: String,
}

impl Found {
    /// The owner as a change touches it: a group's change reaches its members.
    pub(crate) fn touch(&self) -> Touch {
        match self.kind {
            EntityKind::Group => Touch::Group(self.id.clone()),
            EntityKind::Role => Touch::Role(self.id.clone()),
            _ => Touch::User(self.id.clone()),
        }
    }
}

impl Iam {
    /// Looks an owner up (`NoSuchEntity` in AWS's words); a service-linked role is refused when the
    /// call would change it.
    pub(crate) async fn owner(
        &self,
        tx: &mut Tx,
        owner: Owner<'_>,
        changing: bool,
    ) -> Result<Found, IamError> {
        let (id, name) = match owner {
            Owner::User(n) => {
                let u = self.user(tx, n).await?;
                (u.id, u.name)
            }
            Owner::Group(n) => {
                let g = self.group(tx, n).await?;
                (g.id, g.name)
            }
            Owner::Role(n) if changing => {
                let r = self.modifiable_role(tx, n).await?;
                (r.id, r.name)
            }
            Owner::Role(n) => {
                let r = self.role(tx, n).await?;
                (r.id, r.name)
            }
        };
        Ok(Found {
            kind: owner.kind(),
            id,
            name: name.as_str().to_owned(),
        })
    }

    /// Adds or replaces an inline policy (`Put{User,Group,Role}Policy`).
    pub async fn put_inline_policy(
        &self,
        tx: &mut Tx,
        owner: Owner<'_>,
        name: &Name,
        doc: &PolicyDocument,
    ) -> Result<(), IamError> {
        let o = self.owner(tx, owner, true).await?;
        let max = match owner {
            Owner::User(_) => document::USER_INLINE,
            Owner::Group(_) => document::GROUP_INLINE,
            Owner::Role(_) => document::ROLE_INLINE,
        };
        let others: Vec<(String,)> = sqlx::query_as(
            "SELECT document FROM iam_inline_policies WHERE owner_kind = $1 AND owner_id = $2 AND name_key <> $3",
        )
        .bind(o.kind.as_str())
        .bind(&o.id)
        .bind(name.key())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let total: usize = others.iter().map(|(d,)| document::size(d)).sum::<usize>() + doc.size();
        if total > max {
            return Err(IamError::limit_exceeded(format!(
                "Maximum policy size of {max} bytes exceeded for {} {}",
                owner.noun(),
                o.name
            )));
        }
        sqlx::query(
            "DELETE FROM iam_inline_policies WHERE owner_kind = $1 AND owner_id = $2 AND name_key = $3",
        )
        .bind(o.kind.as_str())
        .bind(&o.id)
        .bind(name.key())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO iam_inline_policies (owner_kind, owner_id, name, name_key, document) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(o.kind.as_str())
        .bind(&o.id)
        .bind(name.as_str())
        .bind(name.key())
        .bind(doc.text())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        tx.touch(o.touch());
        Ok(())
    }

    /// An inline policy (`Get{User,Group,Role}Policy`): its name as stored and its document.
    pub async fn get_inline_policy(
        &self,
        tx: &mut Tx,
        owner: Owner<'_>,
        name: &Name,
    ) -> Result<Inline, IamError> {
        let o = self.owner(tx, owner, false).await?;
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT name, document FROM iam_inline_policies WHERE owner_kind = $1 AND owner_id = $2 AND name_key = $3",
        )
        .bind(o.kind.as_str())
        .bind(&o.id)
        .bind(name.key())
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let (name, document) = row.ok_or_else(|| no_such_inline(owner, name))?;
        Ok(Inline { name, document })
    }

    /// A page of an owner's inline policy names, in order (`List{User,Group,Role}Policies`).
    pub async fn list_inline_policies(
        &self,
        tx: &mut Tx,
        owner: Owner<'_>,
        page: &Page,
    ) -> Result<Paged<String>, IamError> {
        let o = self.owner(tx, owner, false).await?;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT name_key, name FROM iam_inline_policies WHERE owner_kind = $1 AND owner_id = $2 \
             AND name_key > $3 ORDER BY name_key LIMIT $4",
        )
        .bind(o.kind.as_str())
        .bind(&o.id)
        .bind(page.after())
        .bind(page.limit())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(page.cut(rows, |r| r.0.clone()).map(|(_, name)| name))
    }

    /// Deletes an inline policy (`Delete{User,Group,Role}Policy`).
    pub async fn delete_inline_policy(
        &self,
        tx: &mut Tx,
        owner: Owner<'_>,
        name: &Name,
    ) -> Result<(), IamError> {
        let o = self.owner(tx, owner, true).await?;
        let done = sqlx::query(
            "DELETE FROM iam_inline_policies WHERE owner_kind = $1 AND owner_id = $2 AND name_key = $3",
        )
        .bind(o.kind.as_str())
        .bind(&o.id)
        .bind(name.key())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(no_such_inline(owner, name));
        }
        tx.touch(o.touch());
        Ok(())
    }
}

/// AWS's message for a missing inline policy (`The user policy with name X cannot be found.`).
fn no_such_inline(owner: Owner<'_>, name: &Name) -> IamError {
    IamError::no_such_entity(format!(
        "The {} policy with name {name} cannot be found.",
        owner.noun()
    ))
}

#[cfg(test)]
mod tests {
    use crate::policies::tests::doc;
    use crate::tests::{name, temp_db, user};
    use crate::*;

    #[tokio::test]
    async fn inline_policies_share_their_owners_size() {
        let t = temp_db("inline").await;
        let iam = &t.iam;
        let mut tx = iam.write().await.unwrap();
        iam.create_user(&mut tx, &user("bob")).await.unwrap();
        let bob = name("bob", NameKind::User);
        let sized = |n: usize| {
            doc(&format!(
                r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "{}", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}]}}"#,
                "x".repeat(n)
            ))
        };
        let one = sized(900);
        iam.put_inline_policy(
            &mut tx,
            Owner::User(&bob),
            &name("one", NameKind::Policy),
            &one,
        )
        .await
        .unwrap();
        iam.put_inline_policy(
            &mut tx,
            Owner::User(&bob),
            &name("two", NameKind::Policy),
            &one,
        )
        .await
        .unwrap();
        let e = iam
            .put_inline_policy(
                &mut tx,
                Owner::User(&bob),
                &name("three", NameKind::Policy),
                &one,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::LimitExceeded);
        assert_eq!(
            e.message,
            "Maximum policy size of 2048 bytes exceeded for user bob"
        );
        // Replacing one counts the new document instead of the old.
        iam.put_inline_policy(
            &mut tx,
            Owner::User(&bob),
            &name("TWO", NameKind::Policy),
            &sized(10),
        )
        .await
        .unwrap();
        let names = iam
            .list_inline_policies(&mut tx, Owner::User(&bob), &Page::default())
            .await
            .unwrap();
        assert_eq!(names.items, ["one", "TWO"]);
        let got = iam
            .get_inline_policy(&mut tx, Owner::User(&bob), &name("two", NameKind::Policy))
            .await
            .unwrap();
        assert_eq!(got.name, "TWO");
        let e = iam
            .get_inline_policy(&mut tx, Owner::User(&bob), &name("nope", NameKind::Policy))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSuchEntity);
        assert_eq!(e.message, "The user policy with name nope cannot be found.");
        let g = name("ops", NameKind::Group);
        iam.create_group(&mut tx, &g, &IamPath::root())
            .await
            .unwrap();
        for i in 0..5 {
            iam.put_inline_policy(
                &mut tx,
                Owner::Group(&g),
                &name(&format!("p{i}"), NameKind::Policy),
                &one,
            )
            .await
            .unwrap();
        }
        let e = iam
            .put_inline_policy(
                &mut tx,
                Owner::Group(&g),
                &name("p5", NameKind::Policy),
                &one,
            )
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "Maximum policy size of 5120 bytes exceeded for group ops"
        );
        let e = iam
            .delete_inline_policy(&mut tx, Owner::Group(&g), &name("nope", NameKind::Policy))
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "The group policy with name nope cannot be found."
        );
        let e = iam
            .put_inline_policy(
                &mut tx,
                Owner::Role(&name("ghost", NameKind::Role)),
                &name("p", NameKind::Policy),
                &one,
            )
            .await
            .unwrap_err();
        assert_eq!(e.message, "The role with name ghost cannot be found.");
    }
}
