//! The whole account with `GetAccountAuthorizationDetails`, converted to the export model the
//! snapshot builder reads (the very document `aws iam get-account-authorization-details` prints).

use super::{client, last_segment, IamApiConfig};
use crate::account::{
    AccountDetails, AttachedPolicy, Document, GroupDetail, InlinePolicy, ManagedPolicyDetail,
    PermissionsBoundary, PolicyVersion, RoleDetail, Tag, UserDetail,
};
use crate::{BoxFuture, Documents, LoadError, Loader};
use aws_sdk_iam::error::DisplayErrorContext;
use aws_sdk_iam::Client;

/// The whole account with `GetAccountAuthorizationDetails`, as a document for the snapshot builder.
#[derive(Debug)]
pub struct IamApiSnapshotLoader {
    client: Client,
    name: String,
}

impl IamApiSnapshotLoader {
    /// A loader over a client built from `config`.
    pub async fn new(config: &IamApiConfig) -> Result<Self, LoadError> {
        let name = match &config.endpoint_url {
            Some(u) => format!("IAM GetAccountAuthorizationDetails at {u}"),
            None => "IAM GetAccountAuthorizationDetails".to_owned(),
        };
        Ok(IamApiSnapshotLoader {
            client: client(config).await,
            name,
        })
    }

    /// Every page, merged into one export.
    pub async fn fetch_details(&self) -> Result<AccountDetails, LoadError> {
        let mut pages = self
            .client
            .get_account_authorization_details()
            .into_paginator()
            .send();
        let mut details = AccountDetails::default();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| LoadError::Read {
                source_name: self.name.clone(),
                message: DisplayErrorContext(&e).to_string(),
            })?;
            let bad = |m: String| LoadError::Read {
                source_name: self.name.clone(),
                message: m,
            };
            for u in page.user_detail_list() {
                details.user_detail_list.push(convert_user(u).map_err(bad)?);
            }
            for g in page.group_detail_list() {
                details
                    .group_detail_list
                    .push(convert_group(g).map_err(bad)?);
            }
            for r in page.role_detail_list() {
                details.role_detail_list.push(convert_role(r).map_err(bad)?);
            }
            for p in page.policies() {
                details.policies.push(convert_policy(p).map_err(bad)?);
            }
        }
        Ok(details)
    }
}

impl Loader for IamApiSnapshotLoader {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Option<Documents>, LoadError>> {
        Box::pin(async move {
            let details = self.fetch_details().await?;
            let text = serde_json::to_string(&details).map_err(|e| LoadError::Read {
                source_name: self.name.clone(),
                message: e.to_string(),
            })?;
            Ok(Some(vec![(self.name.clone(), text)]))
        })
    }
}

// ===== SDK types → the export model =====

fn required(v: Option<&str>, what: &str) -> Result<String, String> {
    v.map(str::to_owned)
        .ok_or_else(|| format!("an entry without {what}"))
}

fn doc(text: Option<&str>, what: &str) -> Result<Document, String> {
    Document::from_text(text.ok_or_else(|| format!("{what} has no document"))?)
}

fn inline(
    list: &[aws_sdk_iam::types::PolicyDetail],
    owner: &str,
) -> Result<Vec<InlinePolicy>, String> {
    list.iter()
        .map(|p| {
            let name = required(p.policy_name(), "PolicyName")?;
            Ok(InlinePolicy {
                policy_document: doc(
                    p.policy_document(),
                    &format!("{owner} inline policy {name}"),
                )?,
                policy_name: name,
            })
        })
        .collect()
}

fn attached(list: &[aws_sdk_iam::types::AttachedPolicy]) -> Vec<AttachedPolicy> {
    list.iter()
        .filter_map(|a| {
            Some(AttachedPolicy {
                policy_name: a.policy_name().map(str::to_owned),
                policy_arn: a.policy_arn()?.to_owned(),
            })
        })
        .collect()
}

fn boundary(
    b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>,
) -> Option<PermissionsBoundary> {
    let b = b?;
    Some(PermissionsBoundary {
        permissions_boundary_type: b.permissions_boundary_type().map(|t| t.as_str().to_owned()),
        permissions_boundary_arn: b.permissions_boundary_arn()?.to_owned(),
    })
}

fn tags(list: &[aws_sdk_iam::types::Tag]) -> Vec<Tag> {
    list.iter()
        .map(|t| Tag {
            key: t.key().to_owned(),
            value: t.value().to_owned(),
        })
        .collect()
}

fn convert_user(u: &aws_sdk_iam::types::UserDetail) -> Result<UserDetail, String> {
    let name = required(u.user_name(), "UserName")?;
    Ok(UserDetail {
        arn: required(u.arn(), "Arn")?,
        user_id: u.user_id().map(str::to_owned),
        path: u.path().map(str::to_owned),
        create_date: u.create_date().and_then(|d| {
            d.fmt(aws_sdk_iam::primitives::DateTimeFormat::DateTime)
                .ok()
        }),
        user_policy_list: inline(u.user_policy_list(), &format!("user {name}"))?,
        group_list: u.group_list().to_vec(),
        attached_managed_policies: attached(u.attached_managed_policies()),
        permissions_boundary: boundary(u.permissions_boundary()),
        tags: tags(u.tags()),
        user_name: name,
    })
}

fn convert_group(g: &aws_sdk_iam::types::GroupDetail) -> Result<GroupDetail, String> {
    let name = required(g.group_name(), "GroupName")?;
    Ok(GroupDetail {
        arn: required(g.arn(), "Arn")?,
        group_policy_list: inline(g.group_policy_list(), &format!("group {name}"))?,
        attached_managed_policies: attached(g.attached_managed_policies()),
        group_name: name,
    })
}

fn convert_role(r: &aws_sdk_iam::types::RoleDetail) -> Result<RoleDetail, String> {
    let name = required(r.role_name(), "RoleName")?;
    Ok(RoleDetail {
        arn: required(r.arn(), "Arn")?,
        role_id: r.role_id().map(str::to_owned),
        path: r.path().map(str::to_owned),
        assume_role_policy_document: r
            .assume_role_policy_document()
            .map(|d| doc(Some(d), &format!("role {name} trust policy")))
            .transpose()?,
        role_policy_list: inline(r.role_policy_list(), &format!("role {name}"))?,
        attached_managed_policies: attached(r.attached_managed_policies()),
        permissions_boundary: boundary(r.permissions_boundary()),
        tags: tags(r.tags()),
        role_name: name,
    })
}

fn convert_policy(
    p: &aws_sdk_iam::types::ManagedPolicyDetail,
) -> Result<ManagedPolicyDetail, String> {
    let arn = required(p.arn(), "Arn")?;
    let versions = p
        .policy_version_list()
        .iter()
        .map(|v| {
            let id = v.version_id().unwrap_or_default().to_owned();
            Ok(PolicyVersion {
                document: v
                    .document()
                    .map(|d| doc(Some(d), &format!("managed policy {arn} {id}")))
                    .transpose()?,
                version_id: id,
                is_default_version: v.is_default_version(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(ManagedPolicyDetail {
        // Some IAM look-alikes (moto) leave the name out: it is the ARN's last segment.
        policy_name: p
            .policy_name()
            .unwrap_or_else(|| last_segment(&arn))
            .to_owned(),
        default_version_id: p.default_version_id().map(str::to_owned),
        policy_version_list: versions,
        arn,
    })
}
