//! Instance profiles: `CreateInstanceProfile`, `GetInstanceProfile`, `ListInstanceProfiles`,
//! `DeleteInstanceProfile`, `AddRoleToInstanceProfile`, `RemoveRoleFromInstanceProfile`,
//! `ListInstanceProfilesForRole`.

use crate::ctx::{request_tags, Ctx};
use crate::{render, Answer};
use iamlet_iam_store::{EntityKind, IamError, IamPath, InstanceProfile, Name, NameKind};
use iamlet_query::Xml;

fn profile_element(p: &InstanceProfile) -> String {
    let mut x = Xml::default();
    x.open("InstanceProfile");
    render::instance_profile(&mut x, p);
    x.close("InstanceProfile");
    x.finish()
}

/// Authorizes the call on an instance profile (its ARN with its path; `instance-profile/NAME` for
/// one that does not exist, which is then `NoSuchEntity`).
async fn target_profile(c: &mut Ctx<'_>, name: &Name) -> Result<(), IamError> {
    let found = c.iam.find_instance_profile(&mut c.tx, name).await?;
    let arn = match &found {
        Some(p) => p.arn.clone(),
        None => c
            .iam
            .arn(EntityKind::InstanceProfile, &IamPath::root(), name.as_str()),
    };
    c.allow(&arn, Vec::new()).await?;
    match found {
        Some(_) => Ok(()),
        None => Err(IamError::no_such_entity(format!(
            "Instance Profile {name} cannot be found."
        ))),
    }
}

pub(crate) async fn create(c: &mut Ctx<'_>) -> Answer {
    let name = c
        .req
        .name("InstanceProfileName", NameKind::InstanceProfile)?;
    let path = c.req.path("Path")?;
    let tags = c.req.tags()?;
    let arn = c.iam.arn(EntityKind::InstanceProfile, &path, name.as_str());
    let keys = request_tags(&tags);
    c.allow(&arn, keys.clone()).await?;
    if !tags.is_empty() {
        c.allow_action("iam:TagInstanceProfile", &arn, keys).await?;
    }
    let p = c
        .iam
        .create_instance_profile(&mut c.tx, &name, &path, &tags)
        .await?;
    Ok(profile_element(&p))
}

pub(crate) async fn get(c: &mut Ctx<'_>) -> Answer {
    let name = c
        .req
        .name("InstanceProfileName", NameKind::InstanceProfile)?;
    target_profile(c, &name).await?;
    let p = c.iam.get_instance_profile(&mut c.tx, &name).await?;
    Ok(profile_element(&p))
}

pub(crate) async fn list(c: &mut Ctx<'_>) -> Answer {
    let prefix = c.req.prefix()?;
    let page = c.req.page()?;
    let arn = c.list_arn(EntityKind::InstanceProfile, prefix.as_str());
    c.allow(&arn, Vec::new()).await?;
    let profiles = c
        .iam
        .list_instance_profiles(&mut c.tx, &prefix, &page)
        .await?;
    let mut x = Xml::default();
    x.list("InstanceProfiles", &profiles.items, |x, p| {
        render::instance_profile(x, p)
    });
    render::truncation(&mut x, &profiles);
    Ok(x.finish())
}

pub(crate) async fn delete(c: &mut Ctx<'_>) -> Answer {
    let name = c
        .req
        .name("InstanceProfileName", NameKind::InstanceProfile)?;
    target_profile(c, &name).await?;
    c.iam.delete_instance_profile(&mut c.tx, &name).await?;
    Ok(String::new())
}

/// `AddRoleToInstanceProfile`: on the profile, and `iam:PassRole` on the role (the profile hands
/// the role to EC2, as AWS requires).
pub(crate) async fn add_role(c: &mut Ctx<'_>) -> Answer {
    let name = c
        .req
        .name("InstanceProfileName", NameKind::InstanceProfile)?;
    let role = c.req.name("RoleName", NameKind::Role)?;
    target_profile(c, &name).await?;
    let role_arn = match c.iam.find_role(&mut c.tx, &role).await? {
        Some(r) => r.arn,
        None => c.iam.arn(EntityKind::Role, &IamPath::root(), role.as_str()),
    };
    c.allow_action("iam:PassRole", &role_arn, Vec::new())
        .await?;
    c.iam
        .add_role_to_instance_profile(&mut c.tx, &name, &role)
        .await?;
    Ok(String::new())
}

pub(crate) async fn remove_role(c: &mut Ctx<'_>) -> Answer {
    let name = c
        .req
        .name("InstanceProfileName", NameKind::InstanceProfile)?;
    let role = c.req.name("RoleName", NameKind::Role)?;
    target_profile(c, &name).await?;
    c.iam
        .remove_role_from_instance_profile(&mut c.tx, &name, &role)
        .await?;
    Ok(String::new())
}

pub(crate) async fn for_role(c: &mut Ctx<'_>) -> Answer {
    let role = c.req.name("RoleName", NameKind::Role)?;
    let page = c.req.page()?;
    c.target_role(&role, Vec::new()).await?;
    let profiles = c
        .iam
        .list_instance_profiles_for_role(&mut c.tx, &role, &page)
        .await?;
    let mut x = Xml::default();
    x.list("InstanceProfiles", &profiles.items, |x, p| {
        render::instance_profile(x, p)
    });
    render::truncation(&mut x, &profiles);
    Ok(x.finish())
}
