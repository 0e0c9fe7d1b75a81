//! Groups: `CreateGroup`, `GetGroup` (with its members), `ListGroups`, `UpdateGroup`,
//! `DeleteGroup`, `AddUserToGroup`, `RemoveUserFromGroup`, `ListGroupsForUser`.

use crate::ctx::Ctx;
use crate::{render, Answer};
use iamlet_iam_store::{EntityKind, NameKind, UpdateGroup};
use iamlet_query::Xml;

pub(crate) async fn create(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("GroupName", NameKind::Group)?;
    let path = c.req.path("Path")?;
    let arn = c.iam.arn(EntityKind::Group, &path, name.as_str());
    c.allow(&arn, Vec::new()).await?;
    let group = c.iam.create_group(&mut c.tx, &name, &path).await?;
    let mut x = Xml::default();
    x.open("Group");
    render::group(&mut x, &group);
    x.close("Group");
    Ok(x.finish())
}

pub(crate) async fn get(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("GroupName", NameKind::Group)?;
    let page = c.req.page()?;
    c.target_group(&name).await?;
    let (group, users) = c.iam.get_group(&mut c.tx, &name, &page).await?;
    let mut x = Xml::default();
    x.open("Group");
    render::group(&mut x, &group);
    x.close("Group");
    x.list("Users", &users.items, render::user);
    render::truncation(&mut x, &users);
    Ok(x.finish())
}

pub(crate) async fn list(c: &mut Ctx<'_>) -> Answer {
    let prefix = c.req.prefix()?;
    let page = c.req.page()?;
    let arn = c.list_arn(EntityKind::Group, prefix.as_str());
    c.allow(&arn, Vec::new()).await?;
    let groups = c.iam.list_groups(&mut c.tx, &prefix, &page).await?;
    let mut x = Xml::default();
    x.list("Groups", &groups.items, render::group);
    render::truncation(&mut x, &groups);
    Ok(x.finish())
}

pub(crate) async fn update(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("GroupName", NameKind::Group)?;
    let r = UpdateGroup {
        new_name: c.req.opt_name("NewGroupName", NameKind::Group)?,
        new_path: c.req.opt_path("NewPath")?,
    };
    let group = c.target_group(&name).await?;
    let new_arn = c.iam.arn(
        EntityKind::Group,
        r.new_path.as_ref().unwrap_or(&group.path),
        r.new_name.as_ref().unwrap_or(&group.name).as_str(),
    );
    if new_arn != group.arn {
        c.allow(&new_arn, Vec::new()).await?;
    }
    c.iam.update_group(&mut c.tx, &name, &r).await?;
    Ok(String::new())
}

pub(crate) async fn delete(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("GroupName", NameKind::Group)?;
    c.target_group(&name).await?;
    c.iam.delete_group(&mut c.tx, &name).await?;
    Ok(String::new())
}

pub(crate) async fn add_user(c: &mut Ctx<'_>) -> Answer {
    let group = c.req.name("GroupName", NameKind::Group)?;
    let user = c.req.name("UserName", NameKind::User)?;
    c.target_group(&group).await?;
    c.iam.add_user_to_group(&mut c.tx, &group, &user).await?;
    Ok(String::new())
}

pub(crate) async fn remove_user(c: &mut Ctx<'_>) -> Answer {
    let group = c.req.name("GroupName", NameKind::Group)?;
    let user = c.req.name("UserName", NameKind::User)?;
    c.target_group(&group).await?;
    c.iam
        .remove_user_from_group(&mut c.tx, &group, &user)
        .await?;
    Ok(String::new())
}

pub(crate) async fn for_user(c: &mut Ctx<'_>) -> Answer {
    let user = c.req.name("UserName", NameKind::User)?;
    let page = c.req.page()?;
    c.target_user(&user, Vec::new()).await?;
    let groups = c.iam.list_groups_for_user(&mut c.tx, &user, &page).await?;
    let mut x = Xml::default();
    x.list("Groups", &groups.items, render::group);
    render::truncation(&mut x, &groups);
    Ok(x.finish())
}
