//! The decision of a federation call (`AssumeRoleWithWebIdentity`, `AssumeRoleWithSAML`): the
//! role's trust policy alone, for the identity provider as principal, for each action the call
//! needs (the `AssumeRoleWith…` action, and `sts:TagSession` / `sts:SetSourceIdentity` when the
//! provider passes session tags or a source identity), with the call's condition keys.

use super::assume_role::FoundRole;
use super::response::StsError;
use super::{store_error, Call, Sts, ASSUME_ROLE_DEFAULT_SECONDS};
use iamlet_authz::{CheckDecision, Identity};
use iamlet_decision_log::DecisionRecord;
use iamlet_engine::{ContextValue, Decision, PolicySet, Request};
use iamlet_routes::Mapped;
use iamlet_store::Resolved;
use iamlet_store::StoreError;
use std::sync::Arc;

/// A federation call to decide.
pub(super) struct Federated<'a> {
    /// The provider's ARN: the principal.
    pub(super) provider_arn: &'a str,
    /// The subject the provider vouched for (for the log).
    pub(super) subject: &'a str,
    /// `sts:AssumeRoleWithWebIdentity` or `sts:AssumeRoleWithSAML`.
    pub(super) action: &'static str,
    pub(super) tagged: bool,
    pub(super) source_identity: bool,
    /// The keys the trust policy sees besides the request's own.
    pub(super) keys: Vec<(String, ContextValue)>,
}

impl Sts {
    /// The role a federation call names, by its exact ARN, and the session's duration: the one
    /// asked for (default an hour) within the role's `MaxSessionDuration`. No such role is the
    /// same `AccessDenied` as a trust policy that does not allow the call.
    pub(super) async fn federated_role(
        &self,
        role_arn: &str,
        asked: Option<i64>,
        action: &str,
        rec: &mut DecisionRecord,
    ) -> Result<(Arc<Resolved>, FoundRole, i64), StsError> {
        let role = match self.authz.store().role(role_arn).await {
            Ok(role) => role,
            Err(StoreError::UnknownPrincipal(_)) => {
                rec.decision = CheckDecision::ImplicitDeny.as_str().to_owned();
                rec.reason = format!("no role `{role_arn}` exists");
                return Err(StsError::access_denied(format!(
                    "Not authorized to perform {action}"
                )));
            }
            Err(e) => return Err(store_error(e)),
        };
        let found = FoundRole::of(&role)?;
        let max = role
            .max_session_duration()
            .unwrap_or(self.max_session_seconds);
        let duration = asked.unwrap_or(ASSUME_ROLE_DEFAULT_SECONDS.min(max));
        if duration > max {
            return Err(StsError::validation(format!(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role ({max} seconds)."
            )));
        }
        Ok((role, found, duration))
    }

    /// Whether the trust policy of `role` allows the call; the log says which statement decided.
    /// A denial is STS's `AccessDenied` "Not authorized to perform …".
    pub(super) fn decide_trust(
        &self,
        call: &Call<'_>,
        role: &Resolved,
        found: &FoundRole,
        f: &Federated<'_>,
        rec: &mut DecisionRecord,
    ) -> Result<(), StsError> {
        let denied = || StsError::access_denied(format!("Not authorized to perform {}", f.action));
        let Some(trust) = role.trust_policy().cloned() else {
            rec.decision = CheckDecision::ImplicitDeny.as_str().to_owned();
            rec.reason = format!("the role {} has no trust policy", found.arn);
            return Err(denied());
        };
        let mut set = PolicySet::new();
        set.add(trust);
        let mut needed = vec![f.action];
        if f.tagged {
            needed.push("sts:TagSession");
        }
        if f.source_identity {
            needed.push("sts:SetSourceIdentity");
        }
        let identity = Identity {
            principal: f.provider_arn.to_owned(),
            session_issuer: None,
            context: Vec::new(),
            session: None,
            signed_region: None,
        };
        for action in needed {
            let mapped = Mapped {
                action: action.to_owned(),
                resource: found.arn.clone(),
                resource_account: Some(found.account.clone()),
                context: Vec::new(),
            };
            let mut context = self.authz.context(&call.input, &identity, &mapped);
            for (k, v) in &f.keys {
                context.insert(k, v.clone());
            }
            let req = Request::new(f.provider_arn, action, &found.arn)
                .map_err(|e| StsError::new(500, "InternalFailure", e.to_string()))?
                .with_resource_account(found.account.clone())
                .with_context(context);
            let verdict = set.decide(&req);
            if let Some(d) = verdict.deciding.first() {
                rec.set_deciding(d.policy.clone(), d.statement, d.sid.as_deref());
            }
            if verdict.decision != Decision::Allow {
                rec.decision = verdict.decision.to_string();
                rec.reason = format!(
                    "the trust policy of {} does not allow {action} for {} (sub {})",
                    found.arn, f.provider_arn, f.subject
                );
                return Err(denied());
            }
        }
        rec.reason = format!(
            "the trust policy of {} allows {} (sub {}) to assume it",
            found.arn, f.provider_arn, f.subject
        );
        Ok(())
    }
}
