//! The question put to the engine: who (principal), does what (action), to what (resource), in what
//! circumstances (context).

use crate::arn::{Arn, ResourceName};
use crate::context::{Context, ContextMap, ContextValue};
use crate::error::RequestError;
use crate::policy::Service;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::sync::OnceLock;

/// What kind of principal makes the request; the evaluation flow differs per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// The account's root user (`arn:aws:iam::ACCOUNT:root` or a bare account id).
    Root,
    /// An IAM user.
    User,
    /// An IAM role (used directly; requests usually come from its sessions).
    Role,
    /// A role session: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    AssumedRole,
    /// A federated user session from `GetFederationToken`: `arn:aws:sts::ACCOUNT:federated-user/NAME`.
    FederatedUser,
    /// An AWS service principal such as `ec2.amazonaws.com`.
    Service,
    /// A caller federated by an identity provider, before it has a session: named by the
    /// provider's ARN (`arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`, `…:saml-provider/NAME`).
    /// Only a resource-based policy (a role's trust policy, `Principal: {"Federated": ARN}`) can
    /// grant it anything.
    WebIdentity,
    /// An unauthenticated caller.
    Anonymous,
}

impl PrincipalKind {
    /// The value AWS gives `aws:PrincipalType`.
    pub fn aws_principal_type(self) -> &'static str {
        match self {
            PrincipalKind::Root => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::Role | PrincipalKind::AssumedRole => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::Service => "Service",
            PrincipalKind::WebIdentity => "WebIdentityUser",
            PrincipalKind::Anonymous => "Anonymous",
        }
    }

    /// Whether only resource-based policies can grant the principal anything (it has no identity
    /// policies, and no account's SCPs govern it): services, federated web identities, anonymous.
    pub fn only_resource_policies(self) -> bool {
        matches!(
            self,
            PrincipalKind::Service | PrincipalKind::WebIdentity | PrincipalKind::Anonymous
        )
    }

    /// Whether the principal is a session (session policies apply).
    pub fn is_session(self) -> bool {
        matches!(
            self,
            PrincipalKind::AssumedRole | PrincipalKind::FederatedUser
        )
    }
}

/// A principal as its text names it, read without copying: what [`Principal::parse`] reads, for
/// callers that only need its kind and parts (a cache key, on every check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrincipalName<'a> {
    text: &'a str,
    kind: PrincipalKind,
    account: Option<&'a str>,
    partition: &'a str,
    /// User name, role name, or federated user name.
    name: Option<&'a str>,
}

impl<'a> PrincipalName<'a> {
    /// Reads a principal: an IAM user, role, root or account id, assumed-role session, federated
    /// user session, a service principal (`ec2.amazonaws.com`), or `anonymous`.
    pub fn parse(text: &'a str) -> Result<Self, RequestError> {
        let bad = || RequestError::Principal(text.to_owned());
        let named = |kind, account, partition, name| PrincipalName {
            text,
            kind,
            account,
            partition,
            name,
        };
        if text == "anonymous" || text == "*" {
            return Ok(named(PrincipalKind::Anonymous, None, "aws", None));
        }
        if text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(named(PrincipalKind::Root, Some(text), "aws", None));
        }
        let Some(arn) = Arn::parse(text) else {
            if !text.is_empty()
                && text.contains('.')
                && !text.contains(':')
                && !text.contains(char::is_whitespace)
            {
                return Ok(named(PrincipalKind::Service, None, "aws", Some(text)));
            }
            return Err(bad());
        };
        if arn.account.is_empty() {
            return Err(bad());
        }
        let last = |path: &'a str| path.rsplit('/').next();
        let (kind, name) = match (arn.service, arn.resource.split_once('/')) {
            ("iam", None) if arn.resource == "root" => (PrincipalKind::Root, None),
            ("iam", Some(("user", path))) if !path.is_empty() => (PrincipalKind::User, last(path)),
            ("iam", Some(("role", path))) if !path.is_empty() => (PrincipalKind::Role, last(path)),
            ("sts", Some(("assumed-role", rest))) => match rest.split_once('/') {
                Some((role, session)) if !role.is_empty() && !session.is_empty() => {
                    (PrincipalKind::AssumedRole, Some(role))
                }
                _ => return Err(bad()),
            },
            ("sts", Some(("federated-user", name))) if !name.is_empty() => {
                (PrincipalKind::FederatedUser, Some(name))
            }
            ("iam", Some(("oidc-provider" | "saml-provider", name))) if !name.is_empty() => {
                (PrincipalKind::WebIdentity, Some(name))
            }
            _ => return Err(bad()),
        };
        Ok(named(kind, Some(arn.account), arn.partition, name))
    }

    /// The kind of principal.
    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// The principal's account, if it has one.
    pub fn account(&self) -> Option<&'a str> {
        self.account
    }

    /// The principal's ARN (or service name): the text, except for an account id (its root's
    /// ARN) and `*` (`anonymous`).
    pub fn arn(&self) -> Cow<'a, str> {
        match self.kind {
            PrincipalKind::Anonymous => Cow::Borrowed("anonymous"),
            PrincipalKind::Root if !self.text.starts_with("arn:") => {
                Cow::Owned(format!("arn:aws:iam::{}:root", self.text))
            }
            _ => Cow::Borrowed(self.text),
        }
    }

    /// A role session's role ARN (derived without a path, since session ARNs do not carry it).
    pub fn session_role_arn(&self) -> Option<String> {
        match (self.kind, self.account, self.name) {
            (PrincipalKind::AssumedRole, Some(account), Some(role)) => {
                Some(format!("arn:{}:iam::{account}:role/{role}", self.partition))
            }
            _ => None,
        }
    }

    /// The principal, owned.
    pub fn to_principal(&self) -> Principal {
        Principal {
            arn: self.arn().into_owned(),
            kind: self.kind,
            account: self.account.map(str::to_owned),
            partition: self.partition.to_owned(),
            name: self.name.map(str::to_owned),
            issuer: self.session_role_arn(),
        }
    }
}

/// The principal making a request, parsed from its ARN.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Principal {
    pub(crate) arn: String,
    pub(crate) kind: PrincipalKind,
    pub(crate) account: Option<String>,
    pub(crate) partition: String,
    /// User name, role name, or federated user name.
    pub(crate) name: Option<String>,
    /// Who issued the session: for a role session its role (derived without a path, since session ARNs
    /// do not carry it), for a federated user the IAM user who called `GetFederationToken` (known only
    /// when the caller says so).
    pub(crate) issuer: Option<String>,
}

impl Principal {
    /// An IAM user of `account` who is not named: what the Policy Simulator's `SimulateCustomPolicy`
    /// evaluates identity-based policies for when no `CallerArn` is given. Its identity-based
    /// policies count as any user's, and no condition key is derived from it (`aws:username`,
    /// `aws:PrincipalArn`, `aws:PrincipalAccount` and `aws:PrincipalType` are missing unless the
    /// context gives them).
    pub fn unnamed_user(account: &str) -> Result<Self, RequestError> {
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RequestError::Principal(account.to_owned()));
        }
        Ok(Principal {
            arn: format!("arn:aws:iam::{account}:user/"),
            kind: PrincipalKind::User,
            account: Some(account.to_owned()),
            partition: "aws".into(),
            name: None,
            issuer: None,
        })
    }

    /// Whether this is an [`Principal::unnamed_user`].
    fn is_unnamed(&self) -> bool {
        self.kind == PrincipalKind::User && self.name.is_none()
    }

    /// Parses a principal: an IAM user, role, root or account id, assumed-role session, federated user
    /// session, a service principal (`ec2.amazonaws.com`), or `anonymous`.
    pub fn parse(text: &str) -> Result<Self, RequestError> {
        PrincipalName::parse(text).map(|p| p.to_principal())
    }

    /// The principal's ARN (or service name).
    pub fn arn(&self) -> &str {
        &self.arn
    }
    /// The kind of principal.
    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }
    /// The principal's account, if it has one.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// The value AWS gives `aws:PrincipalArn`: for role sessions, the role's ARN.
    pub fn principal_arn(&self) -> &str {
        match self.kind {
            PrincipalKind::AssumedRole => self.issuer.as_deref().unwrap_or(&self.arn),
            _ => &self.arn,
        }
    }

    /// The session's issuer: a role session's role, or the IAM user behind a federated user session.
    pub fn session_issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }
}

/// A request to authorize.
#[derive(Clone, Debug)]
pub struct Request {
    pub(crate) principal: Principal,
    pub(crate) action: String,
    pub(crate) action_lower: String,
    pub(crate) resource: String,
    pub(crate) resource_account: Option<String>,
    pub(crate) context: ContextMap,
    /// Keys derived from the principal and resource, lower-cased (static), worked out at the first
    /// evaluation: a request built in steps (`with_resource_account`, `with_session_issuer`) derives
    /// them once, not at every step.
    pub(crate) derived: OnceLock<Vec<(&'static str, ContextValue)>>,
}

/// The account owning a resource, as [`Request::resource_account`] decides it, from what a request
/// would be built of: the resource's ARN, the account set with it, the principal's account.
pub fn resource_account<'s>(
    resource: &'s str,
    set: Option<&'s str>,
    principal_account: Option<&'s str>,
) -> Option<&'s str> {
    resource_account_of(Arn::parse(resource).as_ref(), set, principal_account)
}

fn resource_account_of<'s>(
    arn: Option<&Arn<'s>>,
    set: Option<&'s str>,
    principal_account: Option<&'s str>,
) -> Option<&'s str> {
    match arn.map(|a| a.account).filter(|a| !a.is_empty()) {
        Some("aws") => set.or(Some("aws")),
        Some(a) => Some(a),
        None => set.or(principal_account),
    }
}

// Equality leaves out the derived keys: they follow from the other fields, and whether they were
// worked out yet must not make two requests differ.
impl PartialEq for Request {
    fn eq(&self, other: &Self) -> bool {
        self.principal == other.principal
            && self.action == other.action
            && self.resource == other.resource
            && self.resource_account == other.resource_account
            && self.context == other.context
    }
}

impl Eq for Request {}

impl Request {
    /// A request with an empty context.
    pub fn new(principal: &str, action: &str, resource: &str) -> Result<Self, RequestError> {
        Self::of(Principal::parse(principal)?, action, resource)
    }

    /// A request with an empty context, by a principal already parsed (or an
    /// [`Principal::unnamed_user`]).
    pub fn of(principal: Principal, action: &str, resource: &str) -> Result<Self, RequestError> {
        match action.split_once(':') {
            Some((svc, name)) if !svc.is_empty() && !name.is_empty() && !name.contains(':') => {}
            _ => return Err(RequestError::Action(action.to_owned())),
        }
        if resource.is_empty() {
            return Err(RequestError::Resource);
        }
        Ok(Request {
            principal,
            action: action.to_owned(),
            action_lower: action.to_ascii_lowercase(),
            resource: resource.to_owned(),
            resource_account: None,
            context: ContextMap::new(),
            derived: OnceLock::new(),
        })
    }

    /// Sets the account that owns the resource, for ARNs that do not carry one (S3).
    pub fn with_resource_account(mut self, account: impl Into<String>) -> Self {
        let account = account.into();
        self.resource_account = (!account.is_empty()).then_some(account);
        self.derived = OnceLock::new();
        self
    }

    /// Names the identity that issued the principal's session: the IAM user who created a federated
    /// user session, or a role session's role ARN with its path. Other principals ignore it.
    pub fn with_session_issuer(mut self, issuer: impl Into<String>) -> Self {
        if self.principal.kind.is_session() {
            self.principal.issuer = Some(issuer.into());
            self.derived = OnceLock::new();
        }
        self
    }

    /// Sets the condition keys of the request.
    pub fn with_context(mut self, context: ContextMap) -> Self {
        self.context = context;
        self
    }

    /// The principal.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
    /// The action as given.
    pub fn action(&self) -> &str {
        &self.action
    }
    /// The resource as given.
    pub fn resource(&self) -> &str {
        &self.resource
    }
    /// The condition keys given with the request.
    pub fn context(&self) -> &ContextMap {
        &self.context
    }

    /// The condition keys given with the request, to add to in place (a server adding what it
    /// knows of the resource without copying the rest).
    pub fn context_mut(&mut self) -> &mut ContextMap {
        &mut self.context
    }

    /// The account owning the resource: from its ARN, else as set, else the principal's. An ARN
    /// in account `aws` (AWS's own resources: AWS managed policies, `arn:aws:iam::aws:policy/…`)
    /// counts as the account set, when one is: IAM decides calls on an AWS managed policy in the
    /// account they are made in, on the caller's policies alone.
    pub fn resource_account(&self) -> Option<&str> {
        self.resource_account_of(Arn::parse(&self.resource).as_ref())
    }

    /// [`Request::resource_account`] with the resource's ARN already parsed.
    fn resource_account_of<'s>(&'s self, arn: Option<&Arn<'s>>) -> Option<&'s str> {
        resource_account_of(
            arn,
            self.resource_account.as_deref(),
            self.principal.account.as_deref(),
        )
    }

    /// Whether the principal and the resource are in different accounts.
    pub fn is_cross_account(&self) -> bool {
        self.is_cross_account_of(Arn::parse(&self.resource).as_ref())
    }

    fn is_cross_account_of(&self, arn: Option<&Arn<'_>>) -> bool {
        match (
            self.principal.account.as_deref(),
            self.resource_account_of(arn),
        ) {
            (Some(p), Some(r)) => p != r,
            _ => false,
        }
    }

    pub(crate) fn ctx(&self) -> Context<'_> {
        Context::new(&self.context, self.derived.get_or_init(|| self.derive()))
    }

    /// Keys AWS derives from the request itself, used when the context does not give them.
    fn derive(&self) -> Vec<(&'static str, ContextValue)> {
        let p = &self.principal;
        let mut d: Vec<(&'static str, ContextValue)> = Vec::with_capacity(7);
        let is_service = matches!(p.kind, PrincipalKind::Service | PrincipalKind::WebIdentity);
        let unnamed = p.is_unnamed();
        if !is_service && p.kind != PrincipalKind::Anonymous && !unnamed {
            d.push(("aws:principalarn", p.principal_arn().into()));
            if let Some(acct) = &p.account {
                d.push(("aws:principalaccount", acct.as_str().into()));
            }
        }
        if !unnamed {
            d.push(("aws:principaltype", p.kind.aws_principal_type().into()));
        }
        if p.kind == PrincipalKind::User {
            if let Some(name) = &p.name {
                d.push(("aws:username", name.as_str().into()));
            }
        }
        d.push(("aws:principalisawsservice", is_service.into()));
        if is_service {
            d.push(("aws:principalservicename", p.arn.as_str().into()));
        }
        if let Some(acct) = self.resource_account() {
            d.push(("aws:resourceaccount", acct.into()));
        }
        d
    }
}

/// A request as evaluation reads it: what every statement looks at, worked out once per request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prepared<'r> {
    pub(crate) req: &'r Request,
    pub(crate) ctx: Context<'r>,
    /// The action's service prefix, lower-cased.
    pub(crate) service: Service<&'r str>,
    pub(crate) resource: ResourceName<'r>,
    /// [`Request::is_cross_account`].
    pub(crate) cross_account: bool,
}

impl<'r> Prepared<'r> {
    pub(crate) fn new(req: &'r Request) -> Self {
        let service = req
            .action_lower
            .split_once(':')
            .map_or(req.action_lower.as_str(), |(s, _)| s);
        let arn = Arn::parse(&req.resource);
        Prepared {
            req,
            ctx: req.ctx(),
            service: Service::new(service),
            resource: ResourceName::new(&req.resource, arn),
            cross_account: req.is_cross_account_of(arn.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_are_worked_out_once_and_do_not_change_equality() {
        let a = Request::new(
            "arn:aws:iam::111122223333:user/alice",
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        )
        .unwrap()
        .with_resource_account("444455556666");
        let b = a.clone();
        assert!(a.derived.get().is_none());
        assert_eq!(
            a.ctx().get("aws:resourceaccount").map(ContextValue::values),
            Some(&["444455556666".to_owned()][..])
        );
        assert!(a.derived.get().is_some() && b.derived.get().is_none());
        assert_eq!(a, b);
        // A later builder step starts them over.
        let c = a.with_resource_account("777788889999");
        assert_eq!(
            c.ctx().get("aws:resourceaccount").map(ContextValue::values),
            Some(&["777788889999".to_owned()][..])
        );
    }

    #[test]
    fn parses_principals() {
        let p = Principal::parse("arn:aws:iam::111122223333:user/division/alice").unwrap();
        assert_eq!(p.kind, PrincipalKind::User);
        assert_eq!(p.name.as_deref(), Some("alice"));
        let p = Principal::parse("arn:aws:sts::111122223333:assumed-role/Admin/s1").unwrap();
        assert_eq!(p.kind, PrincipalKind::AssumedRole);
        assert_eq!(p.principal_arn(), "arn:aws:iam::111122223333:role/Admin");
        assert_eq!(
            Principal::parse("111122223333").unwrap().kind,
            PrincipalKind::Root
        );
        assert_eq!(
            Principal::parse("ec2.amazonaws.com").unwrap().kind,
            PrincipalKind::Service
        );
        assert!(Principal::parse("bob").is_err());
        assert!(Principal::parse("arn:aws:s3:::bucket").is_err());
    }

    #[test]
    fn derives_keys() {
        let r = Request::new(
            "arn:aws:iam::111122223333:user/alice",
            "s3:GetObject",
            "arn:aws:s3:::b/k",
        )
        .unwrap();
        let ctx = r.ctx();
        assert_eq!(ctx.get("aws:username").unwrap().values(), ["alice"]);
        assert_eq!(
            ctx.get("aws:resourceaccount").unwrap().values(),
            ["111122223333"]
        );
        assert!(!r.is_cross_account());
        let r = r.with_resource_account("444455556666");
        assert!(r.is_cross_account());
        assert!(Request::new("111122223333", "GetObject", "x").is_err());
    }

    #[test]
    fn an_unnamed_user_derives_no_principal_keys() {
        let p = Principal::unnamed_user("111122223333").unwrap();
        assert_eq!(p.kind(), PrincipalKind::User);
        let r = Request::of(p, "s3:GetObject", "arn:aws:s3:::b/k").unwrap();
        let ctx = r.ctx();
        for key in [
            "aws:username",
            "aws:principalarn",
            "aws:principalaccount",
            "aws:principaltype",
        ] {
            assert!(ctx.get(key).is_none(), "{key}");
        }
        assert_eq!(
            ctx.get("aws:resourceaccount").unwrap().values(),
            ["111122223333"]
        );
        assert!(Principal::unnamed_user("1111").is_err());
        // Identity-based policies apply to it as to any user.
        let mut set = crate::eval::PolicySet::new();
        set.add(
            crate::policy::Policy::parse(
                r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
                crate::policy::PolicyType::Identity,
            )
            .unwrap(),
        );
        assert!(set.evaluate(&r).is_allowed());
    }

    #[test]
    fn aws_managed_policies_are_in_the_account_that_names_them() {
        let get = |account: Option<&str>| {
            let r = Request::new(
                "arn:aws:iam::111122223333:user/alice",
                "iam:GetPolicy",
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
            )
            .unwrap();
            match account {
                Some(a) => r.with_resource_account(a),
                None => r,
            }
        };
        assert!(get(None).is_cross_account());
        assert_eq!(get(None).resource_account(), Some("aws"));
        let here = get(Some("111122223333"));
        assert!(!here.is_cross_account());
        assert_eq!(here.resource_account(), Some("111122223333"));
    }
}
