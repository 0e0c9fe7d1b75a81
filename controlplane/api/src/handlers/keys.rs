//! Access keys: `CreateAccessKey`, `ListAccessKeys`, `UpdateAccessKey`, `DeleteAccessKey`,
//! `GetAccessKeyLastUsed`. Without `UserName` a call is about the caller's own keys (the root user's
//! for a root caller), as in AWS.

use crate::ctx::Ctx;
use crate::{render, Answer};
use iamlet_auth::Caller;
use iamlet_iam_store::{
    iso8601, parse_key_id, EntityKind, IamError, IamPath, KeyOwner, KeyState, Name, NameKind,
};
use iamlet_query::Xml;

/// Whom a call without `UserName` is about.
pub(super) enum Subject {
    /// The root user (a root caller).
    Root,
    /// An IAM user.
    User(Name),
}

/// `UserName`, or the caller itself: its own user, or the root user for a root caller; callers that
/// are no user (a role's session) must name one, as AWS answers them.
pub(super) fn subject(c: &Ctx<'_>, param: &str) -> Result<Subject, IamError> {
    if let Some(n) = c.req.opt_name(param, NameKind::User)? {
        return Ok(Subject::User(n));
    }
    let caller = &c.caller.caller;
    match caller.user_arn() {
        Some(arn) if arn.ends_with(":root") => Ok(Subject::Root),
        Some(arn) if !matches!(caller, Caller::Session(s) if s.session.role_arn.is_some()) => {
            let name = arn.rsplit('/').next().unwrap_or_default();
            Name::parse(param, name, NameKind::User).map(Subject::User)
        }
        _ => Err(IamError::validation(format!(
            "Must specify {} when calling with non-User credentials",
            iamlet_query::lower_first(param)
        ))),
    }
}

/// Resolves and authorizes whose keys a call is about.
async fn owner(c: &mut Ctx<'_>) -> Result<KeyOwner, IamError> {
    match subject(c, "UserName")? {
        Subject::Root => {
            let arn = c.iam.root_arn();
            c.allow(&arn, Vec::new()).await?;
            Ok(KeyOwner::Root)
        }
        Subject::User(name) => Ok(KeyOwner::User(c.target_user(&name, Vec::new()).await?)),
    }
}

pub(crate) async fn create(c: &mut Ctx<'_>) -> Answer {
    let owner = owner(c).await?;
    let (key, secret) = c.iam.create_access_key(&mut c.tx, &owner).await?;
    let mut x = Xml::default();
    x.open("AccessKey")
        .text("UserName", &key.user_name)
        .text("AccessKeyId", &key.id)
        .text("Status", key.status.as_str())
        .text("SecretAccessKey", secret.expose())
        .text("CreateDate", &iso8601(key.created))
        .close("AccessKey");
    Ok(x.finish())
}

pub(crate) async fn list(c: &mut Ctx<'_>) -> Answer {
    let page = c.req.page()?;
    let owner = owner(c).await?;
    let keys = c.iam.list_access_keys(&mut c.tx, &owner, &page).await?;
    let mut x = Xml::default();
    x.list("AccessKeyMetadata", &keys.items, |x, k| {
        x.text("UserName", &k.user_name)
            .text("AccessKeyId", &k.id)
            .text("Status", k.status.as_str())
            .text("CreateDate", &iso8601(k.created));
    });
    render::truncation(&mut x, &keys);
    Ok(x.finish())
}

pub(crate) async fn update(c: &mut Ctx<'_>) -> Answer {
    let id = parse_key_id("AccessKeyId", c.req.required("AccessKeyId")?)?;
    let status = KeyState::parse("Status", c.req.required("Status")?)?;
    let owner = owner(c).await?;
    c.iam
        .update_access_key(&mut c.tx, &owner, &id, status)
        .await?;
    Ok(String::new())
}

pub(crate) async fn delete(c: &mut Ctx<'_>) -> Answer {
    let id = parse_key_id("AccessKeyId", c.req.required("AccessKeyId")?)?;
    let owner = owner(c).await?;
    c.iam.delete_access_key(&mut c.tx, &owner, &id).await?;
    Ok(String::new())
}

/// Authorized on the key's owner (the root user's ARN for a root key); a key that does not exist
/// is authorized on every user (`user/*`), so only a caller who may ask about any user's keys
/// learns that it does not exist.
pub(crate) async fn last_used(c: &mut Ctx<'_>) -> Answer {
    let id = parse_key_id("AccessKeyId", c.req.required("AccessKeyId")?)?;
    let resource = match c.iam.access_key_owner(&mut c.tx, &id).await? {
        Some(KeyOwner::Root) => c.iam.root_arn(),
        Some(KeyOwner::User(u)) => {
            let tags = c.iam.tags_of(&mut c.tx, EntityKind::User, &u.id).await?;
            c.allow(&u.arn, crate::ctx::resource_tags(&tags)).await?;
            return last_used_answer(c, &id).await;
        }
        None => c.iam.arn(EntityKind::User, &IamPath::root(), "*"),
    };
    c.allow(&resource, Vec::new()).await?;
    last_used_answer(c, &id).await
}

async fn last_used_answer(c: &mut Ctx<'_>, id: &str) -> Answer {
    let used = c.iam.access_key_last_used(&mut c.tx, id).await?;
    let mut x = Xml::default();
    x.text("UserName", &used.user_name);
    x.open("AccessKeyLastUsed");
    if let Some(at) = used.at {
        x.text("LastUsedDate", &iso8601(at));
    }
    x.text("ServiceName", &used.service)
        .text("Region", &used.region)
        .close("AccessKeyLastUsed");
    Ok(x.finish())
}
