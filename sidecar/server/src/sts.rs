//! The STS endpoint: `AssumeRole`, `GetSessionToken` and `GetCallerIdentity` over AWS's Query API,
//! so the AWS CLI and SDKs pointed at it (`--endpoint-url`) get temporary credentials the sidecar
//! then accepts (`credentials/session.rs`) until they expire.
//!
//! Every call is SigV4-signed (body included) with a user's access key or a session's temporary
//! credentials. `AssumeRole` is decided by the engine as AWS decides it: the caller's identity-based
//! policies together with the role's trust policy (a resource-based policy) for `sts:AssumeRole` on
//! the role, with `sts:TagSession` and `sts:SetSourceIdentity` too when tags or a source identity are
//! passed; the context carries `sts:ExternalId`, `sts:RoleSessionName`, `sts:SourceIdentity`,
//! `aws:RequestTag/*`, `aws:TagKeys`, `sts:TransitiveTagKeys` and the MFA keys (a TOTP code verified
//! in the call, or the caller's session's). Every call, allowed or not, is a decision-log line;
//! failures are AWS's `ErrorResponse` documents with AWS's codes.

pub mod request;
pub mod response;

use crate::authz::{new_request_id, Authorizer, CheckInput, Identity, Origin};
use crate::credentials::session::Session;
use crate::credentials::sigv4::{self, HttpRequest, SigV4Error, SigV4ErrorCode};
use crate::credentials::{AttemptLimiter, Caller, Credentials, Secret};
use crate::decision_log::DecisionRecord;
use crate::metrics::{KindLabels, StsLabels};
use crate::routes::Mapped;
use crate::server::http::header_map;
use crate::store::{Resolved, StoreError};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use iamlet_engine::{Arn, ContextValue, Decision};
use request::{AssumeRole, GetSessionToken, MfaCode, Params, VERSION};
use response::{element, StsError};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The largest request body accepted (STS requests are a few kilobytes).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// AWS's limit on a role session created from another role session (role chaining).
const CHAINED_MAX_SECONDS: i64 = 3600;
/// `AssumeRole`'s default duration.
const ASSUME_ROLE_DEFAULT_SECONDS: i64 = 3600;
/// `GetSessionToken`'s default duration.
const SESSION_TOKEN_DEFAULT_SECONDS: i64 = 43_200;

/// The STS service.
#[derive(Debug)]
pub struct Sts {
    authz: Arc<Authorizer>,
    max_session_seconds: i64,
    mfa_limiter: AttemptLimiter,
}

/// One call, as received.
struct Call<'a> {
    input: CheckInput,
    body: &'a [u8],
    params: Params,
}

/// What an action answered: its result element's contents.
type Answer = Result<String, StsError>;

impl Sts {
    /// STS for this authorizer (which must verify SigV4, `[principal.sigv4]`); role sessions last at
    /// most `max_session_seconds`.
    pub fn new(authz: Arc<Authorizer>, max_session_seconds: i64) -> Self {
        Sts {
            authz,
            max_session_seconds,
            mfa_limiter: AttemptLimiter::default(),
        }
    }

    /// Answers one HTTP request.
    pub async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let request_id = new_request_id();
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                let e = StsError::new(
                    413,
                    "RequestEntityTooLarge",
                    format!("the request body is over {MAX_BODY_BYTES} bytes"),
                );
                return response::error(&e, &request_id);
            }
        };
        let headers = header_map(&parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let query = path.split_once('?').map_or("", |(_, q)| q);
        let params = Params::parse(query, &body);
        let call = Call {
            // STS clients connect directly: the address and the scheme are the connection's, never
            // what `X-Forwarded-*` headers claim, and no header becomes a request tag.
            input: CheckInput {
                protocol: "sts",
                origin: Origin::Direct,
                source_address: Some(peer.ip().to_string()),
                source_principal: None,
                method: parts.method.as_str().to_owned(),
                scheme: "http".into(),
                host: headers.get("host").cloned().unwrap_or_default(),
                path,
                headers,
                filter_metadata: HashMap::new(),
                context_extensions: HashMap::new(),
                body: None,
            },
            body: &body,
            params,
        };
        let (action, result, rec) = self.call(&call, request_id.clone()).await;
        self.authz.decision_log().record(rec);
        self.authz
            .metrics()
            .sts_calls
            .get_or_create(&StsLabels {
                action: if known(&action) {
                    action.clone()
                } else {
                    String::new()
                },
                outcome: result
                    .as_ref()
                    .map_or_else(|e| e.code.to_owned(), |_| "Allow".to_owned()),
            })
            .inc();
        match result {
            Ok(inner) => response::success(&action, &inner, &request_id),
            Err(e) => response::error(&e, &request_id),
        }
    }

    /// Runs a call; returns the action, its answer and the decision-log line.
    async fn call(&self, call: &Call<'_>, request_id: String) -> (String, Answer, DecisionRecord) {
        let started = Instant::now();
        let action = call.params.get("Action").unwrap_or_default().to_owned();
        let mut rec = DecisionRecord {
            action: (!action.is_empty()).then(|| format!("sts:{action}")),
            source_ip_address: call.input.source_address.clone(),
            user_agent: call.input.headers.get("user-agent").cloned(),
            http_method: call.input.method.clone(),
            http_path: call.input.path.split('?').next().unwrap_or("/").to_owned(),
            ..DecisionRecord::begin(request_id, "sts", self.authz.evaluator().name(), true)
        };
        let result = self.run(call, &action, &mut rec).await;
        match &result {
            Ok(_) => {
                rec.decision = Decision::Allow.to_string();
                rec.allowed = true;
                if rec.reason.is_empty() {
                    rec.reason = format!("{action} needs no permission beyond a valid signature");
                }
            }
            Err(e) => {
                if rec.decision.is_empty() {
                    rec.decision = "Error".to_owned();
                }
                // The answer's words, and what the log alone learns of why.
                rec.reason = if rec.reason.is_empty() {
                    e.to_string()
                } else {
                    format!("{e} ({})", rec.reason)
                };
            }
        }
        rec.latency_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        (action, result, rec)
    }

    async fn run(&self, call: &Call<'_>, action: &str, rec: &mut DecisionRecord) -> Answer {
        if action.is_empty() {
            return Err(StsError::new(
                400,
                "MissingAction",
                "the request has no Action",
            ));
        }
        if !known(action) {
            return Err(StsError::new(
                400,
                "InvalidAction",
                format!("Could not find operation {action} for version {VERSION}"),
            ));
        }
        if call.params.get("Version") != Some(VERSION) {
            return Err(StsError::new(
                400,
                "InvalidAction",
                format!("STS's API version is {VERSION}"),
            ));
        }
        let caller = match self.authenticate(call) {
            Ok(c) => c,
            Err(e) => {
                rec.decision = "Unauthenticated".to_owned();
                return Err(e);
            }
        };
        rec.principal = Some(caller.caller.principal().to_owned());
        rec.access_key_id = Some(caller.access_key_id.clone());
        // STS is served in the configured region: a signature scoped to another is for another
        // endpoint, and never picks `aws:RequestedRegion`.
        let served = self.authz.config().context.region.clone();
        if let Some(served) = &served {
            if let Err(e) = sigv4::check_region(&caller.region, served) {
                rec.decision = "Unauthenticated".to_owned();
                return Err(auth_error(&e));
            }
        }
        rec.region = Some(served.unwrap_or_else(|| caller.region.clone()));
        match action {
            "GetCallerIdentity" => {
                rec.resource = Some("*".to_owned());
                self.get_caller_identity(&caller.caller).await
            }
            "GetSessionToken" => {
                rec.resource = Some("*".to_owned());
                let p = GetSessionToken::parse(&call.params)?;
                self.get_session_token(&caller, p)
            }
            _ => {
                let p = AssumeRole::parse(&call.params)?;
                rec.resource = Some(p.role_arn.clone());
                self.assume_role(call, &caller, p, rec).await
            }
        }
    }

    fn authenticate(&self, call: &Call<'_>) -> Result<Authenticated, StsError> {
        let authenticator = self.authz.authenticator().ok_or_else(|| {
            StsError::new(
                500,
                "InternalFailure",
                "STS needs [principal.sigv4] (the credentials file) in the configuration",
            )
        })?;
        let req = HttpRequest {
            method: &call.input.method,
            host: &call.input.host,
            path: &call.input.path,
            headers: &call.input.headers,
            body: Some(call.body),
        };
        match authenticator.verify(&req, chrono::Utc::now()) {
            Ok(Some(v)) => Ok(Authenticated {
                caller: v.holder,
                access_key_id: v.access_key_id,
                region: v.region,
            }),
            Ok(None) => Err(StsError::new(
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            )),
            Err(e) => Err(auth_error(&e)),
        }
    }

    async fn get_caller_identity(&self, caller: &Caller) -> Answer {
        let arn = caller.principal();
        let user_id = self.user_id(arn).await?;
        let account = arn.split(':').nth(4).unwrap_or_default();
        Ok(format!(
            "{}{}{}",
            element("Arn", arn),
            element("UserId", &user_id),
            element("Account", account)
        ))
    }

    /// `aws:userid` as the store knows it (`AIDA…`, `AROA…:session`).
    async fn user_id(&self, principal: &str) -> Result<String, StsError> {
        let resolved = self
            .authz
            .store()
            .resolve(principal, None)
            .await
            .map_err(store_error)?;
        resolved
            .principal_context(principal)
            .ok()
            .and_then(|c| {
                c.get("aws:userid")
                    .and_then(|v| v.values().first().cloned())
            })
            .ok_or_else(|| {
                StsError::access_denied(format!("the store has no unique id for `{principal}`"))
            })
    }

    fn get_session_token(&self, caller: &Authenticated, p: GetSessionToken) -> Answer {
        let Caller::User(user_arn) = &caller.caller else {
            return Err(StsError::access_denied(
                "Cannot call GetSessionToken with session credentials",
            ));
        };
        let now = chrono::Utc::now();
        let mfa_at = match &p.mfa {
            Some(code) => Some(self.verify_mfa(&caller.access_key_id, user_arn, code, now)?),
            None => None,
        };
        let duration = p.duration.unwrap_or(SESSION_TOKEN_DEFAULT_SECONDS);
        let session = Session {
            arn: user_arn.clone(),
            role_arn: None,
            user_arn: Some(user_arn.clone()),
            issued_at: now.timestamp(),
            expires_at: now.timestamp() + duration,
            mfa_authenticated_at: mfa_at,
            policy: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            secret: Secret::default(),
        };
        self.issue(session)
    }

    /// Verifies a TOTP code from the user's device; the time it was verified. The attempt is
    /// recorded in the credentials file under its lock (the step used, or one more refused code
    /// towards the device's lock), so a code is good once across restarts and replicas; an access
    /// key refused too often in a minute is throttled before the file is touched.
    fn verify_mfa(
        &self,
        access_key_id: &str,
        user_arn: &str,
        code: &MfaCode,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<i64, StsError> {
        let count = |outcome: &str| {
            self.authz
                .metrics()
                .mfa_attempts
                .get_or_create(&KindLabels {
                    kind: outcome.to_owned(),
                })
                .inc();
        };
        let unix = now.timestamp();
        if !self.mfa_limiter.allows(access_key_id, unix) {
            count("throttled");
            return Err(StsError::new(400, "Throttling", "Rate exceeded"));
        }
        let authenticator = self.authz.authenticator().ok_or_else(|| {
            StsError::new(500, "InternalFailure", "no credentials file is configured")
        })?;
        let verified = Credentials::update(authenticator.path(), |c| {
            c.verify_mfa_code(user_arn, &code.serial_number, &code.token_code, unix)
        })
        .map_err(|e| {
            tracing::error!(error = %e, "recording an MFA attempt failed");
            StsError::new(
                503,
                "ServiceUnavailable",
                "the MFA attempt could not be recorded",
            )
        })?;
        match verified {
            Ok(()) => {
                count("ok");
                Ok(unix)
            }
            Err(e) => {
                count(e.kind());
                self.mfa_limiter.refused(access_key_id, unix);
                tracing::warn!(
                    user = user_arn,
                    access_key_id,
                    serial_number = %code.serial_number,
                    outcome = e.kind(),
                    "MFA code refused"
                );
                Err(StsError::access_denied(e.to_string()))
            }
        }
    }

    /// The credentials file as it is now (empty when STS runs without one, which `Config` refuses).
    fn credentials(&self) -> Arc<Credentials> {
        self.authz
            .authenticator()
            .map(|a| a.credentials())
            .unwrap_or_default()
    }

    /// Seals a session; its `<Credentials>` element.
    fn issue(&self, session: Session) -> Answer {
        let internal = |m: String| StsError::new(500, "InternalFailure", m);
        let key = self
            .credentials()
            .session_key()
            .map_err(|e| internal(e.to_string()))?
            .ok_or_else(|| {
                internal(
                    "the credentials file has no session key (run `iamlet sts rotate-key`)".into(),
                )
            })?;
        let expires = chrono::DateTime::from_timestamp(session.expires_at, 0).unwrap_or_default();
        let (issued, _) = key.issue(session).map_err(|e| internal(e.to_string()))?;
        Ok(format!(
            "<Credentials>{}{}{}{}</Credentials>",
            element("AccessKeyId", &issued.access_key_id),
            element("SecretAccessKey", issued.secret_access_key.expose()),
            element("SessionToken", issued.session_token.expose()),
            element(
                "Expiration",
                &expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        ))
    }

    async fn assume_role(
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
                rec.decision = Decision::ImplicitDeny.to_string();
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
        let found = FoundRole::of(&role).ok_or_else(|| {
            StsError::new(
                500,
                "InternalFailure",
                format!("the store's role `{}` has no role ARN", role.entity()),
            )
        })?;
        let from = caller.caller.session();
        let chained = from.is_some_and(|s| s.role_arn.is_some());
        let max = if chained {
            CHAINED_MAX_SECONDS.min(self.max_session_seconds)
        } else {
            self.max_session_seconds
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
                Some(self.verify_mfa(&caller.access_key_id, user, code, now)?)
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
                Ok(v) => {
                    if let Some(d) = v.deciding {
                        rec.set_deciding(d);
                    }
                    if v.decision != Decision::Allow {
                        rec.decision = v.decision.to_string();
                        return Err(denied());
                    }
                }
                Err((kind, message)) if kind == "unknown_principal" => {
                    rec.decision = Decision::ImplicitDeny.to_string();
                    rec.reason = message;
                    return Err(denied());
                }
                Err((_, message)) => {
                    return Err(StsError::new(503, "ServiceUnavailable", message));
                }
            }
        }
        rec.reason = format!(
            "the role's trust policy and the caller's permissions allow {} to assume {}",
            identity.principal, found.arn
        );

        let session_arn = found.session_arn(&p.session_name);
        let user_id = format!(
            "{}:{}",
            role.unique_id().unwrap_or(&found.name),
            p.session_name
        );
        let session = Session {
            arn: session_arn.clone(),
            role_arn: Some(found.arn.clone()),
            user_arn: None,
            issued_at: now.timestamp(),
            expires_at: now.timestamp() + duration,
            mfa_authenticated_at: mfa_at,
            policy: p.policy.as_ref().map(|(text, _)| text.clone()),
            tags,
            transitive_tag_keys: transitive,
            source_identity: source_identity.clone(),
            secret: Secret::default(),
        };
        let credentials = self.issue(session)?;
        let mut xml = String::new();
        if let Some(s) = &source_identity {
            xml.push_str(&element("SourceIdentity", s));
        }
        xml.push_str(&format!(
            "<AssumedRoleUser>{}{}</AssumedRoleUser>{credentials}",
            element("AssumedRoleId", &user_id),
            element("Arn", &session_arn)
        ));
        Ok(xml)
    }
}

/// The actions served (metrics label only these, so clients cannot grow the label set).
fn known(action: &str) -> bool {
    matches!(
        action,
        "AssumeRole" | "GetSessionToken" | "GetCallerIdentity"
    )
}

/// The role `AssumeRole` found, by exact ARN: what the session is built from.
struct FoundRole {
    /// Its ARN, path included.
    arn: String,
    partition: String,
    account: String,
    name: String,
}

impl FoundRole {
    fn of(role: &Resolved) -> Option<FoundRole> {
        let arn = Arn::parse(role.entity())?;
        let name = arn.resource.strip_prefix("role/")?.rsplit('/').next()?;
        Some(FoundRole {
            arn: role.entity().to_owned(),
            partition: arn.partition.to_owned(),
            account: arn.account.to_owned(),
            name: name.to_owned(),
        })
    }

    /// `arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION` (session ARNs carry no path).
    fn session_arn(&self, session: &str) -> String {
        format!(
            "arn:{}:sts::{}:assumed-role/{}/{session}",
            self.partition, self.account, self.name
        )
    }
}

/// A verified caller.
struct Authenticated {
    caller: Caller,
    access_key_id: String,
    region: String,
}

/// STS's code for a signature that did not verify (STS says `InvalidClientTokenId` for an unknown
/// key where S3 says `InvalidAccessKeyId`).
fn auth_error(e: &SigV4Error) -> StsError {
    let code = match e.code() {
        SigV4ErrorCode::InvalidAccessKeyId | SigV4ErrorCode::InvalidClientTokenId => {
            "InvalidClientTokenId"
        }
        SigV4ErrorCode::ExpiredToken => "ExpiredToken",
        SigV4ErrorCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
        SigV4ErrorCode::RequestTimeTooSkewed => "RequestExpired",
        SigV4ErrorCode::AccessDenied => "AccessDenied",
        SigV4ErrorCode::IncompleteSignature | SigV4ErrorCode::MissingPayloadHash => {
            "IncompleteSignature"
        }
    };
    let status = if code == "IncompleteSignature" {
        400
    } else {
        403
    };
    StsError::new(status, code, e.message())
}

fn store_error(e: StoreError) -> StsError {
    match e {
        StoreError::UnknownPrincipal(p) => {
            StsError::access_denied(format!("`{p}` is not in the account export"))
        }
        other => StsError::new(503, "ServiceUnavailable", other.to_string()),
    }
}
