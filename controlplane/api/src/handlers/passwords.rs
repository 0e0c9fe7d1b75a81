//! Console passwords: `CreateLoginProfile`, `GetLoginProfile`, `UpdateLoginProfile`,
//! `DeleteLoginProfile`, `ChangePassword`, and the account password policy
//! (`UpdateAccountPasswordPolicy`, `GetAccountPasswordPolicy`, `DeleteAccountPasswordPolicy`).
//!
//! AWS's rule for a user's own password (IAM User Guide, "Permit IAM users to change their own
//! passwords"): the password policy's `AllowUsersToChangePassword` gives every IAM user
//! `iam:ChangePassword` on its own user and `iam:GetAccountPasswordPolicy`; without it a user needs
//! a policy that allows them. So both are decided by the engine first, and an implicit deny becomes
//! an allow for an IAM user acting as itself when the setting is on; an explicit deny stays a deny.

use super::keys::{subject, Subject};
use crate::ctx::{resource_tags, Ctx};
use crate::Answer;
use iamlet_engine::password::PasswordPolicy;
use iamlet_iam_store::names::missing;
use iamlet_iam_store::{
    iso8601, parse_password, EntityKind, ErrorCode, IamError, LoginProfile, Name, NameKind,
    UpdateLoginProfile,
};
use iamlet_query::Xml;

/// The user a login-profile call is about: `UserName`, or the caller's own user. The root user has
/// no login profile to manage through this API.
async fn profile_user(c: &mut Ctx<'_>) -> Result<Name, IamError> {
    match subject(c, "UserName")? {
        Subject::User(name) => {
            c.target_user(&name, Vec::new()).await?;
            Ok(name)
        }
        Subject::Root => Err(missing("UserName")),
    }
}

fn profile_xml(p: &LoginProfile) -> String {
    let mut x = Xml::default();
    x.open("LoginProfile")
        .text("UserName", &p.user_name)
        .text("CreateDate", &iso8601(p.created))
        .flag("PasswordResetRequired", p.reset_required)
        .close("LoginProfile");
    x.finish()
}

pub(crate) async fn create_profile(c: &mut Ctx<'_>) -> Answer {
    let password = parse_password("Password", c.req.required("Password")?)?;
    let reset = c.req.bool("PasswordResetRequired")?.unwrap_or(false);
    let name = profile_user(c).await?;
    let profile = c
        .iam
        .create_login_profile(&mut c.tx, &name, &password, reset)
        .await?;
    Ok(profile_xml(&profile))
}

pub(crate) async fn get_profile(c: &mut Ctx<'_>) -> Answer {
    let name = profile_user(c).await?;
    let profile = c.iam.get_login_profile(&mut c.tx, &name).await?;
    Ok(profile_xml(&profile))
}

pub(crate) async fn update_profile(c: &mut Ctx<'_>) -> Answer {
    let name = c.req.name("UserName", NameKind::User)?;
    let r = UpdateLoginProfile {
        password: c
            .req
            .get("Password")
            .map(|p| parse_password("Password", p))
            .transpose()?,
        reset_required: c.req.bool("PasswordResetRequired")?,
    };
    c.target_user(&name, Vec::new()).await?;
    c.iam.update_login_profile(&mut c.tx, &name, &r).await?;
    Ok(String::new())
}

pub(crate) async fn delete_profile(c: &mut Ctx<'_>) -> Answer {
    let name = profile_user(c).await?;
    c.iam.delete_login_profile(&mut c.tx, &name).await?;
    Ok(String::new())
}

/// Whether the account's policy lets every IAM user change its own password.
async fn users_may_change(c: &mut Ctx<'_>) -> Result<bool, IamError> {
    Ok(c.iam
        .password_policy(&mut c.tx)
        .await?
        .is_some_and(|p| p.allow_users_to_change_password))
}

/// Decides an action as AWS does under `AllowUsersToChangePassword` (see the module's comment).
async fn allow_own(
    c: &mut Ctx<'_>,
    action: &str,
    resource: &str,
    keys: crate::ctx::Keys,
) -> Result<(), IamError> {
    match c.verdict(action, resource, keys).await? {
        Ok(()) => Ok(()),
        Err(denied) if !denied.explicit && users_may_change(c).await? => {
            c.rec.decision = "Allow".to_owned();
            c.rec.reason = format!(
                "{action} on {resource} is allowed by the account password policy's AllowUsersToChangePassword"
            );
            Ok(())
        }
        Err(denied) => Err(denied.error),
    }
}

/// The IAM user calling, if the caller is one acting as itself (its key, or its own session).
fn calling_user(c: &Ctx<'_>) -> Option<Name> {
    let caller = &c.caller.caller;
    if caller.session().is_some_and(|s| s.role_arn.is_some()) {
        return None;
    }
    let arn = caller.user_arn().filter(|a| !a.ends_with(":root"))?;
    Name::parse("UserName", arn.rsplit('/').next()?, NameKind::User).ok()
}

pub(crate) async fn change(c: &mut Ctx<'_>) -> Answer {
    let old = parse_password("OldPassword", c.req.required("OldPassword")?)?;
    let new = parse_password("NewPassword", c.req.required("NewPassword")?)?;
    let Some(name) = calling_user(c) else {
        return Err(IamError::new(
            ErrorCode::InvalidUserType,
            "ChangePassword changes the password of the IAM user calling it; the root user and roles have none",
        ));
    };
    let Some(user) = c.iam.find_user(&mut c.tx, &name).await? else {
        return Err(IamError::no_such_entity(format!(
            "The user with name {name} cannot be found."
        )));
    };
    let tags = c.iam.tags_of(&mut c.tx, EntityKind::User, &user.id).await?;
    allow_own(c, "iam:ChangePassword", &user.arn, resource_tags(&tags)).await?;
    c.iam.change_password(&mut c.tx, &name, &old, &new).await?;
    Ok(String::new())
}

pub(crate) async fn update_policy(c: &mut Ctx<'_>) -> Answer {
    let int = |param: &str, min: i64, max: i64| -> Result<Option<u32>, IamError> {
        Ok(c.req
            .int(param, min, max)?
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX)))
    };
    let max_age = int("MaxPasswordAge", 1, 1095)?;
    // Every field not given takes its default, as AWS's UpdateAccountPasswordPolicy does.
    let policy = PasswordPolicy {
        minimum_password_length: Some(int("MinimumPasswordLength", 6, 128)?.unwrap_or(6)),
        require_symbols: c.req.bool("RequireSymbols")?.unwrap_or(false),
        require_numbers: c.req.bool("RequireNumbers")?.unwrap_or(false),
        require_uppercase_characters: c.req.bool("RequireUppercaseCharacters")?.unwrap_or(false),
        require_lowercase_characters: c.req.bool("RequireLowercaseCharacters")?.unwrap_or(false),
        allow_users_to_change_password: c.req.bool("AllowUsersToChangePassword")?.unwrap_or(false),
        expire_passwords: max_age.is_some(),
        max_password_age: max_age,
        password_reuse_prevention: int("PasswordReusePrevention", 1, 24)?,
        hard_expiry: c.req.bool("HardExpiry")?,
    };
    c.allow("*", Vec::new()).await?;
    c.iam
        .update_account_password_policy(&mut c.tx, &policy)
        .await?;
    Ok(String::new())
}

pub(crate) async fn get_policy(c: &mut Ctx<'_>) -> Answer {
    if calling_user(c).is_some() {
        allow_own(c, "iam:GetAccountPasswordPolicy", "*", Vec::new()).await?;
    } else {
        c.allow("*", Vec::new()).await?;
    }
    let p = c.iam.get_account_password_policy(&mut c.tx).await?;
    let mut x = Xml::default();
    x.open("PasswordPolicy")
        .number(
            "MinimumPasswordLength",
            p.minimum_password_length.unwrap_or(6),
        )
        .flag("RequireSymbols", p.require_symbols)
        .flag("RequireNumbers", p.require_numbers)
        .flag("RequireUppercaseCharacters", p.require_uppercase_characters)
        .flag("RequireLowercaseCharacters", p.require_lowercase_characters)
        .flag(
            "AllowUsersToChangePassword",
            p.allow_users_to_change_password,
        )
        .flag("ExpirePasswords", p.expire_passwords);
    if let Some(age) = p.max_password_age {
        x.number("MaxPasswordAge", age);
    }
    if let Some(n) = p.password_reuse_prevention {
        x.number("PasswordReusePrevention", n);
    }
    if let Some(h) = p.hard_expiry {
        x.flag("HardExpiry", h);
    }
    x.close("PasswordPolicy");
    Ok(x.finish())
}

pub(crate) async fn delete_policy(c: &mut Ctx<'_>) -> Answer {
    c.allow("*", Vec::new()).await?;
    c.iam.delete_account_password_policy(&mut c.tx).await?;
    Ok(String::new())
}
