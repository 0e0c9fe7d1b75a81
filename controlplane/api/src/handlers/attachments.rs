//! Managed policy attachments (`Attach`, `Detach`, `ListAttached` … `UserPolicy`, `GroupPolicy`,
//! `RolePolicy`), authorized with `iam:PolicyARN`; and permissions boundaries (`Put`/`Delete`
//! `UserPermissionsBoundary`, `RolePermissionsBoundary`), with `iam:PermissionsBoundary`.

use super::owners::{target, Kind};
use crate::ctx::Ctx;
use crate::{render, Answer};
use iamlet_iam_store::PathPrefix;
use iamlet_query::Xml;

pub(crate) async fn attach(c: &mut Ctx<'_>, kind: Kind) -> Answer {
    let owner = kind.name(c)?;
    let arn = c.req.policy_arn("PolicyArn")?;
    let keys = vec![("iam:PolicyARN".to_owned(), arn.as_str().into())];
    target(c, kind, &owner, keys, true).await?;
    c.iam
        .attach_policy(&mut c.tx, kind.owner(&owner), &arn)
        .await?;
    Ok(String::new())
}

pub(crate) async fn detach(c: &mut Ctx<'_>, kind: Kind) -> Answer {
    let owner = kind.name(c)?;
    let arn = c.req.policy_arn("PolicyArn")?;
    let keys = vec![("iam:PolicyARN".to_owned(), arn.as_str().into())];
    target(c, kind, &owner, keys, true).await?;
    c.iam
        .detach_policy(&mut c.tx, kind.owner(&owner), &arn)
        .await?;
    Ok(String::new())
}

pub(crate) async fn list(c: &mut Ctx<'_>, kind: Kind) -> Answer {
    let owner = kind.name(c)?;
    let prefix = PathPrefix::parse_policy("PathPrefix", c.req.get("PathPrefix"))?;
    let page = c.req.page()?;
    target(c, kind, &owner, Vec::new(), false).await?;
    let attached = c
        .iam
        .list_attached_policies(&mut c.tx, kind.owner(&owner), &prefix, &page)
        .await?;
    let mut x = Xml::default();
    render::attached(&mut x, &attached.items);
    render::truncation(&mut x, &attached);
    Ok(x.finish())
}

/// `Put{User,Role}PermissionsBoundary`: authorized with the new boundary as
/// `iam:PermissionsBoundary`.
pub(crate) async fn put_boundary(c: &mut Ctx<'_>, kind: Kind) -> Answer {
    let owner = kind.name(c)?;
    let arn = c.req.policy_arn("PermissionsBoundary")?;
    let keys = vec![("iam:PermissionsBoundary".to_owned(), arn.as_str().into())];
    target(c, kind, &owner, keys, false).await?;
    match kind {
        Kind::Role => c.iam.put_role_boundary(&mut c.tx, &owner, &arn).await?,
        _ => c.iam.put_user_boundary(&mut c.tx, &owner, &arn).await?,
    }
    Ok(String::new())
}

/// `Delete{User,Role}PermissionsBoundary`: authorized with the boundary being removed.
pub(crate) async fn delete_boundary(c: &mut Ctx<'_>, kind: Kind) -> Answer {
    let owner = kind.name(c)?;
    target(c, kind, &owner, Vec::new(), true).await?;
    match kind {
        Kind::Role => c.iam.delete_role_boundary(&mut c.tx, &owner).await?,
        _ => c.iam.delete_user_boundary(&mut c.tx, &owner).await?,
    }
    Ok(String::new())
}
