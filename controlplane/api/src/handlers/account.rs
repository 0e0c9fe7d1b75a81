//! The account: `GetAccountSummary`, `CreateAccountAlias`, `DeleteAccountAlias`,
//! `ListAccountAliases`, `GetAccountAuthorizationDetails`. None acts on a resource of its own: each
//! is authorized on `*`, as AWS's service authorization reference lists them.

use crate::ctx::Ctx;
use crate::{render, Answer};
use iamlet_iam_store::export::DetailsFilter;
use iamlet_iam_store::parse_alias;
use iamlet_query::Xml;

pub(crate) async fn summary(c: &mut Ctx<'_>) -> Answer {
    c.allow("*", Vec::new()).await?;
    let summary = c.iam.account_summary(&mut c.tx).await?;
    let mut x = Xml::default();
    x.open("SummaryMap");
    for (key, value) in summary {
        x.open("entry")
            .text("key", key)
            .number("value", value)
            .close("entry");
    }
    x.close("SummaryMap");
    Ok(x.finish())
}

pub(crate) async fn create_alias(c: &mut Ctx<'_>) -> Answer {
    let alias = parse_alias("AccountAlias", c.req.required("AccountAlias")?)?;
    c.allow("*", Vec::new()).await?;
    c.iam.create_account_alias(&mut c.tx, &alias).await?;
    Ok(String::new())
}

pub(crate) async fn delete_alias(c: &mut Ctx<'_>) -> Answer {
    let alias = parse_alias("AccountAlias", c.req.required("AccountAlias")?)?;
    c.allow("*", Vec::new()).await?;
    c.iam.delete_account_alias(&mut c.tx, &alias).await?;
    Ok(String::new())
}

pub(crate) async fn list_aliases(c: &mut Ctx<'_>) -> Answer {
    let page = c.req.page()?;
    c.allow("*", Vec::new()).await?;
    let aliases = c.iam.list_account_aliases(&mut c.tx, &page).await?;
    let mut x = Xml::default();
    x.list("AccountAliases", &aliases.items, |x, a| {
        x.raw(&iamlet_query::escape(a));
    });
    render::truncation(&mut x, &aliases);
    Ok(x.finish())
}

pub(crate) async fn authorization_details(c: &mut Ctx<'_>) -> Answer {
    let filter = DetailsFilter::parse(&c.req.list("Filter")?)?;
    let page = c.req.page()?;
    c.allow("*", Vec::new()).await?;
    let found = c
        .iam
        .authorization_details(&mut c.tx, &filter, &page)
        .await?;
    let mut x = Xml::default();
    render::details(&mut x, &found.details);
    x.flag("IsTruncated", found.marker.is_some())
        .opt("Marker", found.marker.as_deref());
    Ok(x.finish())
}
