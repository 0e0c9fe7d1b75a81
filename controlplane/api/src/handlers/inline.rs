//! Inline policies: `Put`, `Get`, `List` and `Delete` of `UserPolicy`, `GroupPolicy` and
//! `RolePolicy`.

use super::owners::{target, Kind};
use crate::ctx::Ctx;
use crate::{render, Answer};
use iamlet_engine::PolicyType;
use iamlet_iam_store::NameKind;
use iamlet_query::Xml;

pub(crate) async fn put(c: &mut Ctx<'_>, kind: Kind) -> Answer {
    let owner = kind.name(c)?;
    let name = c.req.name("PolicyName", NameKind::Policy)?;
    let doc = c
        .req
        .policy_document("PolicyDocument", PolicyType::Identity)?;
    target(c, kind, &owner, Vec::new(), true).await?;
    c.iam
        .put_inline_policy(&mut c.tx, kind.owner(&owner), &name, &doc)
        .await?;
    Ok(String::new())
}

pub(crate) async fn get(c: &mut Ctx<'_>, kind: Kind) -> Answer {
    let owner = kind.name(c)?;
    let name = c.req.name("PolicyName", NameKind::Policy)?;
    target(c, kind, &owner, Vec::new(), false).await?;
    let p = c
        .iam
        .get_inline_policy(&mut c.tx, kind.owner(&owner), &name)
        .await?;
    let mut x = Xml::default();
    x.text(kind.param(), owner.as_str())
        .text("PolicyName", &p.name)
        .text("PolicyDocument", &render::url_encode(&p.document));
    Ok(x.finish())
}

pub(crate) async fn list(c: &mut Ctx<'_>, kind: Kind) -> Answer {
    let owner = kind.name(c)?;
    let page = c.req.page()?;
    target(c, kind, &owner, Vec::new(), false).await?;
    let names = c
        .iam
        .list_inline_policies(&mut c.tx, kind.owner(&owner), &page)
        .await?;
    let mut x = Xml::default();
    x.list("PolicyNames", &names.items, |x, n| {
        x.raw(&iamlet_query::escape(n));
    });
    render::truncation(&mut x, &names);
    Ok(x.finish())
}

pub(crate) async fn delete(c: &mut Ctx<'_>, kind: Kind) -> Answer {
    let owner = kind.name(c)?;
    let name = c.req.name("PolicyName", NameKind::Policy)?;
    target(c, kind, &owner, Vec::new(), true).await?;
    c.iam
        .delete_inline_policy(&mut c.tx, kind.owner(&owner), &name)
        .await?;
    Ok(String::new())
}
