//! SAML 2.0 identity providers: `CreateSAMLProvider`, `UpdateSAMLProvider`, `GetSAMLProvider`,
//! `ListSAMLProviders`, `DeleteSAMLProvider`, `TagSAMLProvider`, `UntagSAMLProvider`,
//! `ListSAMLProviderTags`. Each is authorized on the provider's ARN (with its tags as
//! `aws:ResourceTag/*` when it exists) before its existence is revealed. The metadata document is
//! read at every write: its entityID and signing certificates are what STS checks assertions with.

use crate::ctx::{request_tags, resource_tags, tag_keys, Ctx, Keys};
use crate::{render, Answer};
use iamlet_iam_store::saml::{no_such_provider, parse_name};
use iamlet_iam_store::{iso8601, EntityKind, IamError, SamlMetadataDocument, SamlProvider};
use iamlet_query::Xml;

/// Reads `SAMLProviderArn`, authorizes the call on it and says whether it exists.
async fn target(c: &mut Ctx<'_>, keys: Keys) -> Result<(String, Option<SamlProvider>), IamError> {
    let arn = c.iam.parse_saml_arn(c.req.required("SAMLProviderArn")?)?;
    let found = c.iam.find_saml_provider(&mut c.tx, &arn).await?;
    let keys = match &found {
        Some(p) => {
            let tags = c
                .iam
                .tags_of(&mut c.tx, EntityKind::SamlProvider, &p.arn)
                .await?;
            [keys, resource_tags(&tags)].concat()
        }
        None => keys,
    };
    c.allow(&arn, keys).await?;
    Ok((arn, found))
}

/// Like [`target`], for calls on a provider that must exist.
async fn existing(c: &mut Ctx<'_>, keys: Keys) -> Result<SamlProvider, IamError> {
    let (arn, found) = target(c, keys).await?;
    found.ok_or_else(|| no_such_provider(&arn))
}

/// Encrypted assertions (a private key to decrypt them) are not served: say so rather than ignore.
fn refuse_encryption(c: &Ctx<'_>) -> Result<(), IamError> {
    for p in [
        "AssertionEncryptionMode",
        "AddPrivateKey",
        "RemovePrivateKey",
    ] {
        if c.req.get(p).is_some() {
            return Err(IamError::invalid_input(format!(
                "{p}: encrypted SAML assertions are not supported by Iamlet; send signed, unencrypted assertions"
            )));
        }
    }
    Ok(())
}

pub(crate) async fn create(c: &mut Ctx<'_>) -> Answer {
    let name = parse_name(c.req.required("Name")?)?;
    let document = SamlMetadataDocument::parse(c.req.required("SAMLMetadataDocument")?)?;
    refuse_encryption(c)?;
    let tags = c.req.tags()?;
    let arn = c.iam.saml_arn(&name);
    let keys = request_tags(&tags);
    c.allow(&arn, keys.clone()).await?;
    if !tags.is_empty() {
        c.allow_action("iam:TagSAMLProvider", &arn, keys).await?;
    }
    let p = c
        .iam
        .create_saml_provider(&mut c.tx, &name, &document, &tags)
        .await?;
    let mut x = Xml::default();
    x.text("SAMLProviderArn", &p.arn);
    if !p.tags.is_empty() {
        render::tags(&mut x, &p.tags);
    }
    Ok(x.finish())
}

pub(crate) async fn update(c: &mut Ctx<'_>) -> Answer {
    refuse_encryption(c)?;
    let document = match c.req.get("SAMLMetadataDocument") {
        Some(d) => Some(SamlMetadataDocument::parse(d)?),
        None => None,
    };
    let p = existing(c, Vec::new()).await?;
    if let Some(document) = &document {
        c.iam
            .update_saml_provider(&mut c.tx, &p.arn, document)
            .await?;
    }
    let mut x = Xml::default();
    x.text("SAMLProviderArn", &p.arn);
    Ok(x.finish())
}

pub(crate) async fn get(c: &mut Ctx<'_>) -> Answer {
    let p = existing(c, Vec::new()).await?;
    let p = c.iam.get_saml_provider(&mut c.tx, &p.arn).await?;
    let mut x = Xml::default();
    x.text("SAMLMetadataDocument", &p.metadata);
    x.text("CreateDate", &iso8601(p.created));
    if let Some(v) = p.valid_until {
        x.text("ValidUntil", &iso8601(v));
    }
    render::tags(&mut x, &p.tags);
    Ok(x.finish())
}

pub(crate) async fn list(c: &mut Ctx<'_>) -> Answer {
    c.allow("*", Vec::new()).await?;
    let providers = c.iam.list_saml_providers(&mut c.tx).await?;
    let mut x = Xml::default();
    x.list("SAMLProviderList", &providers, |x, p| {
        x.text("Arn", &p.arn);
        if let Some(v) = p.valid_until {
            x.text("ValidUntil", &iso8601(v));
        }
        x.text("CreateDate", &iso8601(p.created));
    });
    Ok(x.finish())
}

pub(crate) async fn delete(c: &mut Ctx<'_>) -> Answer {
    let p = existing(c, Vec::new()).await?;
    c.iam.delete_saml_provider(&mut c.tx, &p.arn).await?;
    Ok(String::new())
}

pub(crate) async fn tag(c: &mut Ctx<'_>) -> Answer {
    let tags = c.req.tags()?;
    if tags.is_empty() {
        return Err(iamlet_iam_store::names::missing("Tags"));
    }
    let p = existing(c, request_tags(&tags)).await?;
    c.iam.tag_saml_provider(&mut c.tx, &p.arn, &tags).await?;
    Ok(String::new())
}

pub(crate) async fn untag(c: &mut Ctx<'_>) -> Answer {
    let keys = c.req.tag_keys()?;
    let p = existing(c, tag_keys(&keys)).await?;
    c.iam.untag_saml_provider(&mut c.tx, &p.arn, &keys).await?;
    Ok(String::new())
}

pub(crate) async fn list_tags(c: &mut Ctx<'_>) -> Answer {
    let page = c.req.page()?;
    let p = existing(c, Vec::new()).await?;
    let tags = c
        .iam
        .list_saml_provider_tags(&mut c.tx, &p.arn, &page)
        .await?;
    let mut x = Xml::default();
    render::tags(&mut x, &tags.items);
    render::truncation(&mut x, &tags);
    Ok(x.finish())
}
