//! `GetFederationToken`: an IAM user's long-term key (or the root user's) exchanged for a federated
//! user session, `arn:aws:sts::ACCOUNT:federated-user/NAME`. The caller needs
//! `sts:GetFederationToken` on that ARN (and `sts:TagSession` to pass tags); the session's
//! permissions are the intersection of the caller's and the session policy passed — none without
//! one, as AWS documents. Session credentials cannot call it.

use super::request::GetFederationToken;
use super::response::{element, StsError};
use super::{Answer, Authenticated, Call, Sts};
use iamlet_auth::session::Session;
use iamlet_auth::{Caller, Secret};
use iamlet_authz::{CheckDecision, Decided, Identity};
use iamlet_decision_log::DecisionRecord;
use iamlet_engine::{Arn, ContextValue, Decision};
use iamlet_routes::Mapped;

/// `GetFederationToken`'s default duration.
const DEFAULT_SECONDS: i64 = 43_200;
/// The root user's federated sessions last at most an hour.
const ROOT_MAX_SECONDS: i64 = 3600;

impl Sts {
    pub(super) async fn get_federation_token(
        &self,
        call: &Call<'_>,
        caller: &Authenticated,
        p: GetFederationToken,
        rec: &mut DecisionRecord,
    ) -> Answer {
        let Caller::User(user_arn) = &caller.caller else {
            return Err(StsError::access_denied(
                "Cannot call GetFederationToken with session credentials",
            ));
        };
        let arn = Arn::parse(user_arn).ok_or_else(|| {
            StsError::new(
                500,
                "InternalFailure",
                format!("`{user_arn}` is not an ARN"),
            )
        })?;
        let is_root = arn.resource == "root";
        let federated_arn = format!(
            "arn:{}:sts::{}:federated-user/{}",
            arn.partition, arn.account, p.name
        );
        rec.resource = Some(federated_arn.clone());
        let now = chrono::Utc::now();
        let duration = p.duration.unwrap_or(DEFAULT_SECONDS);
        let duration = if is_root {
            duration.min(ROOT_MAX_SECONDS)
        } else {
            duration
        };

        let identity = Identity::of_caller(&caller.caller, caller.region.clone(), now.timestamp());
        let mut extra: Vec<(String, ContextValue)> = Vec::new();
        for (k, v) in &p.tags {
            extra.push((format!("aws:RequestTag/{k}"), v.as_str().into()));
        }
        if !p.tags.is_empty() {
            extra.push((
                "aws:TagKeys".to_owned(),
                ContextValue::multi(p.tags.iter().map(|(k, _)| k.clone()).collect()),
            ));
        }
        let mut needed = vec!["sts:GetFederationToken"];
        if !p.tags.is_empty() {
            needed.push("sts:TagSession");
        }
        for action in needed {
            let mapped = Mapped {
                action: action.to_owned(),
                resource: federated_arn.clone(),
                resource_account: Some(arn.account.to_owned()),
                context: Vec::new(),
            };
            let mut context = self.authz.context(&call.input, &identity, &mapped);
            for (k, v) in &extra {
                context.insert(k, v.clone());
            }
            let denied = || {
                StsError::access_denied(format!(
                    "User: {} is not authorized to perform: {action} on resource: {federated_arn}",
                    identity.principal
                ))
            };
            match self
                .authz
                .decide(self.authz.store(), &identity, &mapped, context)
                .await
            {
                Ok(Decided::Engine(v)) => {
                    if let Some(d) = &v.deciding {
                        d.note(rec);
                    }
                    if v.decision != Decision::Allow {
                        rec.decision = v.decision.to_string();
                        return Err(denied());
                    }
                }
                Ok(Decided::UnknownPrincipal(message)) => {
                    rec.decision = CheckDecision::ImplicitDeny.as_str().to_owned();
                    rec.reason = message;
                    return Err(denied());
                }
                Err(f) => return Err(StsError::new(503, "ServiceUnavailable", f.message)),
            }
        }
        rec.reason = format!("{user_arn} may create the federated user session {federated_arn}");

        let session = Session {
            arn: federated_arn.clone(),
            role_arn: None,
            user_arn: Some(user_arn.clone()),
            issued_at: now.timestamp(),
            expires_at: now.timestamp() + duration,
            mfa_authenticated_at: None,
            // No policy: the engine gives a federated user session no permissions at all.
            policy: p.policy.as_ref().map(|(text, _)| text.clone()),
            tags: p.tags.clone(),
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            federated_provider: None,
            secret: Secret::default(),
        };
        let credentials = self.issue(session)?;
        Ok(format!(
            "{credentials}<FederatedUser>{}{}</FederatedUser>",
            element("FederatedUserId", &format!("{}:{}", arn.account, p.name)),
            element("Arn", &federated_arn)
        ))
    }
}
