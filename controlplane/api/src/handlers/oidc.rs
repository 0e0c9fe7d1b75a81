//! OpenID Connect identity providers: `CreateOpenIDConnectProvider`, `GetOpenIDConnectProvider`,
//! `ListOpenIDConnectProviders`, `DeleteOpenIDConnectProvider`, `AddClientIDToOpenIDConnectProvider`,
//! `RemoveClientIDFromOpenIDConnectProvider`, `UpdateOpenIDConnectProviderThumbprint`,
//! `TagOpenIDConnectProvider`, `UntagOpenIDConnectProvider`, `ListOpenIDConnectProviderTags`.
//! Each is authorized on the provider's ARN (with its tags as `aws:ResourceTag/*` when it exists)
//! before its existence is revealed.

use crate::ctx::{request_tags, resource_tags, tag_keys, Ctx, Keys};
use crate::{render, Answer};
use iamlet_iam_store::oidc::{parse_client_id, parse_client_ids, parse_thumbprints};
use iamlet_iam_store::{iso8601, CreateOidcProvider, EntityKind, IamError, OidcProvider, OidcUrl};
use iamlet_query::{escape, Xml};

/// Reads `OpenIDConnectProviderArn`, authorizes the call on it and says whether it exists.
async fn target(c: &mut Ctx<'_>, keys: Keys) -> Result<(String, Option<OidcProvider>), IamError> {
    let arn = c
        .iam
        .parse_oidc_arn(c.req.required("OpenIDConnectProviderArn")?)?;
    let found = c.iam.find_oidc_provider(&mut c.tx, &arn).await?;
    let keys = match &found {
        Some(p) => {
            let tags = c
                .iam
                .tags_of(&mut c.tx, EntityKind::OidcProvider, &p.arn)
                .await?;
            [keys, resource_tags(&tags)].concat()
        }
        None => keys,
    };
    c.allow(&arn, keys).await?;
    Ok((arn, found))
}

/// Like [`target`], for calls on a provider that must exist.
async fn existing(c: &mut Ctx<'_>, keys: Keys) -> Result<OidcProvider, IamError> {
    let (arn, found) = target(c, keys).await?;
    found.ok_or_else(|| iamlet_iam_store::oidc::no_such_provider(&arn))
}

pub(crate) async fn create(c: &mut Ctx<'_>) -> Answer {
    let url = OidcUrl::parse(c.req.required("Url")?)?;
    let client_ids = parse_client_ids(&c.req.list("ClientIDList")?)?;
    let thumbprints = parse_thumbprints(&c.req.list("ThumbprintList")?)?;
    let r = CreateOidcProvider {
        url,
        client_ids,
        thumbprints,
        tags: c.req.tags()?,
    };
    let arn = c.iam.oidc_arn(&r.url);
    let keys = request_tags(&r.tags);
    c.allow(&arn, keys.clone()).await?;
    if !r.tags.is_empty() {
        c.allow_action("iam:TagOpenIDConnectProvider", &arn, keys)
            .await?;
    }
    let p = c.iam.create_oidc_provider(&mut c.tx, &r).await?;
    let mut x = Xml::default();
    x.text("OpenIDConnectProviderArn", &p.arn);
    if !p.tags.is_empty() {
        render::tags(&mut x, &p.tags);
    }
    Ok(x.finish())
}

pub(crate) async fn get(c: &mut Ctx<'_>) -> Answer {
    let p = existing(c, Vec::new()).await?;
    let p = c.iam.get_oidc_provider(&mut c.tx, &p.arn).await?;
    let mut x = Xml::default();
    x.text("Url", &p.url);
    x.list("ClientIDList", &p.client_ids, |x, id| {
        x.raw(&escape(id));
    });
    x.list("ThumbprintList", &p.thumbprints, |x, t| {
        x.raw(&escape(t));
    });
    x.text("CreateDate", &iso8601(p.created));
    render::tags(&mut x, &p.tags);
    Ok(x.finish())
}

pub(crate) async fn list(c: &mut Ctx<'_>) -> Answer {
    c.allow("*", Vec::new()).await?;
    let providers = c.iam.list_oidc_providers(&mut c.tx).await?;
    let mut x = Xml::default();
    x.list("OpenIDConnectProviderList", &providers, |x, p| {
        x.text("Arn", &p.arn);
    });
    Ok(x.finish())
}

pub(crate) async fn delete(c: &mut Ctx<'_>) -> Answer {
    let (arn, _) = target(c, Vec::new()).await?;
    c.iam.delete_oidc_provider(&mut c.tx, &arn).await?;
    Ok(String::new())
}

pub(crate) async fn add_client_id(c: &mut Ctx<'_>) -> Answer {
    let id = parse_client_id("ClientID", c.req.required("ClientID")?)?;
    let p = existing(c, Vec::new()).await?;
    c.iam.add_oidc_client_id(&mut c.tx, &p.arn, &id).await?;
    Ok(String::new())
}

pub(crate) async fn remove_client_id(c: &mut Ctx<'_>) -> Answer {
    let id = parse_client_id("ClientID", c.req.required("ClientID")?)?;
    let p = existing(c, Vec::new()).await?;
    c.iam.remove_oidc_client_id(&mut c.tx, &p.arn, &id).await?;
    Ok(String::new())
}

pub(crate) async fn update_thumbprints(c: &mut Ctx<'_>) -> Answer {
    // An empty list is sent as `ThumbprintList=`; no parameter at all is a missing one.
    if c.req.get("ThumbprintList").is_none() && c.req.0.member_count("ThumbprintList") == 0 {
        return Err(iamlet_iam_store::names::missing("ThumbprintList"));
    }
    let thumbprints = parse_thumbprints(&c.req.list("ThumbprintList")?)?;
    let p = existing(c, Vec::new()).await?;
    c.iam
        .update_oidc_thumbprints(&mut c.tx, &p.arn, &thumbprints)
        .await?;
    Ok(String::new())
}

pub(crate) async fn tag(c: &mut Ctx<'_>) -> Answer {
    let tags = c.req.tags()?;
    if tags.is_empty() {
        return Err(iamlet_iam_store::names::missing("Tags"));
    }
    let p = existing(c, request_tags(&tags)).await?;
    c.iam.tag_oidc_provider(&mut c.tx, &p.arn, &tags).await?;
    Ok(String::new())
}

pub(crate) async fn untag(c: &mut Ctx<'_>) -> Answer {
    let keys = c.req.tag_keys()?;
    let p = existing(c, tag_keys(&keys)).await?;
    c.iam.untag_oidc_provider(&mut c.tx, &p.arn, &keys).await?;
    Ok(String::new())
}

pub(crate) async fn list_tags(c: &mut Ctx<'_>) -> Answer {
    let page = c.req.page()?;
    let p = existing(c, Vec::new()).await?;
    let tags = c
        .iam
        .list_oidc_provider_tags(&mut c.tx, &p.arn, &page)
        .await?;
    let mut x = Xml::default();
    render::tags(&mut x, &tags.items);
    render::truncation(&mut x, &tags);
    Ok(x.finish())
}
