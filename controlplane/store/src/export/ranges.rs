//! The range loaders: each table read once per range of its owners' sort keys.

use super::*;

/// An inclusive range of sort keys.
#[derive(Clone, Copy, Debug)]
pub(super) struct Range<'a> {
    pub(super) lo: &'a str,
    pub(super) hi: &'a str,
}

/// Which managed policies a range of policies takes.
pub(super) fn policy_scope(f: &DetailsFilter) -> &'static str {
    match (f.local_policies, f.aws_policies) {
        (true, true) => {
            "(p.aws_managed = 0 OR EXISTS (SELECT 1 FROM iam_attachments a WHERE a.policy_id = p.id) \
             OR EXISTS (SELECT 1 FROM iam_users b WHERE b.boundary_arn = p.arn) \
             OR EXISTS (SELECT 1 FROM iam_roles b WHERE b.boundary_arn = p.arn))"
        }
        (true, false) => "p.aws_managed = 0",
        (false, true) => {
            "(p.aws_managed = 1 AND (EXISTS (SELECT 1 FROM iam_attachments a WHERE a.policy_id = p.id) \
             OR EXISTS (SELECT 1 FROM iam_users b WHERE b.boundary_arn = p.arn) \
             OR EXISTS (SELECT 1 FROM iam_roles b WHERE b.boundary_arn = p.arn)))"
        }
        (false, false) => "1 = 0",
    }
}

type Owned<T> = HashMap<String, Vec<T>>;

fn group_by<T, R>(rows: Vec<R>, split: impl Fn(R) -> (String, T)) -> Owned<T> {
    let mut out: Owned<T> = HashMap::new();
    for r in rows {
        let (owner, item) = split(r);
        out.entry(owner).or_default().push(item);
    }
    out
}

impl Iam {
    pub(super) async fn keys(
        &self,
        tx: &mut Tx,
        list: List,
        filter: &DetailsFilter,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, IamError> {
        let sql = match list {
            List::Users => {
                "SELECT name_key FROM iam_users WHERE name_key > $1 ORDER BY name_key LIMIT $2"
                    .to_owned()
            }
            List::Groups => {
                "SELECT name_key FROM iam_groups WHERE name_key > $1 ORDER BY name_key LIMIT $2"
                    .to_owned()
            }
            List::Roles => {
                "SELECT name_key FROM iam_roles WHERE name_key > $1 ORDER BY name_key LIMIT $2"
                    .to_owned()
            }
            List::Policies => format!(
                "SELECT p.arn FROM iam_policies p WHERE p.arn > $1 AND {} ORDER BY p.arn LIMIT $2",
                policy_scope(filter)
            ),
        };
        let rows: Vec<(String,)> = sqlx::query_as(&sql)
            .bind(after)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        Ok(rows.into_iter().map(|(k,)| k).collect())
    }

    /// The inline policies, attached policies and tags of a range of one table's entities.
    pub(super) async fn owned(
        &self,
        tx: &mut Tx,
        kind: EntityKind,
        range: Range<'_>,
    ) -> Result<(Owned<Inline>, Owned<Attached>, Owned<Tag>), IamError> {
        let table = match kind {
            EntityKind::User => "iam_users",
            EntityKind::Group => "iam_groups",
            _ => "iam_roles",
        };
        let k = kind.as_str();
        let inline: Vec<(String, String, String)> = sqlx::query_as(&format!(
            "SELECT i.owner_id, i.name, i.document FROM iam_inline_policies i JOIN {table} o ON o.id = i.owner_id \
             WHERE i.owner_kind = '{k}' AND o.name_key >= $1 AND o.name_key <= $2 ORDER BY i.name_key"
        ))
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let attached: Vec<(String, String, String)> = sqlx::query_as(&format!(
            "SELECT a.owner_id, p.name, p.arn FROM iam_attachments a JOIN {table} o ON o.id = a.owner_id \
             JOIN iam_policies p ON p.id = a.policy_id \
             WHERE a.owner_kind = '{k}' AND o.name_key >= $1 AND o.name_key <= $2 ORDER BY p.name_key, p.arn"
        ))
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let tags: Vec<(String, String, String)> = sqlx::query_as(&format!(
            "SELECT t.entity_id, t.tag_key, t.tag_value FROM iam_tags t JOIN {table} o ON o.id = t.entity_id \
             WHERE t.entity_kind = '{k}' AND o.name_key >= $1 AND o.name_key <= $2 ORDER BY t.key_lower"
        ))
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok((
            group_by(inline, |(o, name, document)| (o, Inline { name, document })),
            group_by(attached, |(o, name, arn)| (o, Attached { name, arn })),
            group_by(tags, |(o, key, value)| (o, Tag { key, value })),
        ))
    }

    pub(super) async fn users_in(
        &self,
        tx: &mut Tx,
        range: Range<'_>,
    ) -> Result<Vec<UserDetail>, IamError> {
        let rows: Vec<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM iam_users \
             WHERE name_key >= $1 AND name_key <= $2 ORDER BY name_key"
        ))
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let (mut inline, mut attached, mut tags) = self.owned(tx, EntityKind::User, range).await?;
        let groups: Vec<(String, String)> = sqlx::query_as(
            "SELECT m.user_id, g.name FROM iam_group_members m JOIN iam_users o ON o.id = m.user_id \
             JOIN iam_groups g ON g.id = m.group_id \
             WHERE o.name_key >= $1 AND o.name_key <= $2 ORDER BY g.name_key",
        )
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let mut groups = group_by(groups, |(u, g)| (u, g));
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut user = self.user_of(row);
                let id = user.id.clone();
                user.tags = tags.remove(&id).unwrap_or_default();
                UserDetail {
                    inline: inline.remove(&id).unwrap_or_default(),
                    attached: attached.remove(&id).unwrap_or_default(),
                    groups: groups.remove(&id).unwrap_or_default(),
                    user,
                }
            })
            .collect())
    }

    pub(super) async fn groups_in(
        &self,
        tx: &mut Tx,
        range: Range<'_>,
    ) -> Result<Vec<GroupDetail>, IamError> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT id, name, path, created_at FROM iam_groups \
             WHERE name_key >= $1 AND name_key <= $2 ORDER BY name_key",
        )
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let (mut inline, mut attached, _) = self.owned(tx, EntityKind::Group, range).await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, path, created)| {
                let path = IamPath::stored(path);
                GroupDetail {
                    inline: inline.remove(&id).unwrap_or_default(),
                    attached: attached.remove(&id).unwrap_or_default(),
                    group: Group {
                        arn: self.arn(EntityKind::Group, &path, &name),
                        id,
                        name: Name::stored(name),
                        path,
                        created,
                    },
                }
            })
            .collect())
    }

    pub(super) async fn roles_in(
        &self,
        tx: &mut Tx,
        range: Range<'_>,
    ) -> Result<Vec<RoleDetail>, IamError> {
        let rows: Vec<RoleRow> = sqlx::query_as(&format!(
            "SELECT {ROLE_COLUMNS} FROM iam_roles WHERE name_key >= $1 AND name_key <= $2 ORDER BY name_key"
        ))
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let (mut inline, mut attached, mut tags) = self.owned(tx, EntityKind::Role, range).await?;
        let profiles: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT x.role_id, ip.id, ip.name, ip.path, ip.created_at FROM iam_instance_profile_roles x \
             JOIN iam_roles o ON o.id = x.role_id JOIN iam_instance_profiles ip ON ip.id = x.profile_id \
             WHERE o.name_key >= $1 AND o.name_key <= $2 ORDER BY ip.name_key",
        )
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let mut profiles = group_by(profiles, |(role, id, name, path, created)| {
            let path = IamPath::stored(path);
            (
                role,
                InstanceProfile {
                    arn: self.arn(EntityKind::InstanceProfile, &path, &name),
                    id,
                    name: Name::stored(name),
                    path,
                    created,
                    roles: Vec::new(),
                    tags: Vec::new(),
                },
            )
        });
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut role = self.role_of(row);
                let id = role.id.clone();
                role.tags = tags.remove(&id).unwrap_or_default();
                RoleDetail {
                    role,
                    inline: inline.remove(&id).unwrap_or_default(),
                    attached: attached.remove(&id).unwrap_or_default(),
                    instance_profiles: profiles.remove(&id).unwrap_or_default(),
                }
            })
            .collect())
    }

    pub(super) async fn policies_in(
        &self,
        tx: &mut Tx,
        range: Range<'_>,
        scope: &str,
    ) -> Result<Vec<PolicyDetail>, IamError> {
        let rows = sqlx::query_as(&format!(
            "SELECT {POLICY_COLUMNS} FROM iam_policies p WHERE p.arn >= $1 AND p.arn <= $2 AND {scope} ORDER BY p.arn"
        ))
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let versions: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT v.policy_id, v.version_id, v.document, v.created_at FROM iam_policy_versions v \
             JOIN iam_policies p ON p.id = v.policy_id WHERE p.arn >= $1 AND p.arn <= $2 \
             ORDER BY v.created_at DESC, length(v.version_id) DESC, v.version_id DESC",
        )
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let attachments: Vec<(String, i64)> = sqlx::query_as(
            "SELECT a.policy_id, COUNT(*) FROM iam_attachments a JOIN iam_policies p ON p.id = a.policy_id \
             WHERE p.arn >= $1 AND p.arn <= $2 GROUP BY a.policy_id",
        )
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let boundaries: Vec<(String, i64)> = sqlx::query_as(
            "SELECT b.arn, COUNT(*) FROM (SELECT boundary_arn AS arn FROM iam_users WHERE boundary_arn IS NOT NULL \
             UNION ALL SELECT boundary_arn AS arn FROM iam_roles WHERE boundary_arn IS NOT NULL) b \
             WHERE b.arn >= $1 AND b.arn <= $2 GROUP BY b.arn",
        )
        .bind(range.lo)
        .bind(range.hi)
        .fetch_all(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        let mut versions = group_by(versions, |(p, id, document, created)| {
            (
                p,
                VersionDetail {
                    id,
                    document,
                    is_default: false,
                    created,
                },
            )
        });
        let attachments: HashMap<String, i64> = attachments.into_iter().collect();
        let boundaries: HashMap<String, i64> = boundaries.into_iter().collect();
        Ok(rows
            .into_iter()
            .map(|row| {
                let policy = policy_of(row);
                let mut versions = versions.remove(&policy.id).unwrap_or_default();
                for v in &mut versions {
                    v.is_default = v.id == policy.default_version;
                }
                PolicyDetail {
                    attachment_count: attachments.get(&policy.id).copied().unwrap_or(0),
                    boundary_usage_count: boundaries.get(&policy.arn).copied().unwrap_or(0),
                    versions,
                    policy,
                }
            })
            .collect())
    }
}
