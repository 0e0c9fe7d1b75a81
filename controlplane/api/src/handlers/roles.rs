//! Roles: `CreateRole`, `GetRole`, `ListRoles`, `UpdateRole`, `UpdateRoleDescription`,
//! `DeleteRole`, `UpdateAssumeRolePolicy`, `TagRole`, `UntagRole`, `ListRoleTags`; service-linked
//! roles: `CreateServiceLinkedRole`, `DeleteServiceLinkedRole`,
//! `GetServiceLinkedRoleDeletionStatus`.

use crate::ctx::{request_tags, tag_keys, Ctx};
use crate::{render, Answer};
use iamlet_engine::PolicyType;
use iamlet_iam_store::roles::service_linked::{
    parse_service_name, parse_suffix, role_name, role_path,
};
use iamlet_iam_store::{
    CreateRole, CreateServiceLinkedRole, EntityKind, IamError, NameKind, Role, UpdateRole,
    DEFAULT_MAX_SESSION_DURATION,
};
use iamlet_query::Xml;

fn role_element(r: &Role) -> String {
    let mut x = Xml::default();
    x.open("Role");
    render::role(&mut x, r);
    x.close("Role");
    x.finish()
}

pub(crate) async fn create(c: &mut Ctx<'_>) -> Answer {
    let r = CreateRole {
        name: c.req.name("RoleName", NameKind::Role)?,
        path: c.req.path("Path")?,
        trust: c
            .req
            .policy_document("AssumeRolePolicyDocument", PolicyType::Trust)?,
        description: c.req.description("Description")?,
        max_session_duration: c
            .req
            .int("MaxSessionDuration", 3600, 43_200)?
            .unwrap_or(DEFAULT_MAX_SESSION_DURATION),
        boundary: c.req.opt_policy_arn("PermissionsBoundary")?,
        tags: c.req.tags()?,
    };
    let arn = c.iam.arn(EntityKind::Role, &r.path, r.name.as_str());
    let mut keys = request_tags(&r.tags);
    if let Some(b) = &r.boundary {
        keys.push(("iam:PermissionsBoundary".to_owned(), b.as_str().into()));
    }
    c.allow(&arn, keys.clone()).await?;
    if !r.tags.is_empty() {
        c.allow_action("iam:TagRole", &arn, keys).await?;
    }
    let role = c.iam.create_role(&mut c.tx, &r).await?;
    Ok(role_element(&role))
}

pub(crate) async fn get(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("RoleName", NameKind::Role)?;
    c.target_role(&name, Vec::new()).await?;
    let role = c.iam.get_role(&mut c.tx, &name).await?;
    Ok(role_element(&role))
}

pub(crate) async fn list(c: &mut Ctx<'_>) -> Answer {
    let prefix = c.req.prefix()?;
    let page = c.req.page()?;
    let arn = c.list_arn(EntityKind::Role, prefix.as_str());
    c.allow(&arn, Vec::new()).await?;
    let roles = c.iam.list_roles(&mut c.tx, &prefix, &page).await?;
    let mut x = Xml::default();
    x.list("Roles", &roles.items, render::listed_role);
    render::truncation(&mut x, &roles);
    Ok(x.finish())
}

pub(crate) async fn update(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("RoleName", NameKind::Role)?;
    let r = UpdateRole {
        description: c.req.description("Description")?,
        max_session_duration: c.req.int("MaxSessionDuration", 3600, 43_200)?,
    };
    c.target_role(&name, Vec::new()).await?;
    c.iam.update_role(&mut c.tx, &name, &r).await?;
    Ok(String::new())
}

pub(crate) async fn update_description(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("RoleName", NameKind::Role)?;
    let description = c
        .req
        .description("Description")?
        .ok_or_else(|| iamlet_iam_store::names::missing("Description"))?;
    c.target_role(&name, Vec::new()).await?;
    let r = UpdateRole {
        description: Some(description),
        max_session_duration: None,
    };
    let role = c.iam.update_role(&mut c.tx, &name, &r).await?;
    Ok(role_element(&role))
}

pub(crate) async fn delete(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("RoleName", NameKind::Role)?;
    c.target_role(&name, Vec::new()).await?;
    c.iam.delete_role(&mut c.tx, &name).await?;
    Ok(String::new())
}

pub(crate) async fn update_trust(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("RoleName", NameKind::Role)?;
    let trust = c.req.policy_document("PolicyDocument", PolicyType::Trust)?;
    c.target_role(&name, Vec::new()).await?;
    c.iam
        .update_assume_role_policy(&mut c.tx, &name, &trust)
        .await?;
    Ok(String::new())
}

pub(crate) async fn tag(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("RoleName", NameKind::Role)?;
    let tags = c.req.tags()?;
    if tags.is_empty() {
        return Err(iamlet_iam_store::names::missing("Tags"));
    }
    c.target_role(&name, request_tags(&tags)).await?;
    c.iam.tag_role(&mut c.tx, &name, &tags).await?;
    Ok(String::new())
}

pub(crate) async fn untag(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("RoleName", NameKind::Role)?;
    let keys = c.req.tag_keys()?;
    c.target_role(&name, tag_keys(&keys)).await?;
    c.iam.untag_role(&mut c.tx, &name, &keys).await?;
    Ok(String::new())
}

pub(crate) async fn list_tags(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("RoleName", NameKind::Role)?;
    let page = c.req.page()?;
    c.target_role(&name, Vec::new()).await?;
    let tags = c.iam.list_role_tags(&mut c.tx, &name, &page).await?;
    let mut x = Xml::default();
    render::tags(&mut x, &tags.items);
    render::truncation(&mut x, &tags);
    Ok(x.finish())
}

/// `CreateServiceLinkedRole`: authorized on the role it makes, with `iam:AWSServiceName`.
pub(crate) async fn create_service_linked(c: &mut Ctx<'_>) -> Answer {
    let service = parse_service_name("AWSServiceName", c.req.required("AWSServiceName")?)?;
    let suffix = c
        .req
        .get("CustomSuffix")
        .map(|s| parse_suffix("CustomSuffix", s))
        .transpose()?;
    let r = CreateServiceLinkedRole {
        description: c.req.description("Description")?,
        suffix,
        service,
    };
    let arn = c.iam.arn(
        EntityKind::Role,
        &role_path(&r.service),
        &role_name(&r.service, r.suffix.as_deref()),
    );
    let keys = vec![("iam:AWSServiceName".to_owned(), r.service.as_str().into())];
    c.allow(&arn, keys).await?;
    let role = c.iam.create_service_linked_role(&mut c.tx, &r).await?;
    Ok(role_element(&role))
}

pub(crate) async fn delete_service_linked(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("RoleName", NameKind::Role)?;
    c.target_role(&name, Vec::new()).await?;
    let task = c.iam.delete_service_linked_role(&mut c.tx, &name).await?;
    let mut x = Xml::default();
    x.text("DeletionTaskId", &task);
    Ok(x.finish())
}

/// `GetServiceLinkedRoleDeletionStatus`: authorized on the role the task deleted (named in the
/// task's id, `task/aws-service-role/SERVICE/NAME/ID`).
pub(crate) async fn deletion_status(c: &mut Ctx<'_>) -> Answer {
    let task = c.req.required("DeletionTaskId")?.to_owned();
    if !(1..=1000).contains(&task.len()) {
        return Err(IamError::validation(
            "1 validation error detected: Value at 'deletionTaskId' failed to satisfy constraint: Member must have length between 1 and 1000",
        ));
    }
    let parts: Vec<&str> = task.split('/').collect();
    let ["task", "aws-service-role", service, name, _id] = parts.as_slice() else {
        return Err(IamError::invalid_input(format!(
            "{task} is not a deletion task id: they are task/aws-service-role/SERVICE/ROLE/ID"
        )));
    };
    let arn = c.iam.arn(EntityKind::Role, &role_path(service), name);
    c.allow(&arn, Vec::new()).await?;
    let status = c
        .iam
        .service_linked_role_deletion_status(&mut c.tx, &task)
        .await?;
    let mut x = Xml::default();
    x.text("Status", status.as_str());
    Ok(x.finish())
}
