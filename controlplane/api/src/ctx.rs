//! One call in progress: its parameters, its transaction, its caller, and the authorization of
//! what it does, asked of the engine as AWS asks it.

use crate::action::Action;
use crate::request::Req;
use crate::IamApi;
use iamlet_auth::Caller;
use iamlet_authz::{CheckInput, Decided, Identity};
use iamlet_decision_log::DecisionRecord;
use iamlet_engine::{ContextValue, Decision};
use iamlet_iam_store::{
    EntityKind, ErrorCode, Group, Iam, IamError, IamPath, Name, Role, Tag, Tx, User,
};
use iamlet_routes::Mapped;

/// A verified caller.
#[derive(Debug)]
pub(crate) struct Authenticated {
    pub(crate) caller: Caller,
    pub(crate) access_key_id: String,
    pub(crate) region: String,
    pub(crate) identity: Identity,
}

/// An action the engine did not allow.
#[derive(Debug)]
pub(crate) struct Denied {
    /// Whether a policy denied it explicitly.
    pub(crate) explicit: bool,
    /// The `AccessDenied` answer.
    pub(crate) error: IamError,
}

/// Condition keys a call adds to its request.
pub(crate) type Keys = Vec<(String, ContextValue)>;

/// One call.
pub(crate) struct Ctx<'a> {
    pub(crate) api: &'a IamApi,
    pub(crate) iam: &'a Iam,
    pub(crate) req: &'a Req,
    pub(crate) tx: Tx,
    pub(crate) caller: &'a Authenticated,
    pub(crate) input: &'a CheckInput,
    pub(crate) action: Action,
    pub(crate) rec: &'a mut DecisionRecord,
    /// A change-feed read to make once the transaction has ended (`WatchChanges`).
    pub(crate) watch: Option<crate::handlers::Watch>,
}

/// `aws:RequestTag/KEY` for each tag and `aws:TagKeys`: what a call that sets tags is decided with.
pub(crate) fn request_tags(tags: &[Tag]) -> Keys {
    let mut keys: Keys = tags
        .iter()
        .map(|t| (format!("aws:RequestTag/{}", t.key), t.value.as_str().into()))
        .collect();
    if !tags.is_empty() {
        keys.push((
            "aws:TagKeys".to_owned(),
            ContextValue::multi(tags.iter().map(|t| t.key.clone()).collect()),
        ));
    }
    keys
}

/// `aws:TagKeys` for the keys an `Untag*` call removes.
pub(crate) fn tag_keys(keys: &[String]) -> Keys {
    vec![("aws:TagKeys".to_owned(), ContextValue::multi(keys.to_vec()))]
}

/// `aws:ResourceTag/KEY` and `iam:ResourceTag/KEY` for an existing user's or role's tags.
pub(crate) fn resource_tags(tags: &[Tag]) -> Keys {
    tags.iter()
        .flat_map(|t| {
            [
                (
                    format!("aws:ResourceTag/{}", t.key),
                    t.value.as_str().into(),
                ),
                (
                    format!("iam:ResourceTag/{}", t.key),
                    t.value.as_str().into(),
                ),
            ]
        })
        .collect()
}

impl Ctx<'_> {
    /// Authorizes the call's own action on a resource.
    pub(crate) async fn allow(&mut self, resource: &str, keys: Keys) -> Result<(), IamError> {
        let action = self.action.iam_action();
        self.allow_action(&action, resource, keys).await
    }

    /// Authorizes an action on a resource: the engine decides with the caller's policies (and
    /// boundary, SCPs, session policy), the request's keys and the call's; anything but Allow is
    /// `AccessDenied` in AWS's words.
    pub(crate) async fn allow_action(
        &mut self,
        action: &str,
        resource: &str,
        keys: Keys,
    ) -> Result<(), IamError> {
        self.verdict(action, resource, keys)
            .await?
            .map_err(|denied| denied.error)
    }

    /// The engine's verdict on an action: `Ok(Ok(()))` allowed, `Ok(Err(_))` denied (explicitly or
    /// not: what AWS grants beyond policies, such as the password policy's
    /// `AllowUsersToChangePassword`, may still allow an implicit deny), `Err` when it could not
    /// decide.
    pub(crate) async fn verdict(
        &mut self,
        action: &str,
        resource: &str,
        keys: Keys,
    ) -> Result<Result<(), Denied>, IamError> {
        self.rec.resource = Some(resource.to_owned());
        let mapped = Mapped {
            action: action.to_owned(),
            resource: resource.to_owned(),
            resource_account: Some(self.iam.account_id().to_owned()),
            context: Vec::new(),
        };
        let identity = &self.caller.identity;
        let mut context = self.api.authz.context(self.input, identity, &mapped);
        for (k, v) in keys {
            context.insert(&k, v);
        }
        // IAM is global: its calls are made in us-east-1 whatever region signed them.
        context.insert("aws:RequestedRegion", "us-east-1");
        let verdict = self
            .api
            .authz
            .decide(&self.api.store, identity, &mapped, context)
            .await;
        let (because, explicit) = match verdict {
            Ok(Decided::Engine(v)) => {
                if let Some(d) = &v.deciding {
                    d.note(self.rec);
                }
                self.rec.decision = v.decision.to_string();
                match v.decision {
                    Decision::Allow => {
                        self.rec.reason = format!("{action} on {resource} is allowed");
                        return Ok(Ok(()));
                    }
                    Decision::ExplicitDeny => (
                        "with an explicit deny in an identity-based policy".to_owned(),
                        true,
                    ),
                    Decision::ImplicitDeny => (
                        format!("because no identity-based policy allows the {action} action"),
                        false,
                    ),
                }
            }
            Ok(Decided::UnknownPrincipal(message)) => {
                self.rec.decision = "ImplicitDeny".to_owned();
                self.rec.reason = message;
                (
                    format!("because no identity-based policy allows the {action} action"),
                    false,
                )
            }
            Err(f) => {
                self.rec.decision = "Error".to_owned();
                return Err(IamError::service(format!(
                    "the call could not be authorized: {}",
                    f.message
                )));
            }
        };
        Ok(Err(Denied {
            explicit,
            error: IamError::new(
                ErrorCode::AccessDenied,
                format!(
                    "User: {} is not authorized to perform: {action} on resource: {resource} {because}",
                    identity.principal
                ),
            ),
        }))
    }

    /// The IAM user the call is about: `UserName`, or the caller's own user when it is absent (as
    /// AWS does for `GetUser`, `ListAccessKeys`, …). `None` for a root caller without `UserName`.
    pub(crate) fn user_param_or_caller(&self, param: &str) -> Result<Option<Name>, IamError> {
        if let Some(n) = self.req.opt_name(param, iamlet_iam_store::NameKind::User)? {
            return Ok(Some(n));
        }
        match self.caller.caller.user_arn() {
            Some(arn) if !arn.ends_with(":root") => {
                let name = arn.rsplit('/').next().unwrap_or_default();
                Name::parse(param, name, iamlet_iam_store::NameKind::User).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Looks a user up and authorizes the call on it (its ARN with its path, and its tags); a user
    /// that does not exist is authorized on `user/NAME` and then is `NoSuchEntity`, so a caller who
    /// may not learn of users cannot tell which exist.
    pub(crate) async fn target_user(&mut self, name: &Name, keys: Keys) -> Result<User, IamError> {
        let found = self.iam.find_user(&mut self.tx, name).await?;
        let (arn, keys) = match &found {
            Some(u) => {
                let tags = self
                    .iam
                    .tags_of(&mut self.tx, EntityKind::User, &u.id)
                    .await?;
                (u.arn.clone(), [keys, resource_tags(&tags)].concat())
            }
            None => (
                self.iam
                    .arn(EntityKind::User, &IamPath::root(), name.as_str()),
                keys,
            ),
        };
        self.allow(&arn, keys).await?;
        found.ok_or_else(|| {
            IamError::no_such_entity(format!("The user with name {name} cannot be found."))
        })
    }

    /// Looks a group up and authorizes the call on it.
    pub(crate) async fn target_group(&mut self, name: &Name) -> Result<Group, IamError> {
        self.target_group_with(name, Vec::new()).await
    }

    /// Looks a group up and authorizes the call on it with the call's condition keys.
    pub(crate) async fn target_group_with(
        &mut self,
        name: &Name,
        keys: Keys,
    ) -> Result<Group, IamError> {
        let found = self.iam.find_group(&mut self.tx, name).await?;
        let arn = match &found {
            Some(g) => g.arn.clone(),
            None => self
                .iam
                .arn(EntityKind::Group, &IamPath::root(), name.as_str()),
        };
        self.allow(&arn, keys).await?;
        found.ok_or_else(|| {
            IamError::no_such_entity(format!("The group with name {name} cannot be found."))
        })
    }

    /// Looks a role up and authorizes the call on it (its ARN and tags).
    pub(crate) async fn target_role(&mut self, name: &Name, keys: Keys) -> Result<Role, IamError> {
        let found = self.iam.find_role(&mut self.tx, name).await?;
        let (arn, keys) = match &found {
            Some(r) => {
                let tags = self
                    .iam
                    .tags_of(&mut self.tx, EntityKind::Role, &r.id)
                    .await?;
                (r.arn.clone(), [keys, resource_tags(&tags)].concat())
            }
            None => (
                self.iam
                    .arn(EntityKind::Role, &IamPath::root(), name.as_str()),
                keys,
            ),
        };
        self.allow(&arn, keys).await?;
        found.ok_or_else(|| {
            IamError::no_such_entity(format!("The role with name {name} cannot be found."))
        })
    }

    /// The ARN list calls are authorized on: `arn:aws:iam::ACCOUNT:{kind}{PathPrefix or /}`.
    pub(crate) fn list_arn(&self, kind: EntityKind, prefix: Option<&str>) -> String {
        format!(
            "arn:aws:iam::{}:{}{}",
            self.iam.account_id(),
            kind.as_str(),
            prefix.unwrap_or("/")
        )
    }
}
