//! Users: `CreateUser`, `GetUser`, `ListUsers`, `UpdateUser`, `DeleteUser`, `TagUser`,
//! `UntagUser`, `ListUserTags`.

use crate::ctx::{request_tags, tag_keys, Ctx};
use crate::{render, Answer};
use iamlet_iam_store::{CreateUser, EntityKind, NameKind, UpdateUser};
use iamlet_query::Xml;

pub(crate) async fn create(c: &mut Ctx<'_>) -> Answer {
    let r = CreateUser {
        name: c.req.name("UserName", NameKind::User)?,
        path: c.req.path("Path")?,
        boundary: c.req.opt_policy_arn("PermissionsBoundary")?,
        tags: c.req.tags()?,
    };
    let arn = c.iam.arn(EntityKind::User, &r.path, r.name.as_str());
    let mut keys = request_tags(&r.tags);
    if let Some(b) = &r.boundary {
        keys.push(("iam:PermissionsBoundary".to_owned(), b.as_str().into()));
    }
    c.allow(&arn, keys.clone()).await?;
    if !r.tags.is_empty() {
        c.allow_action("iam:TagUser", &arn, keys).await?;
    }
    let user = c.iam.create_user(&mut c.tx, &r).await?;
    let mut x = Xml::default();
    x.open("User");
    render::user(&mut x, &user);
    x.close("User");
    Ok(x.finish())
}

pub(crate) async fn get(c: &mut Ctx<'_>) -> Answer {
    let Some(name) = c.user_param_or_caller("UserName")? else {
        return root_user(c).await;
    };
    c.target_user(&name, Vec::new()).await?;
    let user = c.iam.get_user(&mut c.tx, &name).await?;
    let mut x = Xml::default();
    x.open("User");
    render::user(&mut x, &user);
    x.close("User");
    Ok(x.finish())
}

/// `GetUser` by the root user without `UserName`: the root user itself, as AWS answers.
async fn root_user(c: &mut Ctx<'_>) -> Answer {
    let arn = c.iam.root_arn();
    c.allow(&arn, Vec::new()).await?;
    let mut x = Xml::default();
    x.open("User")
        .text("UserId", c.iam.account_id())
        .text("Arn", &arn)
        .text(
            "CreateDate",
            &iamlet_iam_store::iso8601(c.iam.created(&mut c.tx).await?),
        )
        .close("User");
    Ok(x.finish())
}

pub(crate) async fn list(c: &mut Ctx<'_>) -> Answer {
    let prefix = c.req.prefix()?;
    let page = c.req.page()?;
    let arn = c.list_arn(EntityKind::User, prefix.as_str());
    c.allow(&arn, Vec::new()).await?;
    let users = c.iam.list_users(&mut c.tx, &prefix, &page).await?;
    let mut x = Xml::default();
    x.list("Users", &users.items, render::user);
    render::truncation(&mut x, &users);
    Ok(x.finish())
}

pub(crate) async fn update(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("UserName", NameKind::User)?;
    let r = UpdateUser {
        new_name: c.req.opt_name("NewUserName", NameKind::User)?,
        new_path: c.req.opt_path("NewPath")?,
    };
    let user = c.target_user(&name, Vec::new()).await?;
    // Renaming or moving needs the permission on the new name as well (AWS checks both).
    if r.new_name.is_some() || r.new_path.is_some() {
        let new_arn = c.iam.arn(
            EntityKind::User,
            r.new_path.as_ref().unwrap_or(&user.path),
            r.new_name.as_ref().unwrap_or(&user.name).as_str(),
        );
        if new_arn != user.arn {
            c.allow(&new_arn, Vec::new()).await?;
        }
    }
    c.iam.update_user(&mut c.tx, &name, &r).await?;
    Ok(String::new())
}

pub(crate) async fn delete(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("UserName", NameKind::User)?;
    c.target_user(&name, Vec::new()).await?;
    c.iam.delete_user(&mut c.tx, &name).await?;
    Ok(String::new())
}

pub(crate) async fn tag(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("UserName", NameKind::User)?;
    let tags = c.req.tags()?;
    if tags.is_empty() {
        return Err(iamlet_iam_store::names::missing("Tags"));
    }
    c.target_user(&name, request_tags(&tags)).await?;
    c.iam.tag_user(&mut c.tx, &name, &tags).await?;
    Ok(String::new())
}

pub(crate) async fn untag(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("UserName", NameKind::User)?;
    let keys = c.req.tag_keys()?;
    c.target_user(&name, tag_keys(&keys)).await?;
    c.iam.untag_user(&mut c.tx, &name, &keys).await?;
    Ok(String::new())
}

pub(crate) async fn list_tags(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("UserName", NameKind::User)?;
    let page = c.req.page()?;
    c.target_user(&name, Vec::new()).await?;
    let tags = c.iam.list_user_tags(&mut c.tx, &name, &page).await?;
    let mut x = Xml::default();
    render::tags(&mut x, &tags.items);
    render::truncation(&mut x, &tags);
    Ok(x.finish())
}
