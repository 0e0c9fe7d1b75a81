//! Instance profiles: containers for a role that EC2 passes to its instances. At most
//! `roles_per_instance_profile` (1) role in one; a profile with a role is not deleted, nor a role
//! that is in a profile.

use crate::changes::Touch;
use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::model::{now, EntityKind, InstanceProfile, Role};
use crate::names::{IamPath, Name, PathPrefix, Tag};
use crate::page::{Page, Paged};
use crate::roles::{protected_role, RoleRow, ROLE_COLUMNS};
use crate::sql::within_quota;
use crate::{tags, Iam};
use std::collections::HashMap;

type ProfileRow = (String, String, String, i64);

/// AWS's message for a missing instance profile.
fn no_such_profile(name: &str) -> IamError {
    IamError::no_such_entity(format!("Instance Profile {name} cannot be found."))
}

impl Iam {
    fn instance_profile_of(&self, (id, name, path, created): ProfileRow) -> InstanceProfile {
        let path = IamPath::stored(path);
        InstanceProfile {
            arn: self.arn(EntityKind::InstanceProfile, &path, &name),
            id,
            name: Name::stored(name),
            path,
            created,
            roles: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// The instance profile with this name (without its roles), if there is one.
    pub async fn find_instance_profile(
        &self,
        tx: &mut Tx,
        name: &Name,
    ) -> Result<Option<InstanceProfile>, IamError> {
        let row: Option<ProfileRow> = sqlx::query_as(
            "SELECT id, name, path, created_at FROM iam_instance_profiles WHERE name_key = $1",
        )
        .bind(name.key())
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(row.map(|r| self.instance_profile_of(r)))
    }

    async fn instance_profile(
        &self,
        tx: &mut Tx,
        name: &Name,
    ) -> Result<InstanceProfile, IamError> {
        self.find_instance_profile(tx, name)
            .await?
            .ok_or_else(|| no_such_profile(name.as_str()))
    }

    /// The roles of some profiles, by profile id.
    async fn roles_of_profiles(
        &self,
        tx: &mut Tx,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<Role>>, IamError> {
        let mut out: HashMap<String, Vec<Role>> = HashMap::new();
        for id in ids {
            let rows: Vec<RoleRow> = sqlx::query_as(&format!(
                "SELECT {} FROM iam_roles r JOIN iam_instance_profile_roles x ON x.role_id = r.id \
                 WHERE x.profile_id = $1 ORDER BY r.name_key",
                ROLE_COLUMNS
                    .split(", ")
                    .map(|c| format!("r.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .bind(id)
            .fetch_all(&mut *tx.inner)
            .await
            .map_err(db_error)?;
            out.insert(
                id.clone(),
                rows.into_iter().map(|r| self.role_of(r)).collect(),
            );
        }
        Ok(out)
    }

    /// Fills in the profiles' roles.
    async fn with_roles(
        &self,
        tx: &mut Tx,
        mut profiles: Vec<InstanceProfile>,
    ) -> Result<Vec<InstanceProfile>, IamError> {
        let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
        let mut roles = self.roles_of_profiles(tx, &ids).await?;
        for p in &mut profiles {
            p.roles = roles.remove(&p.id).unwrap_or_default();
        }
        Ok(profiles)
    }

    /// Creates an instance profile.
    pub async fn create_instance_profile(
        &self,
        tx: &mut Tx,
        name: &Name,
        path: &IamPath,
        tags: &[Tag],
    ) -> Result<InstanceProfile, IamError> {
        self.create_instance_profile_as(tx, name, path, tags, None)
            .await
    }

    /// Creates an instance profile with a given id (an import keeps its export's).
    pub(crate) async fn create_instance_profile_as(
        &self,
        tx: &mut Tx,
        name: &Name,
        path: &IamPath,
        tags: &[Tag],
        id: Option<&str>,
    ) -> Result<InstanceProfile, IamError> {
        if self.find_instance_profile(tx, name).await?.is_some() {
            return Err(IamError::already_exists(format!(
                "Instance Profile {name} already exists."
            )));
        }
        let count = tx
            .count("SELECT COUNT(*) FROM iam_instance_profiles", None)
            .await?;
        within_quota(
            count,
            self.quotas().instance_profiles,
            "InstanceProfilesPerAccount",
        )?;
        let id = match id {
            Some(id) => id.to_owned(),
            None => crate::new_id("AIPA")?,
        };
        sqlx::query(
            "INSERT INTO iam_instance_profiles (id, name, name_key, path, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(name.as_str())
        .bind(name.key())
        .bind(path.as_str())
        .bind(now())
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if !tags.is_empty() {
            tags::add(tx, EntityKind::InstanceProfile, &id, tags).await?;
        }
        tx.touch(Touch::Inert(format!("instance-profile:{id}")));
        let mut p = self.instance_profile(tx, name).await?;
        p.tags = tags.to_vec();
        Ok(p)
    }

    /// An instance profile with its roles and tags (`GetInstanceProfile`).
    pub async fn get_instance_profile(
        &self,
        tx: &mut Tx,
        name: &Name,
    ) -> Result<InstanceProfile, IamError> {
        let p = self.instance_profile(tx, name).await?;
        let mut found = self.with_roles(tx, vec![p]).await?;
        let mut p = found.pop().ok_or_else(|| no_such_profile(name.as_str()))?;
        p.tags = tags::of(tx, EntityKind::InstanceProfile, &p.id).await?;
        Ok(p)
    }

    /// The instance profiles whose path starts with the prefix, with their roles, by name.
    pub async fn list_instance_profiles(
        &self,
        tx: &mut Tx,
        prefix: &PathPrefix,
        page: &Page,
    ) -> Result<Paged<InstanceProfile>, IamError> {
        let cut = tx
            .list_named(
                "id, name, path, created_at",
                "iam_instance_profiles",
                prefix,
                page,
                |r: &ProfileRow| &r.1,
            )
            .await?
            .map(|r| self.instance_profile_of(r));
        Ok(Paged {
            items: self.with_roles(tx, cut.items).await?,
            marker: cut.marker,
        })
    }

    /// The instance profiles a role is in, by name (`ListInstanceProfilesForRole`).
    pub async fn list_instance_profiles_for_role(
        &self,
        tx: &mut Tx,
        role: &Name,
        page: &Page,
    ) -> Result<Paged<InstanceProfile>, IamError> {
        let r = self.role(tx, role).await?;
        let rows: Vec<ProfileRow> = sqlx::query_as(
            "SELECT p.id, p.name, p.path, p.created_at FROM iam_instance_profiles p \
             JOIN iam_instance_profile_roles x ON x.profile_id = p.id \
             WHERE x.role_id = $1 AND p.name_key > $2 ORDER BY p.name_key LIMIT $3",
        )
        .bind(&r.id)
        .bind(page.after())
        .bind(page.limit())
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let cut = page
            .cut(rows, |r| r.1.to_ascii_lowercase())
            .map(|r| self.instance_profile_of(r));
        Ok(Paged {
            items: self.with_roles(tx, cut.items).await?,
            marker: cut.marker,
        })
    }

    /// Deletes an instance profile without a role.
    pub async fn delete_instance_profile(&self, tx: &mut Tx, name: &Name) -> Result<(), IamError> {
        let p = self.instance_profile(tx, name).await?;
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM iam_instance_profile_roles WHERE profile_id = $1")
                .bind(&p.id)
                .fetch_one(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        if n > 0 {
            return Err(IamError::delete_conflict(
                "Cannot delete entity, must remove roles from instance profile first.",
            ));
        }
        tags::clear(tx, EntityKind::InstanceProfile, &p.id).await?;
        tx.exec_id("DELETE FROM iam_instance_profiles WHERE id = $1", &p.id)
            .await?;
        tx.touch(Touch::Inert(format!("instance-profile:{}", p.id)));
        Ok(())
    }

    /// Puts a role in an instance profile (`AddRoleToInstanceProfile`).
    pub async fn add_role_to_instance_profile(
        &self,
        tx: &mut Tx,
        profile: &Name,
        role: &Name,
    ) -> Result<(), IamError> {
        let p = self.instance_profile(tx, profile).await?;
        let r = self.role(tx, role).await?;
        if r.service_linked {
            return Err(protected_role(r.name.as_str()));
        }
        let roles: Vec<(String,)> =
            sqlx::query_as("SELECT role_id FROM iam_instance_profile_roles WHERE profile_id = $1")
                .bind(&p.id)
                .fetch_all(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        if roles.iter().any(|(id,)| *id == r.id) {
            return Err(IamError::already_exists(format!(
                "The role with name {} is already in instance profile {}.",
                r.name, p.name
            )));
        }
        let max = self.quotas().roles_per_instance_profile;
        if roles.len() >= max {
            return Err(IamError::limit_exceeded(format!(
                "Cannot exceed quota for InstanceSessionsPerInstanceProfile: {max}"
            )));
        }
        sqlx::query("INSERT INTO iam_instance_profile_roles (profile_id, role_id) VALUES ($1, $2)")
            .bind(&p.id)
            .bind(&r.id)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        tx.touch(Touch::Inert(format!("instance-profile:{}", p.id)));
        Ok(())
    }

    /// Takes a role out of an instance profile.
    pub async fn remove_role_from_instance_profile(
        &self,
        tx: &mut Tx,
        profile: &Name,
        role: &Name,
    ) -> Result<(), IamError> {
        let p = self.instance_profile(tx, profile).await?;
        let r = self.role(tx, role).await?;
        let done = sqlx::query(
            "DELETE FROM iam_instance_profile_roles WHERE profile_id = $1 AND role_id = $2",
        )
        .bind(&p.id)
        .bind(&r.id)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(IamError::no_such_entity(format!(
                "The role with name {} is not in instance profile {}.",
                r.name, p.name
            )));
        }
        tx.touch(Touch::Inert(format!("instance-profile:{}", p.id)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::roles::tests::role;
    use crate::tests::{name, temp_db};
    use crate::*;

    #[tokio::test]
    async fn instance_profiles_hold_one_role() {
        let t = temp_db("profiles").await;
        let iam = &t.iam;
        let mut tx = iam.write().await.unwrap();
        let ip = name("web", NameKind::InstanceProfile);
        let tags = Tag::parse_list(&[("env", "prod")]).unwrap();
        let p = iam
            .create_instance_profile(
                &mut tx,
                &ip,
                &IamPath::parse("Path", Some("/w/")).unwrap(),
                &tags,
            )
            .await
            .unwrap();
        assert_eq!(p.arn, "arn:aws:iam::111122223333:instance-profile/w/web");
        assert!(p.id.starts_with("AIPA"));
        let e = iam
            .create_instance_profile(
                &mut tx,
                &name("WEB", NameKind::InstanceProfile),
                &IamPath::root(),
                &[],
            )
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::EntityAlreadyExists);
        assert_eq!(e.message, "Instance Profile WEB already exists.");
        for r in ["a", "b"] {
            iam.create_role(&mut tx, &role(r)).await.unwrap();
        }
        let a = name("a", NameKind::Role);
        iam.add_role_to_instance_profile(&mut tx, &ip, &a)
            .await
            .unwrap();
        let e = iam
            .add_role_to_instance_profile(&mut tx, &ip, &a)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::EntityAlreadyExists);
        let e = iam
            .add_role_to_instance_profile(&mut tx, &ip, &name("b", NameKind::Role))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::LimitExceeded);
        assert_eq!(
            e.message,
            "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"
        );
        let got = iam.get_instance_profile(&mut tx, &ip).await.unwrap();
        assert_eq!(got.roles.len(), 1);
        assert_eq!(got.roles[0].name.as_str(), "a");
        assert_eq!(got.tags, tags);
        let for_role = iam
            .list_instance_profiles_for_role(&mut tx, &a, &Page::default())
            .await
            .unwrap();
        assert_eq!(for_role.items.len(), 1);
        let listed = iam
            .list_instance_profiles(&mut tx, &PathPrefix::default(), &Page::default())
            .await
            .unwrap();
        assert_eq!(listed.items[0].roles.len(), 1);
        let e = iam
            .remove_role_from_instance_profile(&mut tx, &ip, &name("b", NameKind::Role))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSuchEntity);
        let e = iam
            .get_instance_profile(&mut tx, &name("nope", NameKind::InstanceProfile))
            .await
            .unwrap_err();
        assert_eq!(e.message, "Instance Profile nope cannot be found.");
    }
}
