//! `AssumeRole`: decided by the engine as AWS decides it — the role's trust policy with the caller's
//! identity-based policies, boundary, SCPs and session policy, for `sts:AssumeRole` on the role (and
//! `sts:TagSession`, `sts:SetSourceIdentity` when tags or a source identity are passed) — for a
//! role found by its exact ARN; the session is built from the role that was found.

use super::request::{self, AssumeRole};
use super::response::{element, StsError};
use super::{store_error, Answer, Authenticated, Call, Sts};
use super::{ASSUME_ROLE_DEFAULT_SECONDS, CHAINED_MAX_SECONDS};
use iamlet_auth::session::Session;
use iamlet_auth::Secret;
use iamlet_authz::{CheckDecision, Decided, Identity};
use iamlet_decision_log::DecisionRecord;
use iamlet_engine::{Arn, ContextValue, Decision};
use iamlet_routes::Mapped;
use iamlet_store::{Resolved, StoreError};

impl Sts {
    pub(super) async fn assume_role(
        &self,
        call: &Call<'_>,
        caller: &Authenticated,
        p: AssumeRole,
        rec: &mut DecisionRecord,
    ) -> Answer {
        let now = chrono::Utc::now();
        // The role first, by its exact ARN: a role named by another path, partition or without its
        // path is no role, and everything of the session comes from the role that was found.
        let role = match self.authz.store().role(&p.role_arn).await {
            Ok(role) => role,
            Err(StoreError::UnknownPrincipal(_)) => {
                rec.decision = CheckDecision::ImplicitDeny.as_str().to_owned();
                rec.reason = format!(
                    "no role `{}` exists (a role is named by its exact ARN: partition, account, path and name)",
                    p.role_arn
                );
                return Err(StsError::access_denied(format!(
                    "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                    caller.caller.principal(),
                    p.role_arn
                )));
            }
            Err(e) => return Err(store_error(e)),
        };
        let found = FoundRole::of(&role)?;
        let from = caller.caller.session();
        let chained = from.is_some_and(|s| s.role_arn.is_some());
        // The role's own MaxSessionDuration when the store knows it (the IAM database and API
        // do), else the configured `[sts] max_session_duration`.
        let role_max = role
            .max_session_duration()
            .unwrap_or(self.max_session_seconds);
        let max = if chained {
            CHAINED_MAX_SECONDS.min(role_max)
        } else {
            role_max
        };
        let duration = p.duration.unwrap_or(ASSUME_ROLE_DEFAULT_SECONDS.min(max));
        if duration > max {
            return Err(StsError::validation(if chained {
                format!("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining ({max} seconds).")
            } else {
                format!("The requested DurationSeconds exceeds the MaxSessionDuration set for this role ({max} seconds).")
            }));
        }

        // MFA: a code verified now, else what the caller's session had.
        let mfa_at = match &p.mfa {
            Some(code) => {
                let user = caller.caller.user_arn().ok_or_else(|| {
                    StsError::access_denied(
                        "MultiFactorAuthentication failed: a role session has no MFA device",
                    )
                })?;
                Some(
                    self.verify_mfa(&caller.access_key_id, user, code, now)
                        .await?,
                )
            }
            None => from.and_then(|s| s.mfa_authenticated_at),
        };

        // Transitive tags of the calling session pass on and cannot be overridden.
        let mut tags: Vec<(String, String)> = Vec::new();
        let mut transitive: Vec<String> = Vec::new();
        if let Some(s) = from {
            for k in &s.transitive_tag_keys {
                if let Some((key, value)) = s.tags.iter().find(|(t, _)| t.eq_ignore_ascii_case(k)) {
                    if p.tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(key)) {
                        return Err(StsError::invalid_parameter(format!(
                            "the session tag `{key}` is transitive from the calling session and cannot be set again"
                        )));
                    }
                    tags.push((key.clone(), value.clone()));
                    transitive.push(key.clone());
                }
            }
        }
        tags.extend(p.tags.iter().cloned());
        transitive.extend(p.transitive_tag_keys.iter().cloned());
        if tags.len() > request::MAX_TAGS {
            return Err(StsError::new(
                400,
                "PackedPolicyTooLarge",
                format!(
                    "{} session tags with the calling session's transitive ones; at most {}",
                    tags.len(),
                    request::MAX_TAGS
                ),
            ));
        }
        let source_identity = match (
            from.and_then(|s| s.source_identity.clone()),
            &p.source_identity,
        ) {
            (Some(had), Some(asked)) if &had != asked => {
                return Err(StsError::access_denied(format!(
                    "the calling session's SourceIdentity is `{had}` and cannot be changed"
                )))
            }
            (had, asked) => had.or_else(|| asked.clone()),
        };

        // The decision, as AWS makes it: each action the call needs must be allowed.
        let mut identity =
            Identity::of_caller(&caller.caller, caller.region.clone(), now.timestamp());
        if p.mfa.is_some() {
            identity
                .context
                .retain(|(k, _)| !k.starts_with("aws:MultiFactorAuth"));
            identity
                .context
                .push(("aws:MultiFactorAuthPresent".to_owned(), true.into()));
            identity
                .context
                .push(("aws:MultiFactorAuthAge".to_owned(), "0".into()));
        }
        let mut extra: Vec<(String, ContextValue)> = vec![(
            "sts:RoleSessionName".to_owned(),
            p.session_name.as_str().into(),
        )];
        if let Some(e) = &p.external_id {
            extra.push(("sts:ExternalId".to_owned(), e.as_str().into()));
        }
        if let Some(s) = &p.source_identity {
            extra.push(("sts:SourceIdentity".to_owned(), s.as_str().into()));
        }
        for (k, v) in &p.tags {
            extra.push((format!("aws:RequestTag/{k}"), v.as_str().into()));
        }
        if !p.tags.is_empty() {
            extra.push((
                "aws:TagKeys".to_owned(),
                ContextValue::multi(p.tags.iter().map(|(k, _)| k.clone()).collect()),
            ));
        }
        if !p.transitive_tag_keys.is_empty() {
            extra.push((
                "sts:TransitiveTagKeys".to_owned(),
                ContextValue::multi(p.transitive_tag_keys.clone()),
            ));
        }
        let mut needed = vec!["sts:AssumeRole"];
        if !p.tags.is_empty() {
            needed.push("sts:TagSession");
        }
        if p.source_identity.is_some() {
            needed.push("sts:SetSourceIdentity");
        }
        for action in needed {
            let mapped = Mapped {
                action: action.to_owned(),
                resource: found.arn.clone(),
                resource_account: Some(found.account.clone()),
                context: Vec::new(),
            };
            let mut context = self.authz.context(&call.input, &identity, &mapped);
            for (k, v) in &extra {
                context.insert(k, v.clone());
            }
            let verdict = self
                .authz
                .decide(self.authz.store(), &identity, &mapped, context)
                .await;
            let denied = || {
                StsError::access_denied(format!(
                    "User: {} is not authorized to perform: {action} on resource: {}",
                    identity.principal, p.role_arn
                ))
            };
            match verdict {
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
                Err(f) => {
                    return Err(StsError::new(503, "ServiceUnavailable", f.message));
                }
            }
        }
        rec.reason = format!(
            "the role's trust policy and the caller's permissions allow {} to assume {}",
            identity.principal, found.arn
        );

        let new = found.session(NewSession {
            name: &p.session_name,
            issued_at: now.timestamp(),
            duration,
            mfa_authenticated_at: mfa_at,
            policy: p.policy.as_ref().map(|(text, _)| text.clone()),
            tags,
            transitive_tag_keys: transitive,
            source_identity: source_identity.clone(),
            federated_provider: None,
        });
        let assumed_role_user = new.assumed_role_user();
        let session = new.session;
        let credentials = self.issue(session)?;
        let mut xml = String::new();
        if let Some(s) = &source_identity {
            xml.push_str(&element("SourceIdentity", s));
        }
        xml.push_str(&assumed_role_user);
        xml.push_str(&credentials);
        Ok(xml)
    }
}

/// The role `AssumeRole` found, by exact ARN: what the session is built from.
pub(super) struct FoundRole {
    /// Its ARN, path included.
    pub(super) arn: String,
    pub(super) partition: String,
    pub(super) account: String,
    pub(super) name: String,
    /// `AROA…`, when the store knows it.
    pub(super) unique_id: Option<String>,
}

/// What a new role session is made of, besides the role.
pub(super) struct NewSession<'a> {
    /// `RoleSessionName`.
    pub(super) name: &'a str,
    pub(super) issued_at: i64,
    /// Seconds.
    pub(super) duration: i64,
    pub(super) mfa_authenticated_at: Option<i64>,
    /// The inline session policy's text.
    pub(super) policy: Option<String>,
    pub(super) tags: Vec<(String, String)>,
    pub(super) transitive_tag_keys: Vec<String>,
    pub(super) source_identity: Option<String>,
    /// `aws:FederatedProvider` of the session's requests (OpenID Connect federation).
    pub(super) federated_provider: Option<String>,
}

/// A role session about to be sealed, with what the answer says of it.
pub(super) struct RoleSession {
    /// `arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION`.
    pub(super) arn: String,
    /// `AROA…:SESSION` (`aws:userid`).
    pub(super) assumed_role_id: String,
    pub(super) session: Session,
}

impl RoleSession {
    /// `<AssumedRoleUser>` of the answer.
    pub(super) fn assumed_role_user(&self) -> String {
        format!(
            "<AssumedRoleUser>{}{}</AssumedRoleUser>",
            element("AssumedRoleId", &self.assumed_role_id),
            element("Arn", &self.arn)
        )
    }
}

impl FoundRole {
    /// The role the store found, as a session names it. A store entry that is no role ARN is the
    /// store's fault, not the caller's: `InternalFailure`.
    pub(super) fn of(role: &Resolved) -> Result<FoundRole, StsError> {
        let parsed = Arn::parse(role.entity()).and_then(|arn| {
            let name = arn.resource.strip_prefix("role/")?.rsplit('/').next()?;
            Some(FoundRole {
                arn: role.entity().to_owned(),
                partition: arn.partition.to_owned(),
                account: arn.account.to_owned(),
                name: name.to_owned(),
                unique_id: role.unique_id().map(str::to_owned),
            })
        });
        parsed.ok_or_else(|| {
            StsError::new(
                500,
                "InternalFailure",
                format!("the store's role `{}` has no role ARN", role.entity()),
            )
        })
    }

    /// The one way a role session is made (`AssumeRole`, `AssumeRoleWithWebIdentity`,
    /// `AssumeRoleWithSAML`): everything of the role comes from the role that was found.
    pub(super) fn session(&self, new: NewSession<'_>) -> RoleSession {
        let arn = self.session_arn(new.name);
        let assumed_role_id = format!(
            "{}:{}",
            self.unique_id.as_deref().unwrap_or(&self.name),
            new.name
        );
        let session = Session {
            arn: arn.clone(),
            role_arn: Some(self.arn.clone()),
            user_arn: None,
            issued_at: new.issued_at,
            expires_at: new.issued_at + new.duration,
            mfa_authenticated_at: new.mfa_authenticated_at,
            policy: new.policy,
            tags: new.tags,
            transitive_tag_keys: new.transitive_tag_keys,
            source_identity: new.source_identity,
            federated_provider: new.federated_provider,
            secret: Secret::default(),
        };
        RoleSession {
            arn,
            assumed_role_id,
            session,
        }
    }

    /// `arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION` (session ARNs carry no path).
    pub(super) fn session_arn(&self, session: &str) -> String {
        format!(
            "arn:{}:sts::{}:assumed-role/{}/{session}",
            self.partition, self.account, self.name
        )
    }
}
