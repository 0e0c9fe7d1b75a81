//! `ListEntitiesForPolicy`: the groups, users and roles a managed policy is attached to or bounds,
//! paged across the three lists in that order (a marker names the list and the last name).

use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::names::{constraint, PathPrefix};
use crate::page::Page;
use crate::policies::PolicyUsage;
use crate::Iam;

/// `EntityFilter`: which kind of entity to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntityFilter {
    /// Users.
    User,
    /// Roles.
    Role,
    /// Groups.
    Group,
    /// Customer managed policies (no entity is one: the lists are empty).
    LocalManagedPolicy,
    /// AWS managed policies (likewise).
    AwsManagedPolicy,
}

impl EntityFilter {
    /// Reads `EntityFilter`.
    pub fn parse(param: &str, value: Option<&str>) -> Result<Option<EntityFilter>, IamError> {
        Ok(Some(match value {
            None => return Ok(None),
            Some("User") => EntityFilter::User,
            Some("Role") => EntityFilter::Role,
            Some("Group") => EntityFilter::Group,
            Some("LocalManagedPolicy") => EntityFilter::LocalManagedPolicy,
            Some("AWSManagedPolicy") => EntityFilter::AwsManagedPolicy,
            Some(other) => {
                return Err(constraint(
                    param,
                    other,
                    "Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]",
                ))
            }
        }))
    }
}

/// One entity: its name and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyEntity {
    /// The name.
    pub name: String,
    /// The id (`AGPA…`, `AIDA…`, `AROA…`).
    pub id: String,
}

/// A page of `ListEntitiesForPolicy`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyEntities {
    /// `PolicyGroups`.
    pub groups: Vec<PolicyEntity>,
    /// `PolicyUsers`.
    pub users: Vec<PolicyEntity>,
    /// `PolicyRoles`.
    pub roles: Vec<PolicyEntity>,
    /// Where the next page starts (`IsTruncated`).
    pub marker: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Group,
    User,
    Role,
}

const KINDS: [Kind; 3] = [Kind::Group, Kind::User, Kind::Role];

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Group => "g",
            Kind::User => "u",
            Kind::Role => "r",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Kind::Group => "iam_groups",
            Kind::User => "iam_users",
            Kind::Role => "iam_roles",
        }
    }

    fn owner(self) -> &'static str {
        match self {
            Kind::Group => "group",
            Kind::User => "user",
            Kind::Role => "role",
        }
    }

    fn wanted(self, filter: Option<EntityFilter>) -> bool {
        match filter {
            None => true,
            Some(EntityFilter::Group) => self == Kind::Group,
            Some(EntityFilter::User) => self == Kind::User,
            Some(EntityFilter::Role) => self == Kind::Role,
            Some(EntityFilter::LocalManagedPolicy | EntityFilter::AwsManagedPolicy) => false,
        }
    }
}

impl Iam {
    /// The entities a policy is attached to (`PermissionsPolicy`) or bounds
    /// (`PermissionsBoundary`; groups have no boundary), either when `usage` is `None`, whose path
    /// starts with `prefix`.
    pub async fn list_entities_for_policy(
        &self,
        tx: &mut Tx,
        arn: &str,
        filter: Option<EntityFilter>,
        prefix: &PathPrefix,
        usage: Option<PolicyUsage>,
        page: &Page,
    ) -> Result<PolicyEntities, IamError> {
        let p = self.policy(tx, arn).await?;
        let after = page.after();
        let (start, start_key) = match after.split_once(':') {
            Some((t, k)) => {
                let kind = KINDS.into_iter().find(|k| k.tag() == t).ok_or_else(|| {
                    constraint(
                        "Marker",
                        after,
                        "Member must be a marker a previous call returned",
                    )
                })?;
                (kind, k)
            }
            None => (Kind::Group, ""),
        };
        let mut out = PolicyEntities::default();
        let mut remaining = page.max_items;
        for kind in KINDS.into_iter().skip_while(|k| *k != start) {
            if !kind.wanted(filter) {
                continue;
            }
            // Only the placeholders a statement uses are bound (PostgreSQL refuses others).
            let attached = |n: usize| {
                format!(
                    "EXISTS (SELECT 1 FROM iam_attachments a WHERE a.owner_kind = '{}' AND a.owner_id = e.id AND a.policy_id = ${n})",
                    kind.owner()
                )
            };
            let bounded = |n: usize| format!("e.boundary_arn = ${n}");
            let (used, binds): (String, Vec<&str>) = match (usage, kind) {
                (Some(PolicyUsage::PermissionsBoundary), Kind::Group) => continue,
                (Some(PolicyUsage::PermissionsPolicy), _) | (None, Kind::Group) => {
                    (attached(4), vec![p.id.as_str()])
                }
                (Some(PolicyUsage::PermissionsBoundary), _) => (bounded(4), vec![p.arn.as_str()]),
                (None, _) => (
                    format!("({} OR {})", attached(4), bounded(5)),
                    vec![p.id.as_str(), p.arn.as_str()],
                ),
            };
            let after_key = if kind == start { start_key } else { "" };
            let sql = format!(
                "SELECT e.name_key, e.name, e.id FROM {} e WHERE e.name_key > $1 \
                 AND substr(e.path, 1, length($2)) = $2 AND {used} ORDER BY e.name_key LIMIT $3",
                kind.table()
            );
            let mut query = sqlx::query_as(&sql)
                .bind(after_key)
                .bind(prefix.as_str().unwrap_or("/"))
                .bind(i64::try_from(remaining.saturating_add(1)).unwrap_or(i64::MAX));
            for b in binds {
                query = query.bind(b);
            }
            let rows: Vec<(String, String, String)> =
                query.fetch_all(&mut *tx.inner).await.map_err(db_error)?;
            if remaining == 0 {
                if !rows.is_empty() {
                    out.marker = last_marker(&out);
                }
                break;
            }
            let truncated = rows.len() > remaining;
            let taken: Vec<(String, String, String)> = rows.into_iter().take(remaining).collect();
            remaining -= taken.len();
            let last = taken.last().map(|(k, _, _)| k.clone());
            let list = match kind {
                Kind::Group => &mut out.groups,
                Kind::User => &mut out.users,
                Kind::Role => &mut out.roles,
            };
            list.extend(
                taken
                    .into_iter()
                    .map(|(_, name, id)| PolicyEntity { name, id }),
            );
            if truncated {
                out.marker = last.map(|k| Page::marker_for(&format!("{}:{k}", kind.tag())));
                break;
            }
        }
        Ok(out)
    }
}

/// The marker after the last entity of a full page.
fn last_marker(out: &PolicyEntities) -> Option<String> {
    [
        (Kind::Role, &out.roles),
        (Kind::User, &out.users),
        (Kind::Group, &out.groups),
    ]
    .into_iter()
    .find_map(|(kind, list)| {
        list.last()
            .map(|e| Page::marker_for(&format!("{}:{}", kind.tag(), e.name.to_ascii_lowercase())))
    })
}
