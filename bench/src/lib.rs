//! One authorization scenario written twice, as AWS IAM policies and as Cedar policies, so that the
//! two engines can be timed on the same decisions (`benches/cedar.rs`) and checked to agree on every
//! one of them (`tests/agree.rs`).
//!
//! The scenario is a document store on S3 with three kinds of access:
//!
//! - **RBAC**: groups `viewer`, `editor` and `admin` grant sets of actions on buckets and prefixes
//!   (IAM: one policy attached per group; Cedar: `principal in Role::"…"`).
//! - **ABAC**: in the `team-docs` bucket a user may read and write the objects tagged with their own
//!   team, read those tagged with their department, and delete their own (IAM:
//!   `s3:ExistingObjectTag/team` equal to `${aws:PrincipalTag/team}`; Cedar:
//!   `resource.team == principal.team`).
//! - **Guardrails**: explicit denies of deletes without MFA, of writes under `legal-hold/`, of any
//!   request over plain HTTP, and of bucket deletion and bucket-policy changes.
//!
//! Each IAM statement has a Cedar policy whose `@id` is the statement's `Sid`, so the tests can
//! compare not only the decisions but which statements (policies) decided them.
//!
//! This module holds only data and the IAM side; the Cedar side lives with the benchmark and the test
//! (`tests/common/cedar.rs`) because `cedar-policy` is a dev-dependency of this crate only.

use iamlet_engine::{ContextMap, Decision, Policy, PolicyErrors, PolicySet, PolicyType, Request};

/// The account every principal and resource belongs to.
pub const ACCOUNT: &str = "111122223333";

/// Group `viewer`: list buckets, read the published documents and the public bucket.
pub const VIEWER: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ViewerListAllBuckets", "Effect": "Allow",
     "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"], "Resource": "*"},
    {"Sid": "ViewerReadPublished", "Effect": "Allow",
     "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
     "Resource": "arn:aws:s3:::docs-shared/published/*"},
    {"Sid": "ViewerListShared", "Effect": "Allow",
     "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::docs-shared"},
    {"Sid": "ViewerReadPublic", "Effect": "Allow",
     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::docs-public/*"}
  ]
}"#;

/// Group `editor`: read and write drafts, publish (editorial department only), multipart uploads.
pub const EDITOR: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "EditorReadDrafts", "Effect": "Allow",
     "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
     "Resource": "arn:aws:s3:::docs-shared/drafts/*"},
    {"Sid": "EditorWriteDrafts", "Effect": "Allow",
     "Action": ["s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"],
     "Resource": "arn:aws:s3:::docs-shared/drafts/*"},
    {"Sid": "EditorPublish", "Effect": "Allow",
     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::docs-shared/published/*",
     "Condition": {"StringEquals": {"aws:PrincipalTag/department": "editorial"}}},
    {"Sid": "EditorMultipart", "Effect": "Allow",
     "Action": ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
     "Resource": "arn:aws:s3:::docs-shared/drafts/*"},
    {"Sid": "EditorListUploads", "Effect": "Allow",
     "Action": "s3:ListBucketMultipartUploads", "Resource": "arn:aws:s3:::docs-shared"}
  ]
}"#;

/// Group `admin`: everything on the document buckets, and reading IAM users.
pub const ADMIN: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AdminAllDocs", "Effect": "Allow", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::docs-shared", "arn:aws:s3:::docs-shared/*",
                  "arn:aws:s3:::docs-public", "arn:aws:s3:::docs-public/*"]},
    {"Sid": "AdminReadUsers", "Effect": "Allow",
     "Action": ["iam:ListUsers", "iam:GetUser"], "Resource": "arn:aws:iam::111122223333:user/*"}
  ]
}"#;

/// Every user: the team space, by object tags (ABAC).
pub const TEAM_SPACE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "TeamReadWrite", "Effect": "Allow",
     "Action": ["s3:GetObject", "s3:PutObject", "s3:GetObjectTagging"],
     "Resource": "arn:aws:s3:::team-docs/*",
     "Condition": {"StringEquals": {"s3:ExistingObjectTag/team": "${aws:PrincipalTag/team}"}}},
    {"Sid": "TeamDepartmentRead", "Effect": "Allow",
     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::team-docs/*",
     "Condition": {"StringEquals": {"s3:ExistingObjectTag/department": "${aws:PrincipalTag/department}"}}},
    {"Sid": "TeamOwnerDelete", "Effect": "Allow",
     "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::team-docs/*",
     "Condition": {"StringEquals": {
       "s3:ExistingObjectTag/team": "${aws:PrincipalTag/team}",
       "s3:ExistingObjectTag/owner": "${aws:username}"}}},
    {"Sid": "TeamList", "Effect": "Allow",
     "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::team-docs"}
  ]
}"#;

/// Every user: the organisation's explicit denies.
pub const GUARDRAILS: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "DenyDeleteWithoutMfa", "Effect": "Deny",
     "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion"], "Resource": "*",
     "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
    {"Sid": "ProtectLegalHold", "Effect": "Deny",
     "Action": ["s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject", "s3:DeleteObjectVersion"],
     "Resource": "arn:aws:s3:::docs-shared/legal-hold/*"},
    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Action": "*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Sid": "DenyBucketDestruction", "Effect": "Deny",
     "Action": ["s3:DeleteBucket", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"], "Resource": "*"}
  ]
}"#;

/// Every user: managing their own IAM user, writes only with MFA.
pub const SELF_SERVICE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "SelfRead", "Effect": "Allow",
     "Action": ["iam:GetUser", "iam:ListAccessKeys", "iam:ListMFADevices"],
     "Resource": "arn:aws:iam::111122223333:user/${aws:username}"},
    {"Sid": "SelfWriteWithMfa", "Effect": "Allow",
     "Action": ["iam:ChangePassword", "iam:CreateAccessKey", "iam:DeleteAccessKey"],
     "Resource": "arn:aws:iam::111122223333:user/${aws:username}",
     "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
  ]
}"#;

/// The same policies in Cedar. Each policy's `@id` is the `Sid` of the IAM statement it translates.
/// Actions are entity ids named as IAM names them; `s3:*` and `*` become an unconstrained `action`.
pub const CEDAR_POLICIES: &str = r#"
@id("ViewerListAllBuckets")
permit(principal in Role::"viewer",
       action in [Action::"s3:ListAllMyBuckets", Action::"s3:GetBucketLocation"], resource);
@id("ViewerReadPublished")
permit(principal in Role::"viewer",
       action in [Action::"s3:GetObject", Action::"s3:GetObjectVersion", Action::"s3:GetObjectTagging"],
       resource is Object in Bucket::"docs-shared")
when { resource.key like "published/*" };
@id("ViewerListShared")
permit(principal in Role::"viewer", action == Action::"s3:ListBucket", resource == Bucket::"docs-shared");
@id("ViewerReadPublic")
permit(principal in Role::"viewer", action == Action::"s3:GetObject",
       resource is Object in Bucket::"docs-public");

@id("EditorReadDrafts")
permit(principal in Role::"editor",
       action in [Action::"s3:GetObject", Action::"s3:GetObjectVersion", Action::"s3:GetObjectTagging"],
       resource is Object in Bucket::"docs-shared")
when { resource.key like "drafts/*" };
@id("EditorWriteDrafts")
permit(principal in Role::"editor",
       action in [Action::"s3:PutObject", Action::"s3:PutObjectTagging", Action::"s3:DeleteObject"],
       resource is Object in Bucket::"docs-shared")
when { resource.key like "drafts/*" };
@id("EditorPublish")
permit(principal in Role::"editor", action == Action::"s3:PutObject",
       resource is Object in Bucket::"docs-shared")
when { resource.key like "published/*" && principal has department && principal.department == "editorial" };
@id("EditorMultipart")
permit(principal in Role::"editor",
       action in [Action::"s3:AbortMultipartUpload", Action::"s3:ListMultipartUploadParts"],
       resource is Object in Bucket::"docs-shared")
when { resource.key like "drafts/*" };
@id("EditorListUploads")
permit(principal in Role::"editor", action == Action::"s3:ListBucketMultipartUploads",
       resource == Bucket::"docs-shared");

@id("AdminAllDocs")
permit(principal in Role::"admin", action, resource)
when { resource in [Bucket::"docs-shared", Bucket::"docs-public"] };
@id("AdminReadUsers")
permit(principal in Role::"admin", action in [Action::"iam:ListUsers", Action::"iam:GetUser"],
       resource is User);

@id("TeamReadWrite")
permit(principal is User,
       action in [Action::"s3:GetObject", Action::"s3:PutObject", Action::"s3:GetObjectTagging"],
       resource is Object in Bucket::"team-docs")
when { resource has team && principal has team && resource.team == principal.team };
@id("TeamDepartmentRead")
permit(principal is User, action == Action::"s3:GetObject", resource is Object in Bucket::"team-docs")
when { resource has department && principal has department && resource.department == principal.department };
@id("TeamOwnerDelete")
permit(principal is User, action == Action::"s3:DeleteObject", resource is Object in Bucket::"team-docs")
when { resource has team && principal has team && resource.team == principal.team
       && resource has owner && resource.owner == principal };
@id("TeamList")
permit(principal is User, action == Action::"s3:ListBucket", resource == Bucket::"team-docs");

@id("DenyDeleteWithoutMfa")
forbid(principal, action in [Action::"s3:DeleteObject", Action::"s3:DeleteObjectVersion"], resource)
unless { context has mfa && context.mfa };
@id("ProtectLegalHold")
forbid(principal,
       action in [Action::"s3:PutObject", Action::"s3:PutObjectTagging",
                  Action::"s3:DeleteObject", Action::"s3:DeleteObjectVersion"],
       resource is Object in Bucket::"docs-shared")
when { resource.key like "legal-hold/*" };
@id("DenyInsecureTransport")
forbid(principal, action, resource)
when { context has secureTransport && !context.secureTransport };
@id("DenyBucketDestruction")
forbid(principal,
       action in [Action::"s3:DeleteBucket", Action::"s3:PutBucketPolicy", Action::"s3:DeleteBucketPolicy"],
       resource);

@id("SelfRead")
permit(principal is User,
       action in [Action::"iam:GetUser", Action::"iam:ListAccessKeys", Action::"iam:ListMFADevices"],
       resource is User)
when { resource == principal };
@id("SelfWriteWithMfa")
permit(principal is User,
       action in [Action::"iam:ChangePassword", Action::"iam:CreateAccessKey", Action::"iam:DeleteAccessKey"],
       resource is User)
when { resource == principal && context has mfa && context.mfa };
"#;

/// A group: its IAM policy, and the Cedar role of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// [`VIEWER`].
    Viewer,
    /// [`EDITOR`].
    Editor,
    /// [`ADMIN`].
    Admin,
}

impl Group {
    /// The Cedar role's id.
    pub fn name(self) -> &'static str {
        match self {
            Group::Viewer => "viewer",
            Group::Editor => "editor",
            Group::Admin => "admin",
        }
    }
    fn policy(self) -> &'static str {
        match self {
            Group::Viewer => VIEWER,
            Group::Editor => EDITOR,
            Group::Admin => ADMIN,
        }
    }
}

/// An IAM user (Cedar: a `User` in its roles, with `team` and `department` attributes; IAM: principal
/// tags).
#[derive(Clone, Copy, Debug)]
pub struct User {
    /// The user name.
    pub name: &'static str,
    /// The groups, each attaching its policy.
    pub groups: &'static [Group],
    /// The `team` tag.
    pub team: &'static str,
    /// The `department` tag.
    pub department: &'static str,
}

/// An editor (and viewer): the typical principal, 19 statements.
pub const ALICE: User = User {
    name: "alice",
    groups: &[Group::Viewer, Group::Editor],
    team: "payments",
    department: "finance",
};
/// A viewer: 14 statements.
pub const BOB: User = User {
    name: "bob",
    groups: &[Group::Viewer],
    team: "search",
    department: "engineering",
};
/// An administrator: 12 statements.
pub const DANA: User = User {
    name: "dana",
    groups: &[Group::Admin],
    team: "platform",
    department: "finance",
};
/// Every user.
pub const USERS: [User; 3] = [ALICE, BOB, DANA];

/// An S3 object with its tags (IAM: `s3:ExistingObjectTag/…` in the context; Cedar: attributes of an
/// `Object` entity in its `Bucket`).
#[derive(Clone, Copy, Debug)]
pub struct Object {
    /// The bucket.
    pub bucket: &'static str,
    /// The key.
    pub key: &'static str,
    /// The `team` tag.
    pub team: Option<&'static str>,
    /// The `department` tag.
    pub department: Option<&'static str>,
    /// The `owner` tag (a user name).
    pub owner: Option<&'static str>,
}

const fn object(bucket: &'static str, key: &'static str) -> Object {
    Object {
        bucket,
        key,
        team: None,
        department: None,
        owner: None,
    }
}

/// A draft in the shared documents.
pub const DRAFT: Object = object("docs-shared", "drafts/q3-plan.md");
/// A published document.
pub const HANDBOOK: Object = object("docs-shared", "published/handbook.pdf");
/// A document under legal hold.
pub const CONTRACT: Object = object("docs-shared", "legal-hold/contract.pdf");
/// A public asset.
pub const LOGO: Object = object("docs-public", "logo.png");
/// A team document of the payments team, finance department.
pub const RUNBOOK: Object = Object {
    team: Some("payments"),
    department: Some("finance"),
    ..object("team-docs", "payments/runbook.md")
};
/// A payments-team note owned by alice.
pub const ALICE_NOTES: Object = Object {
    team: Some("payments"),
    department: Some("finance"),
    owner: Some("alice"),
    ..object("team-docs", "payments/alice-notes.md")
};
/// Every object.
pub const OBJECTS: [Object; 6] = [DRAFT, HANDBOOK, CONTRACT, LOGO, RUNBOOK, ALICE_NOTES];

/// What a request is on.
#[derive(Clone, Copy, Debug)]
pub enum Resource {
    /// An object.
    Object(Object),
    /// A bucket.
    Bucket(&'static str),
    /// An IAM user.
    User(&'static str),
}

/// One request of the scenario, with the decision the policies mean it to get.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// A short name, used as the benchmark's id.
    pub name: &'static str,
    /// Whether the benchmark times it (the test checks every case).
    pub timed: bool,
    /// Who asks.
    pub user: User,
    /// The IAM action name (also the Cedar action's id).
    pub action: &'static str,
    /// On what.
    pub resource: Resource,
    /// `aws:MultiFactorAuthPresent` (Cedar: `context.mfa`).
    pub mfa: bool,
    /// `aws:SecureTransport` (Cedar: `context.secureTransport`).
    pub secure_transport: bool,
    /// The expected decision.
    pub expected: Decision,
}

const fn case(
    name: &'static str,
    timed: bool,
    user: User,
    action: &'static str,
    resource: Resource,
    expected: Decision,
) -> Case {
    Case {
        name,
        timed,
        user,
        action,
        resource,
        mfa: true,
        secure_transport: true,
        expected,
    }
}

/// Every request: an allow by role, an allow by tags, explicit denies by two guardrails, and implicit
/// denies by role and by tags, then more cases that only the agreement test checks.
pub const CASES: [Case; 14] = [
    case(
        "rbac-allow",
        true,
        ALICE,
        "s3:PutObject",
        Resource::Object(DRAFT),
        Decision::Allow,
    ),
    case(
        "abac-allow",
        true,
        ALICE,
        "s3:GetObject",
        Resource::Object(RUNBOOK),
        Decision::Allow,
    ),
    Case {
        mfa: false,
        ..case(
            "explicit-deny-no-mfa",
            true,
            ALICE,
            "s3:DeleteObject",
            Resource::Object(DRAFT),
            Decision::ExplicitDeny,
        )
    },
    case(
        "explicit-deny-legal-hold",
        true,
        DANA,
        "s3:PutObject",
        Resource::Object(CONTRACT),
        Decision::ExplicitDeny,
    ),
    case(
        "implicit-deny-abac",
        true,
        BOB,
        "s3:GetObject",
        Resource::Object(RUNBOOK),
        Decision::ImplicitDeny,
    ),
    case(
        "implicit-deny-rbac",
        true,
        BOB,
        "s3:PutObject",
        Resource::Object(DRAFT),
        Decision::ImplicitDeny,
    ),
    case(
        "abac-department-allow",
        false,
        DANA,
        "s3:GetObject",
        Resource::Object(RUNBOOK),
        Decision::Allow,
    ),
    case(
        "abac-owner-delete",
        false,
        ALICE,
        "s3:DeleteObject",
        Resource::Object(ALICE_NOTES),
        Decision::Allow,
    ),
    case(
        "viewer-read-published",
        false,
        BOB,
        "s3:GetObject",
        Resource::Object(HANDBOOK),
        Decision::Allow,
    ),
    case(
        "publish-wrong-department",
        false,
        ALICE,
        "s3:PutObject",
        Resource::Object(HANDBOOK),
        Decision::ImplicitDeny,
    ),
    Case {
        secure_transport: false,
        ..case(
            "explicit-deny-insecure-transport",
            false,
            ALICE,
            "s3:GetObject",
            Resource::Object(LOGO),
            Decision::ExplicitDeny,
        )
    },
    case(
        "explicit-deny-bucket-destruction",
        false,
        DANA,
        "s3:DeleteBucket",
        Resource::Bucket("docs-shared"),
        Decision::ExplicitDeny,
    ),
    case(
        "self-service-allow",
        false,
        ALICE,
        "iam:ChangePassword",
        Resource::User("alice"),
        Decision::Allow,
    ),
    case(
        "self-service-other-user",
        false,
        BOB,
        "iam:ChangePassword",
        Resource::User("alice"),
        Decision::ImplicitDeny,
    ),
];

/// The IAM policy set of a user: the policies of their groups, then the team space, the guardrails
/// and self-service that every user has.
pub fn iam_policy_set(user: &User) -> Result<PolicySet, PolicyErrors> {
    let mut set = PolicySet::new();
    for group in user.groups {
        set.add(Policy::parse(group.policy(), PolicyType::Identity)?.with_name(group.name()));
    }
    for (name, text) in [
        ("team-space", TEAM_SPACE),
        ("guardrails", GUARDRAILS),
        ("self-service", SELF_SERVICE),
    ] {
        set.add(Policy::parse(text, PolicyType::Identity)?.with_name(name));
    }
    Ok(set)
}

/// The principal and resource ARNs of a case's IAM request: what a caller has in hand before it asks.
#[derive(Clone, Debug)]
pub struct IamArns {
    /// The principal's ARN.
    pub principal: String,
    /// The resource's ARN.
    pub resource: String,
}

impl IamArns {
    /// The ARNs of a case.
    pub fn of(case: &Case) -> Self {
        IamArns {
            principal: format!("arn:aws:iam::{ACCOUNT}:user/{}", case.user.name),
            resource: match case.resource {
                Resource::Object(o) => format!("arn:aws:s3:::{}/{}", o.bucket, o.key),
                Resource::Bucket(b) => format!("arn:aws:s3:::{b}"),
                Resource::User(u) => format!("arn:aws:iam::{ACCOUNT}:user/{u}"),
            },
        }
    }
}

/// The IAM request of a case: the ARNs parsed, and a context with the principal's tags, the object's
/// tags, MFA and transport.
pub fn iam_request(case: &Case, arns: &IamArns) -> Result<Request, iamlet_engine::RequestError> {
    let mut context = ContextMap::new();
    context.insert("aws:PrincipalTag/team", case.user.team);
    context.insert("aws:PrincipalTag/department", case.user.department);
    context.insert("aws:MultiFactorAuthPresent", case.mfa);
    context.insert("aws:SecureTransport", case.secure_transport);
    if let Resource::Object(o) = case.resource {
        for (key, value) in [
            ("s3:ExistingObjectTag/team", o.team),
            ("s3:ExistingObjectTag/department", o.department),
            ("s3:ExistingObjectTag/owner", o.owner),
        ] {
            if let Some(value) = value {
                context.insert(key, value);
            }
        }
    }
    Ok(Request::new(&arns.principal, case.action, &arns.resource)?.with_context(context))
}
