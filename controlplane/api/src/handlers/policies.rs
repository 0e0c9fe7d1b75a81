//! Managed policies: `CreatePolicy`, `GetPolicy`, `ListPolicies`, `DeletePolicy`, their versions
//! (`CreatePolicyVersion`, `GetPolicyVersion`, `ListPolicyVersions`, `SetDefaultPolicyVersion`,
//! `DeletePolicyVersion`), `ListEntitiesForPolicy`, and `TagPolicy`, `UntagPolicy`,
//! `ListPolicyTags`. Each is authorized on the policy's ARN.

use crate::ctx::{request_tags, tag_keys, Ctx};
use crate::{render, Answer};
use iamlet_engine::PolicyType;
use iamlet_iam_store::{
    parse_version_id, CreatePolicy, EntityFilter, EntityKind, IamPath, ListPolicies, NameKind,
    PathPrefix, PolicyScope, PolicyUsage,
};
use iamlet_query::Xml;

pub(crate) async fn create(c: &mut Ctx<'_>) -> Answer {
    let r = CreatePolicy {
        name: c.req.name("PolicyName", NameKind::Policy)?,
        path: IamPath::parse_policy("Path", c.req.get("Path"))?,
        document: c
            .req
            .policy_document("PolicyDocument", PolicyType::Identity)?,
        description: c.req.description("Description")?,
        tags: c.req.tags()?,
    };
    let arn = c.iam.policy_arn(&r.path, r.name.as_str());
    let keys = request_tags(&r.tags);
    c.allow(&arn, keys.clone()).await?;
    if !r.tags.is_empty() {
        c.allow_action("iam:TagPolicy", &arn, keys).await?;
    }
    let p = c.iam.create_policy(&mut c.tx, &r).await?;
    let mut x = Xml::default();
    x.open("Policy");
    render::policy(&mut x, &p, false);
    x.close("Policy");
    Ok(x.finish())
}

pub(crate) async fn get(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    c.allow(&arn, Vec::new()).await?;
    let p = c.iam.get_policy(&mut c.tx, &arn).await?;
    let mut x = Xml::default();
    x.open("Policy");
    render::policy(&mut x, &p, false);
    x.close("Policy");
    Ok(x.finish())
}

pub(crate) async fn list(c: &mut Ctx<'_>) -> Answer {
    let r = ListPolicies {
        scope: PolicyScope::parse("Scope", c.req.get("Scope"))?,
        only_attached: c.req.bool("OnlyAttached")?.unwrap_or(false),
        prefix: PathPrefix::parse_policy("PathPrefix", c.req.get("PathPrefix"))?,
        usage: PolicyUsage::parse("PolicyUsageFilter", c.req.get("PolicyUsageFilter"))?,
    };
    let page = c.req.page()?;
    let arn = c.list_arn(EntityKind::Policy, r.prefix.as_str());
    c.allow(&arn, Vec::new()).await?;
    let policies = c.iam.list_policies(&mut c.tx, &r, &page).await?;
    let mut x = Xml::default();
    x.list("Policies", &policies.items, |x, p| {
        render::policy(x, p, true)
    });
    render::truncation(&mut x, &policies);
    Ok(x.finish())
}

pub(crate) async fn delete(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    c.allow(&arn, Vec::new()).await?;
    c.iam.delete_policy(&mut c.tx, &arn).await?;
    Ok(String::new())
}

pub(crate) async fn create_version(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    let doc = c
        .req
        .policy_document("PolicyDocument", PolicyType::Identity)?;
    let set_default = c.req.bool("SetAsDefault")?.unwrap_or(false);
    c.allow(&arn, Vec::new()).await?;
    let v = c
        .iam
        .create_policy_version(&mut c.tx, &arn, &doc, set_default)
        .await?;
    let mut x = Xml::default();
    x.open("PolicyVersion");
    render::policy_version(&mut x, &v, false);
    x.close("PolicyVersion");
    Ok(x.finish())
}

pub(crate) async fn get_version(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    let version = parse_version_id("VersionId", c.req.required("VersionId")?)?;
    c.allow(&arn, Vec::new()).await?;
    let v = c.iam.get_policy_version(&mut c.tx, &arn, &version).await?;
    let mut x = Xml::default();
    x.open("PolicyVersion");
    render::policy_version(&mut x, &v, true);
    x.close("PolicyVersion");
    Ok(x.finish())
}

pub(crate) async fn list_versions(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    let page = c.req.page()?;
    c.allow(&arn, Vec::new()).await?;
    let versions = c.iam.list_policy_versions(&mut c.tx, &arn, &page).await?;
    let mut x = Xml::default();
    x.list("Versions", &versions.items, |x, v| {
        render::policy_version(x, v, false)
    });
    render::truncation(&mut x, &versions);
    Ok(x.finish())
}

pub(crate) async fn set_default_version(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    let version = parse_version_id("VersionId", c.req.required("VersionId")?)?;
    c.allow(&arn, Vec::new()).await?;
    c.iam
        .set_default_policy_version(&mut c.tx, &arn, &version)
        .await?;
    Ok(String::new())
}

pub(crate) async fn delete_version(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    let version = parse_version_id("VersionId", c.req.required("VersionId")?)?;
    c.allow(&arn, Vec::new()).await?;
    c.iam
        .delete_policy_version(&mut c.tx, &arn, &version)
        .await?;
    Ok(String::new())
}

pub(crate) async fn entities(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    let filter = EntityFilter::parse("EntityFilter", c.req.get("EntityFilter"))?;
    let prefix = c.req.prefix()?;
    let usage = PolicyUsage::parse("PolicyUsageFilter", c.req.get("PolicyUsageFilter"))?;
    let page = c.req.page()?;
    c.allow(&arn, Vec::new()).await?;
    let e = c
        .iam
        .list_entities_for_policy(&mut c.tx, &arn, filter, &prefix, usage, &page)
        .await?;
    let mut x = Xml::default();
    for (element, name_el, id_el, list) in [
        ("PolicyGroups", "GroupName", "GroupId", &e.groups),
        ("PolicyUsers", "UserName", "UserId", &e.users),
        ("PolicyRoles", "RoleName", "RoleId", &e.roles),
    ] {
        x.list(element, list, |x, m| {
            x.text(name_el, &m.name).text(id_el, &m.id);
        });
    }
    x.flag("IsTruncated", e.marker.is_some())
        .opt("Marker", e.marker.as_deref());
    Ok(x.finish())
}

pub(crate) async fn tag(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    let tags = c.req.tags()?;
    if tags.is_empty() {
        return Err(iamlet_iam_store::names::missing("Tags"));
    }
    c.allow(&arn, request_tags(&tags)).await?;
    c.iam.tag_policy(&mut c.tx, &arn, &tags).await?;
    Ok(String::new())
}

pub(crate) async fn untag(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    let keys = c.req.tag_keys()?;
    c.allow(&arn, tag_keys(&keys)).await?;
    c.iam.untag_policy(&mut c.tx, &arn, &keys).await?;
    Ok(String::new())
}

pub(crate) async fn list_tags(c: &mut Ctx<'_>) -> Answer {
    let arn = c.req.policy_arn("PolicyArn")?;
    let page = c.req.page()?;
    c.allow(&arn, Vec::new()).await?;
    let tags = c.iam.list_policy_tags(&mut c.tx, &arn, &page).await?;
    let mut x = Xml::default();
    render::tags(&mut x, &tags.items);
    render::truncation(&mut x, &tags);
    Ok(x.finish())
}
