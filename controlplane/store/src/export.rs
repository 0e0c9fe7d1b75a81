//! The account as `GetAccountAuthorizationDetails` returns it: users with their inline and attached
//! policies, groups and tags; groups; roles with their trust policies, instance profiles and last
//! use; managed policies with every version. The IAM API writes it as XML, `iamlet iam export` as the
//! JSON the AWS CLI prints (which Iamlet's file store reads), and the sidecar's database source asks
//! for one principal's part of it ([`Iam::principal_details`]).
//!
//! Entities are read in ranges of their sort keys, each table once per range (joined to the range's
//! owners), so the whole account is a handful of queries however large it is.

use crate::db::{db_error, Tx};
use crate::error::IamError;
use crate::model::{iso8601, EntityKind, Group, InstanceProfile, Role, User};
use crate::names::{IamPath, Name, Tag};
use crate::page::Page;
use crate::policies::{policy_of, ManagedPolicy, POLICY_COLUMNS};
use crate::roles::{RoleRow, ROLE_COLUMNS};
use crate::users::{UserRow, USER_COLUMNS};
use crate::Iam;
use serde_json::{json, Value};
use std::collections::HashMap;

/// An inline policy: its name and document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inline {
    /// The name.
    pub name: String,
    /// The document's JSON text.
    pub document: String,
}

/// An attached managed policy: its name and ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    /// The name.
    pub name: String,
    /// The ARN.
    pub arn: String,
}

/// A user and what is attached to it.
#[derive(Clone, Debug)]
pub struct UserDetail {
    /// The user, with its tags.
    pub user: User,
    /// Its inline policies.
    pub inline: Vec<Inline>,
    /// Its managed policies.
    pub attached: Vec<Attached>,
    /// The names of its groups.
    pub groups: Vec<String>,
}

/// A group and its policies.
#[derive(Clone, Debug)]
pub struct GroupDetail {
    /// The group.
    pub group: Group,
    /// Its inline policies.
    pub inline: Vec<Inline>,
    /// Its managed policies.
    pub attached: Vec<Attached>,
}

/// A role, its policies and instance profiles.
#[derive(Clone, Debug)]
pub struct RoleDetail {
    /// The role, with its tags.
    pub role: Role,
    /// Its inline policies.
    pub inline: Vec<Inline>,
    /// Its managed policies.
    pub attached: Vec<Attached>,
    /// The instance profiles it is in (their `roles` empty: the role is this one).
    pub instance_profiles: Vec<InstanceProfile>,
}

/// One version of a managed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionDetail {
    /// `v1`, `v2`, …
    pub id: String,
    /// The document's JSON text.
    pub document: String,
    /// Whether it is the one in force.
    pub is_default: bool,
    /// When it was created.
    pub created: i64,
}

/// A managed policy, its use and versions.
#[derive(Clone, Debug)]
pub struct PolicyDetail {
    /// The policy.
    pub policy: ManagedPolicy,
    /// How many users, groups and roles it is attached to.
    pub attachment_count: i64,
    /// How many users and roles have it as their permissions boundary.
    pub boundary_usage_count: i64,
    /// Its versions (only the default for [`Iam::principal_details`]).
    pub versions: Vec<VersionDetail>,
}

/// What `GetAccountAuthorizationDetails` returns.
#[derive(Clone, Debug, Default)]
pub struct Details {
    /// Users.
    pub users: Vec<UserDetail>,
    /// Groups.
    pub groups: Vec<GroupDetail>,
    /// Roles.
    pub roles: Vec<RoleDetail>,
    /// Managed policies: the account's, and AWS's that are in use.
    pub policies: Vec<PolicyDetail>,
}

/// `Filter.member.N`: which lists to return (all when none is named).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetailsFilter {
    /// `User`.
    pub users: bool,
    /// `Group`.
    pub groups: bool,
    /// `Role`.
    pub roles: bool,
    /// `LocalManagedPolicy`.
    pub local_policies: bool,
    /// `AWSManagedPolicy`.
    pub aws_policies: bool,
}

impl Default for DetailsFilter {
    fn default() -> Self {
        DetailsFilter {
            users: true,
            groups: true,
            roles: true,
            local_policies: true,
            aws_policies: true,
        }
    }
}

impl DetailsFilter {
    /// Reads the filter's members (`User`, `Role`, `Group`, `LocalManagedPolicy`, `AWSManagedPolicy`).
    pub fn parse(members: &[&str]) -> Result<DetailsFilter, IamError> {
        if members.is_empty() {
            return Ok(DetailsFilter::default());
        }
        let mut f = DetailsFilter {
            users: false,
            groups: false,
            roles: false,
            local_policies: false,
            aws_policies: false,
        };
        for m in members {
            match *m {
                "User" => f.users = true,
                "Group" => f.groups = true,
                "Role" => f.roles = true,
                "LocalManagedPolicy" => f.local_policies = true,
                "AWSManagedPolicy" => f.aws_policies = true,
                other => {
                    return Err(crate::names::constraint(
                        "Filter.member",
                        other,
                        "Member must satisfy enum value set: [User, Role, LocalManagedPolicy, Group, AWSManagedPolicy]",
                    ))
                }
            }
        }
        Ok(f)
    }
}

/// The lists in the order pages walk them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum List {
    Users,
    Groups,
    Roles,
    Policies,
}

const LISTS: [List; 4] = [List::Users, List::Groups, List::Roles, List::Policies];

impl List {
    fn tag(self) -> char {
        match self {
            List::Users => 'u',
            List::Groups => 'g',
            List::Roles => 'r',
            List::Policies => 'p',
        }
    }

    fn wanted(self, f: &DetailsFilter) -> bool {
        match self {
            List::Users => f.users,
            List::Groups => f.groups,
            List::Roles => f.roles,
            List::Policies => f.local_policies || f.aws_policies,
        }
    }
}

/// An inclusive range of sort keys.
#[derive(Clone, Copy, Debug)]
struct Range<'a> {
    lo: &'a str,
    hi: &'a str,
}

/// Which managed policies a range of policies takes.
fn policy_scope(f: &DetailsFilter) -> &'static str {
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

/// A page of authorization details and where the next one starts.
#[derive(Clone, Debug, Default)]
pub struct DetailsPage {
    /// The entities of this page.
    pub details: Details,
    /// The next page's marker (`IsTruncated`).
    pub marker: Option<String>,
}

/// Which principal's details [`Iam::principal_details`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrincipalRef<'a> {
    /// A user, by name.
    User(&'a Name),
    /// A role, by name.
    Role(&'a Name),
    /// A group, by name (the Policy Simulator's `PolicySourceArn` may name one).
    Group(&'a Name),
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
    /// A page of the account's authorization details (`GetAccountAuthorizationDetails`): users,
    /// then groups, then roles, then managed policies, at most `page.max_items` entities in all.
    pub async fn authorization_details(
        &self,
        tx: &mut Tx,
        filter: &DetailsFilter,
        page: &Page,
    ) -> Result<DetailsPage, IamError> {
        let after = page.after();
        let (start, start_key) = match after.split_once(':') {
            Some((t, k)) => {
                let list = LISTS
                    .into_iter()
                    .find(|l| t.len() == 1 && t.starts_with(l.tag()))
                    .ok_or_else(|| {
                        IamError::validation("the marker is not one this call returned")
                    })?;
                (list, k)
            }
            None => (List::Users, ""),
        };
        let mut out = DetailsPage::default();
        let mut remaining = page.max_items;
        let mut last: Option<(List, String)> = None;
        for list in LISTS.into_iter().skip_while(|l| *l != start) {
            if !list.wanted(filter) {
                continue;
            }
            let after_key = if list == start { start_key } else { "" };
            let want = remaining.saturating_add(1);
            let mut keys = self.keys(tx, list, filter, after_key, want).await?;
            if remaining == 0 {
                if !keys.is_empty() {
                    out.marker = last.map(|(l, k)| Page::marker_for(&format!("{}:{k}", l.tag())));
                }
                break;
            }
            let truncated = keys.len() > remaining;
            keys.truncate(remaining);
            let (Some(lo), Some(hi)) = (keys.first(), keys.last()) else {
                continue;
            };
            let range = Range { lo, hi };
            match list {
                List::Users => out.details.users = self.users_in(tx, range).await?,
                List::Groups => out.details.groups = self.groups_in(tx, range).await?,
                List::Roles => out.details.roles = self.roles_in(tx, range).await?,
                List::Policies => {
                    out.details.policies =
                        self.policies_in(tx, range, policy_scope(filter)).await?;
                }
            }
            remaining -= keys.len();
            last = Some((list, hi.clone()));
            if truncated {
                out.marker = Some(Page::marker_for(&format!("{}:{hi}", list.tag())));
                break;
            }
        }
        Ok(out)
    }

    /// The whole account's authorization details, every version of every policy in it.
    pub async fn all_details(&self, tx: &mut Tx) -> Result<Details, IamError> {
        let everything = Range {
            lo: "",
            hi: "\u{10FFFF}",
        };
        Ok(Details {
            users: self.users_in(tx, everything).await?,
            groups: self.groups_in(tx, everything).await?,
            roles: self.roles_in(tx, everything).await?,
            policies: self
                .policies_in(tx, everything, policy_scope(&DetailsFilter::default()))
                .await?,
        })
    }

    /// One user's, role's or group's details: it, a user's groups, and every managed policy attached
    /// to it (or to its groups) or bounding it. `None` when there is no such entity.
    pub async fn principal_details(
        &self,
        tx: &mut Tx,
        which: PrincipalRef<'_>,
    ) -> Result<Option<Details>, IamError> {
        let mut d = Details::default();
        let mut arns: Vec<String> = Vec::new();
        match which {
            PrincipalRef::User(name) => {
                let key = name.key();
                d.users = self.users_in(tx, Range { lo: &key, hi: &key }).await?;
                let Some(u) = d.users.first() else {
                    return Ok(None);
                };
                arns.extend(u.attached.iter().map(|a| a.arn.clone()));
                arns.extend(u.user.boundary.clone());
                let groups: Vec<String> = u.groups.iter().map(|g| g.to_ascii_lowercase()).collect();
                for g in groups {
                    let mut found = self.groups_in(tx, Range { lo: &g, hi: &g }).await?;
                    for gd in &found {
                        arns.extend(gd.attached.iter().map(|a| a.arn.clone()));
                    }
                    d.groups.append(&mut found);
                }
            }
            PrincipalRef::Role(name) => {
                let key = name.key();
                d.roles = self.roles_in(tx, Range { lo: &key, hi: &key }).await?;
                let Some(r) = d.roles.first() else {
                    return Ok(None);
                };
                arns.extend(r.attached.iter().map(|a| a.arn.clone()));
                arns.extend(r.role.boundary.clone());
            }
            PrincipalRef::Group(name) => {
                let key = name.key();
                d.groups = self.groups_in(tx, Range { lo: &key, hi: &key }).await?;
                let Some(g) = d.groups.first() else {
                    return Ok(None);
                };
                arns.extend(g.attached.iter().map(|a| a.arn.clone()));
            }
        }
        arns.sort();
        arns.dedup();
        for arn in &arns {
            let mut found = self
                .policies_in(tx, Range { lo: arn, hi: arn }, "1 = 1")
                .await?;
            d.policies.append(&mut found);
        }
        Ok(Some(d))
    }

    async fn keys(
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
    async fn owned(
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

    async fn users_in(&self, tx: &mut Tx, range: Range<'_>) -> Result<Vec<UserDetail>, IamError> {
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

    async fn groups_in(&self, tx: &mut Tx, range: Range<'_>) -> Result<Vec<GroupDetail>, IamError> {
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

    async fn roles_in(&self, tx: &mut Tx, range: Range<'_>) -> Result<Vec<RoleDetail>, IamError> {
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

    async fn policies_in(
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

/// A policy document as JSON: the object it is (what the AWS CLI prints), or its text if it is
/// somehow not JSON.
fn document_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn tags_json(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| json!({"Key": t.key, "Value": t.value}))
            .collect(),
    )
}

fn inline_json(list: &[Inline]) -> Value {
    Value::Array(
        list.iter()
            .map(|p| json!({"PolicyName": p.name, "PolicyDocument": document_value(&p.document)}))
            .collect(),
    )
}

fn attached_json(list: &[Attached]) -> Value {
    Value::Array(
        list.iter()
            .map(|p| json!({"PolicyName": p.name, "PolicyArn": p.arn}))
            .collect(),
    )
}

fn boundary_json(arn: Option<&String>) -> Option<Value> {
    arn.map(|a| json!({"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": a}))
}

impl Details {
    /// The JSON `aws iam get-account-authorization-details` prints: what Iamlet's file store
    /// reads, so an export loads back to the same decisions.
    pub fn to_json(&self) -> Value {
        let users: Vec<Value> = self
            .users
            .iter()
            .map(|u| {
                let mut v = json!({
                    "Path": u.user.path.as_str(),
                    "UserName": u.user.name.as_str(),
                    "UserId": u.user.id,
                    "Arn": u.user.arn,
                    "CreateDate": iso8601(u.user.created),
                    "UserPolicyList": inline_json(&u.inline),
                    "GroupList": u.groups,
                    "AttachedManagedPolicies": attached_json(&u.attached),
                    "Tags": tags_json(&u.user.tags),
                });
                if let Some(b) = boundary_json(u.user.boundary.as_ref()) {
                    v["PermissionsBoundary"] = b;
                }
                v
            })
            .collect();
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| {
                json!({
                    "Path": g.group.path.as_str(),
                    "GroupName": g.group.name.as_str(),
                    "GroupId": g.group.id,
                    "Arn": g.group.arn,
                    "CreateDate": iso8601(g.group.created),
                    "GroupPolicyList": inline_json(&g.inline),
                    "AttachedManagedPolicies": attached_json(&g.attached),
                })
            })
            .collect();
        let roles: Vec<Value> = self
            .roles
            .iter()
            .map(|r| {
                let role = &r.role;
                let profiles: Vec<Value> = r
                    .instance_profiles
                    .iter()
                    .map(|p| {
                        json!({
                            "Path": p.path.as_str(),
                            "InstanceProfileName": p.name.as_str(),
                            "InstanceProfileId": p.id,
                            "Arn": p.arn,
                            "CreateDate": iso8601(p.created),
                            "Roles": [],
                        })
                    })
                    .collect();
                let mut last_used = json!({});
                if let Some((at, region)) = &role.last_used {
                    last_used = json!({"LastUsedDate": iso8601(*at), "Region": region});
                }
                let mut v = json!({
                    "Path": role.path.as_str(),
                    "RoleName": role.name.as_str(),
                    "RoleId": role.id,
                    "Arn": role.arn,
                    "CreateDate": iso8601(role.created),
                    "AssumeRolePolicyDocument": document_value(&role.trust_policy),
                    "InstanceProfileList": profiles,
                    "RolePolicyList": inline_json(&r.inline),
                    "AttachedManagedPolicies": attached_json(&r.attached),
                    "Tags": tags_json(&role.tags),
                    "RoleLastUsed": last_used,
                });
                if let Some(b) = boundary_json(role.boundary.as_ref()) {
                    v["PermissionsBoundary"] = b;
                }
                v
            })
            .collect();
        let policies: Vec<Value> = self
            .policies
            .iter()
            .map(|p| {
                let versions: Vec<Value> = p
                    .versions
                    .iter()
                    .map(|v| {
                        json!({
                            "Document": document_value(&v.document),
                            "VersionId": v.id,
                            "IsDefaultVersion": v.is_default,
                            "CreateDate": iso8601(v.created),
                        })
                    })
                    .collect();
                let mut v = json!({
                    "PolicyName": p.policy.name.as_str(),
                    "PolicyId": p.policy.id,
                    "Arn": p.policy.arn,
                    "Path": p.policy.path.as_str(),
                    "DefaultVersionId": p.policy.default_version,
                    "AttachmentCount": p.attachment_count,
                    "PermissionsBoundaryUsageCount": p.boundary_usage_count,
                    "IsAttachable": true,
                    "CreateDate": iso8601(p.policy.created),
                    "UpdateDate": iso8601(p.policy.updated),
                    "PolicyVersionList": versions,
                });
                if let Some(d) = &p.policy.description {
                    v["Description"] = Value::String(d.clone());
                }
                v
            })
            .collect();
        json!({
            "UserDetailList": users,
            "GroupDetailList": groups,
            "RoleDetailList": roles,
            "Policies": policies,
        })
    }

    /// The details as Iamlet's account reader types them (for compiling one principal).
    pub fn to_account_details(&self) -> iamlet_account::export::AccountDetails {
        use iamlet_account::export as x;
        let inline = |list: &[Inline]| -> Vec<x::InlinePolicy> {
            list.iter()
                .map(|p| x::InlinePolicy {
                    policy_name: p.name.clone(),
                    policy_document: x::Document(p.document.clone()),
                })
                .collect()
        };
        let attached = |list: &[Attached]| -> Vec<x::AttachedPolicy> {
            list.iter()
                .map(|p| x::AttachedPolicy {
                    policy_name: Some(p.name.clone()),
                    policy_arn: p.arn.clone(),
                })
                .collect()
        };
        let boundary = |arn: &Option<String>| {
            arn.as_ref().map(|a| x::PermissionsBoundary {
                permissions_boundary_type: Some("PermissionsBoundaryPolicy".to_owned()),
                permissions_boundary_arn: a.clone(),
            })
        };
        let tags = |list: &[Tag]| -> Vec<x::Tag> {
            list.iter()
                .map(|t| x::Tag {
                    key: t.key.clone(),
                    value: t.value.clone(),
                })
                .collect()
        };
        x::AccountDetails {
            user_detail_list: self
                .users
                .iter()
                .map(|u| x::UserDetail {
                    user_name: u.user.name.as_str().to_owned(),
                    arn: u.user.arn.clone(),
                    user_id: Some(u.user.id.clone()),
                    path: Some(u.user.path.as_str().to_owned()),
                    create_date: Some(iso8601(u.user.created)),
                    user_policy_list: inline(&u.inline),
                    group_list: u.groups.clone(),
                    attached_managed_policies: attached(&u.attached),
                    permissions_boundary: boundary(&u.user.boundary),
                    tags: tags(&u.user.tags),
                })
                .collect(),
            group_detail_list: self
                .groups
                .iter()
                .map(|g| x::GroupDetail {
                    group_name: g.group.name.as_str().to_owned(),
                    arn: g.group.arn.clone(),
                    group_policy_list: inline(&g.inline),
                    attached_managed_policies: attached(&g.attached),
                })
                .collect(),
            role_detail_list: self
                .roles
                .iter()
                .map(|r| x::RoleDetail {
                    role_name: r.role.name.as_str().to_owned(),
                    arn: r.role.arn.clone(),
                    role_id: Some(r.role.id.clone()),
                    path: Some(r.role.path.as_str().to_owned()),
                    assume_role_policy_document: Some(x::Document(r.role.trust_policy.clone())),
                    role_policy_list: inline(&r.inline),
                    attached_managed_policies: attached(&r.attached),
                    permissions_boundary: boundary(&r.role.boundary),
                    tags: tags(&r.role.tags),
                })
                .collect(),
            policies: self
                .policies
                .iter()
                .map(|p| x::ManagedPolicyDetail {
                    policy_name: p.policy.name.as_str().to_owned(),
                    arn: p.policy.arn.clone(),
                    default_version_id: Some(p.policy.default_version.clone()),
                    policy_version_list: p
                        .versions
                        .iter()
                        .map(|v| x::PolicyVersion {
                            version_id: v.id.clone(),
                            is_default_version: v.is_default,
                            document: Some(x::Document(v.document.clone())),
                        })
                        .collect(),
                })
                .collect(),
            // One principal's part of the account has no providers; STS asks for them by ARN.
            oidc_providers: Vec::new(),
        }
    }
}
