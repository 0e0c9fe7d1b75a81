//! What the database holds, as the API returns it.

use crate::names::{IamPath, Name, Tag};

/// The kinds of entity policies, tags and attachments belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// An IAM user.
    User,
    /// An IAM group.
    Group,
    /// An IAM role.
    Role,
    /// A customer managed policy.
    Policy,
    /// An instance profile.
    InstanceProfile,
    /// A virtual MFA device.
    MfaDevice,
    /// An OpenID Connect identity provider.
    OidcProvider,
    /// A SAML 2.0 identity provider.
    SamlProvider,
}

impl EntityKind {
    /// The kind's name in the database (and in ARNs, for users, groups and roles).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
            EntityKind::Policy => "policy",
            EntityKind::InstanceProfile => "instance-profile",
            EntityKind::MfaDevice => "mfa",
            EntityKind::OidcProvider => "oidc-provider",
            EntityKind::SamlProvider => "saml-provider",
        }
    }

    /// What AWS calls it in messages (`The user with name bob cannot be found.`).
    pub fn noun(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
            EntityKind::Policy => "policy",
            EntityKind::InstanceProfile => "instance profile",
            EntityKind::MfaDevice => "MFA device",
            EntityKind::OidcProvider => "OpenID Connect provider",
            EntityKind::SamlProvider => "SAML provider",
        }
    }
}

/// An IAM user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// `AIDA…`.
    pub id: String,
    /// Its name.
    pub name: Name,
    /// Its path.
    pub path: IamPath,
    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    pub arn: String,
    /// When it was created (Unix seconds).
    pub created: i64,
    /// Its permissions boundary's ARN.
    pub boundary: Option<String>,
    /// When its console password was last used.
    pub password_last_used: Option<i64>,
    /// Its tags (filled by the calls that return them).
    pub tags: Vec<Tag>,
}

/// An IAM group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// `AGPA…`.
    pub id: String,
    /// Its name.
    pub name: Name,
    /// Its path.
    pub path: IamPath,
    /// `arn:aws:iam::ACCOUNT:group/PATH/NAME`.
    pub arn: String,
    /// When it was created.
    pub created: i64,
}

/// An IAM role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// `AROA…`.
    pub id: String,
    /// Its name.
    pub name: Name,
    /// Its path.
    pub path: IamPath,
    /// `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
    pub arn: String,
    /// When it was created.
    pub created: i64,
    /// The trust policy's text.
    pub trust_policy: String,
    /// Its description.
    pub description: Option<String>,
    /// The longest session it grants, in seconds (3600 to 43200).
    pub max_session_duration: i64,
    /// Its permissions boundary's ARN.
    pub boundary: Option<String>,
    /// Whether an AWS service created it (`/aws-service-role/`): deleted only through the service.
    pub service_linked: bool,
    /// When a session of it last made a request, and in which region.
    pub last_used: Option<(i64, String)>,
    /// Its tags.
    pub tags: Vec<Tag>,
}

/// Seconds since the epoch now.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A time as IAM's XML and JSON write it: `2026-12-06T01:02:03Z`.
pub fn iso8601(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An instance profile and its role (AWS allows one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceProfile {
    /// `AIPA…`.
    pub id: String,
    /// Its name.
    pub name: Name,
    /// Its path.
    pub path: IamPath,
    /// `arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME`.
    pub arn: String,
    /// When it was created.
    pub created: i64,
    /// Its roles.
    pub roles: Vec<Role>,
    /// Its tags.
    pub tags: Vec<Tag>,
}
