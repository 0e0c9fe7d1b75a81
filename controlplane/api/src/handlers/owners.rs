//! What inline policies, attachments and boundaries have in common: the user, group or role a call
//! names, looked up and authorized on before anything is revealed.

use crate::ctx::{Ctx, Keys};
use iamlet_iam_store::{IamError, Name, NameKind, Owner};

/// The kind of entity a call is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Group,
    Role,
}

impl Kind {
    /// The parameter naming it (`UserName`).
    pub(crate) fn param(self) -> &'static str {
        match self {
            Kind::User => "UserName",
            Kind::Group => "GroupName",
            Kind::Role => "RoleName",
        }
    }

    /// The parameter's value, checked.
    pub(crate) fn name(self, c: &Ctx<'_>) -> Result<Name, IamError> {
        let kind = match self {
            Kind::User => NameKind::User,
            Kind::Group => NameKind::Group,
            Kind::Role => NameKind::Role,
        };
        c.req.name(self.param(), kind)
    }

    /// The store's name for the owner.
    pub(crate) fn owner(self, name: &Name) -> Owner<'_> {
        match self {
            Kind::User => Owner::User(name),
            Kind::Group => Owner::Group(name),
            Kind::Role => Owner::Role(name),
        }
    }
}

/// Authorizes the call on the owner. With `boundary`, a user's or role's permissions boundary is
/// added as `iam:PermissionsBoundary`: AWS supplies it to the calls that change an identity's
/// permissions, so a policy can allow them only on identities with a given boundary.
pub(crate) async fn target(
    c: &mut Ctx<'_>,
    kind: Kind,
    name: &Name,
    mut keys: Keys,
    boundary: bool,
) -> Result<(), IamError> {
    let current = match (boundary, kind) {
        (true, Kind::User) => c
            .iam
            .find_user(&mut c.tx, name)
            .await?
            .and_then(|u| u.boundary),
        (true, Kind::Role) => c
            .iam
            .find_role(&mut c.tx, name)
            .await?
            .and_then(|r| r.boundary),
        _ => None,
    };
    if let Some(b) = current {
        keys.push(("iam:PermissionsBoundary".to_owned(), b.into()));
    }
    match kind {
        Kind::User => c.target_user(name, keys).await.map(drop),
        Kind::Group => c.target_group_with(name, keys).await.map(drop),
        Kind::Role => c.target_role(name, keys).await.map(drop),
    }
}
