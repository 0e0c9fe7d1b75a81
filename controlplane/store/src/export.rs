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

mod json;
mod ranges;

use ranges::{policy_scope, Range};

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
}
