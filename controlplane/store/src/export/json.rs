//! The details as JSON (what the AWS CLI prints, `iamlet iam export`) and as the account export
//! the sidecar's engine reads.

use super::*;

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
            saml_providers: Vec::new(),
        }
    }
}
