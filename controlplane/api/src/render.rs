//! The XML of IAM's entities, as AWS writes them inside a `…Result` element.

use iamlet_iam_store::export::{Attached, VersionDetail};
use iamlet_iam_store::{iso8601, Group, InstanceProfile, Paged, PolicyInfo, Role, Tag, User};
use iamlet_query::Xml;

mod details;

pub(crate) use details::details;

/// `<User>`'s (or a list member's) fields.
pub(crate) fn user(x: &mut Xml, u: &User) {
    x.text("Path", u.path.as_str())
        .text("UserName", u.name.as_str())
        .text("UserId", &u.id)
        .text("Arn", &u.arn)
        .text("CreateDate", &iso8601(u.created));
    if let Some(t) = u.password_last_used {
        x.text("PasswordLastUsed", &iso8601(t));
    }
    if let Some(b) = &u.boundary {
        boundary(x, b);
    }
    if !u.tags.is_empty() {
        tags(x, &u.tags);
    }
}

/// `<Group>`'s fields.
pub(crate) fn group(x: &mut Xml, g: &Group) {
    x.text("Path", g.path.as_str())
        .text("GroupName", g.name.as_str())
        .text("GroupId", &g.id)
        .text("Arn", &g.arn)
        .text("CreateDate", &iso8601(g.created));
}

/// `<Role>`'s fields; the trust policy URL-encoded, as AWS returns documents.
pub(crate) fn role(x: &mut Xml, r: &Role) {
    x.text("Path", r.path.as_str())
        .text("RoleName", r.name.as_str())
        .text("RoleId", &r.id)
        .text("Arn", &r.arn)
        .text("CreateDate", &iso8601(r.created))
        .text("AssumeRolePolicyDocument", &url_encode(&r.trust_policy))
        .opt("Description", r.description.as_deref())
        .number("MaxSessionDuration", r.max_session_duration);
    if let Some(b) = &r.boundary {
        boundary(x, b);
    }
    if !r.tags.is_empty() {
        tags(x, &r.tags);
    }
    x.open("RoleLastUsed");
    if let Some((at, region)) = &r.last_used {
        x.text("LastUsedDate", &iso8601(*at)).text("Region", region);
    }
    x.close("RoleLastUsed");
}

/// A `ListRoles` member: what AWS lists of a role (no boundary, tags or last use).
pub(crate) fn listed_role(x: &mut Xml, r: &Role) {
    x.text("Path", r.path.as_str())
        .text("RoleName", r.name.as_str())
        .text("RoleId", &r.id)
        .text("Arn", &r.arn)
        .text("CreateDate", &iso8601(r.created))
        .text("AssumeRolePolicyDocument", &url_encode(&r.trust_policy))
        .opt("Description", r.description.as_deref())
        .number("MaxSessionDuration", r.max_session_duration);
}

/// `<InstanceProfile>`'s fields, its roles in full.
pub(crate) fn instance_profile(x: &mut Xml, p: &InstanceProfile) {
    x.text("Path", p.path.as_str())
        .text("InstanceProfileName", p.name.as_str())
        .text("InstanceProfileId", &p.id)
        .text("Arn", &p.arn)
        .text("CreateDate", &iso8601(p.created));
    x.list("Roles", &p.roles, role);
    if !p.tags.is_empty() {
        tags(x, &p.tags);
    }
}

/// `<Policy>`'s fields. `ListPolicies` leaves out the description and tags, as AWS does.
pub(crate) fn policy(x: &mut Xml, p: &PolicyInfo, listed: bool) {
    let m = &p.policy;
    x.text("PolicyName", m.name.as_str())
        .text("PolicyId", &m.id)
        .text("Arn", &m.arn)
        .text("Path", m.path.as_str())
        .text("DefaultVersionId", &m.default_version)
        .number("AttachmentCount", p.attachment_count)
        .number("PermissionsBoundaryUsageCount", p.boundary_usage_count)
        .flag("IsAttachable", true);
    if !listed {
        x.opt("Description", m.description.as_deref());
    }
    x.text("CreateDate", &iso8601(m.created))
        .text("UpdateDate", &iso8601(m.updated));
    if !listed && !p.tags.is_empty() {
        tags(x, &p.tags);
    }
}

/// `<PolicyVersion>`'s fields; the document URL-encoded, when given (`ListPolicyVersions` leaves
/// it out).
pub(crate) fn policy_version(x: &mut Xml, v: &VersionDetail, with_document: bool) {
    if with_document {
        x.text("Document", &url_encode(&v.document));
    }
    x.text("VersionId", &v.id)
        .flag("IsDefaultVersion", v.is_default)
        .text("CreateDate", &iso8601(v.created));
}

/// `<AttachedPolicies>`.
pub(crate) fn attached(x: &mut Xml, list: &[Attached]) {
    x.list("AttachedPolicies", list, |x, a| {
        x.text("PolicyName", &a.name).text("PolicyArn", &a.arn);
    });
}

/// `<PermissionsBoundary>`.
pub(crate) fn boundary(x: &mut Xml, arn: &str) {
    x.open("PermissionsBoundary")
        .text("PermissionsBoundaryType", "PermissionsBoundaryPolicy")
        .text("PermissionsBoundaryArn", arn)
        .close("PermissionsBoundary");
}

/// `<Tags>` with a member per tag.
pub(crate) fn tags(x: &mut Xml, tags: &[Tag]) {
    x.list("Tags", tags, |x, t| {
        x.text("Key", &t.key).text("Value", &t.value);
    });
}

/// `<IsTruncated>` and, when truncated, `<Marker>`.
pub(crate) fn truncation<T>(x: &mut Xml, page: &Paged<T>) {
    x.flag("IsTruncated", page.is_truncated())
        .opt("Marker", page.marker.as_deref());
}

/// A policy document as the IAM API returns it: URL-encoded (RFC 3986), which the AWS CLI and
/// SDKs decode.
pub(crate) fn url_encode(text: &str) -> String {
    const KEEP: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, KEEP).to_string()
}
