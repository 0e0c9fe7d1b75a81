//! `GetAccountAuthorizationDetails`' lists in AWS's XML: `UserDetailList`, `GroupDetailList`,
//! `RoleDetailList` and `Policies`, every policy document URL-encoded as IAM returns documents.

use super::{boundary, role, tags, url_encode};
use iamlet_iam_store::export::{Attached, Details, Inline};
use iamlet_iam_store::iso8601;
use iamlet_query::Xml;

fn inline(x: &mut Xml, list_name: &str, list: &[Inline]) {
    x.list(list_name, list, |x, p| {
        x.text("PolicyName", &p.name)
            .text("PolicyDocument", &url_encode(&p.document));
    });
}

fn attached(x: &mut Xml, list: &[Attached]) {
    x.list("AttachedManagedPolicies", list, |x, p| {
        x.text("PolicyName", &p.name).text("PolicyArn", &p.arn);
    });
}

/// The four lists of a page of details.
pub(crate) fn details(x: &mut Xml, d: &Details) {
    x.list("UserDetailList", &d.users, |x, u| {
        let user = &u.user;
        x.text("Path", user.path.as_str())
            .text("UserName", user.name.as_str())
            .text("UserId", &user.id)
            .text("Arn", &user.arn)
            .text("CreateDate", &iso8601(user.created));
        inline(x, "UserPolicyList", &u.inline);
        x.list("GroupList", &u.groups, |x, g| {
            x.raw(&iamlet_query::escape(g));
        });
        attached(x, &u.attached);
        if let Some(b) = &user.boundary {
            boundary(x, b);
        }
        tags(x, &user.tags);
    });
    x.list("GroupDetailList", &d.groups, |x, g| {
        let group = &g.group;
        x.text("Path", group.path.as_str())
            .text("GroupName", group.name.as_str())
            .text("GroupId", &group.id)
            .text("Arn", &group.arn)
            .text("CreateDate", &iso8601(group.created));
        inline(x, "GroupPolicyList", &g.inline);
        attached(x, &g.attached);
    });
    x.list("RoleDetailList", &d.roles, |x, r| {
        let rl = &r.role;
        x.text("Path", rl.path.as_str())
            .text("RoleName", rl.name.as_str())
            .text("RoleId", &rl.id)
            .text("Arn", &rl.arn)
            .text("CreateDate", &iso8601(rl.created))
            .text("AssumeRolePolicyDocument", &url_encode(&rl.trust_policy));
        // Each instance profile lists its role: this one.
        x.list("InstanceProfileList", &r.instance_profiles, |x, p| {
            x.text("Path", p.path.as_str())
                .text("InstanceProfileName", p.name.as_str())
                .text("InstanceProfileId", &p.id)
                .text("Arn", &p.arn)
                .text("CreateDate", &iso8601(p.created));
            x.list("Roles", [rl], role);
        });
        inline(x, "RolePolicyList", &r.inline);
        attached(x, &r.attached);
        if let Some(b) = &rl.boundary {
            boundary(x, b);
        }
        tags(x, &rl.tags);
        x.open("RoleLastUsed");
        if let Some((at, region)) = &rl.last_used {
            x.text("LastUsedDate", &iso8601(*at)).text("Region", region);
        }
        x.close("RoleLastUsed");
    });
    x.list("Policies", &d.policies, |x, p| {
        let policy = &p.policy;
        x.text("PolicyName", policy.name.as_str())
            .text("PolicyId", &policy.id)
            .text("Arn", &policy.arn)
            .text("Path", policy.path.as_str())
            .text("DefaultVersionId", &policy.default_version)
            .number("AttachmentCount", p.attachment_count)
            .number("PermissionsBoundaryUsageCount", p.boundary_usage_count)
            .flag("IsAttachable", true)
            .opt("Description", policy.description.as_deref())
            .text("CreateDate", &iso8601(policy.created))
            .text("UpdateDate", &iso8601(policy.updated));
        x.list("PolicyVersionList", &p.versions, |x, v| {
            x.text("Document", &url_encode(&v.document))
                .text("VersionId", &v.id)
                .flag("IsDefaultVersion", v.is_default)
                .text("CreateDate", &iso8601(v.created));
        });
    });
}
