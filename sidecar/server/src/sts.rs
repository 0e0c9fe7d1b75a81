//! The STS endpoint: `AssumeRole`, `AssumeRoleWithWebIdentity` (OpenID Connect federation,
//! [`web_identity`]), `AssumeRoleWithSAML` (SAML 2.0 federation, [`with_saml`]), `GetFederationToken`, `GetSessionToken` and `GetCallerIdentity` over AWS's
//! Query API,
//! so the AWS CLI and SDKs pointed at it (`--endpoint-url`) get temporary credentials the sidecar
//! then accepts (`credentials/session.rs`) until they expire.
//!
//! Every call but `AssumeRoleWithWebIdentity` and `AssumeRoleWithSAML` (unsigned, as in AWS) is SigV4-signed (body included) with a user's access key or a session's temporary
//! credentials. `AssumeRole` is decided by the engine as AWS decides it: the caller's identity-based
//! policies together with the role's trust policy (a resource-based policy) for `sts:AssumeRole` on
//! the role, with `sts:TagSession` and `sts:SetSourceIdentity` too when tags or a source identity are
//! passed; the context carries `sts:ExternalId`, `sts:RoleSessionName`, `sts:SourceIdentity`,
//! `aws:RequestTag/*`, `aws:TagKeys`, `sts:TransitiveTagKeys` and the MFA keys (a TOTP code verified
//! in the call, or the caller's session's). Every call, allowed or not, is a decision-log line;
//! failures are AWS's `ErrorResponse` documents with AWS's codes.

mod assume_role;
mod federation_token;
mod idp_tls;
mod oidc;
pub mod request;
pub mod response;
mod saml;
mod session_token;
mod trust;
mod web_identity;
mod with_saml;

use crate::http::header_map;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use iamlet_auth::session::Session;
use iamlet_auth::sigv4::{self, HttpRequest, SigV4Error, SigV4ErrorCode};
use iamlet_auth::{AttemptLimiter, Caller, Credentials};
use iamlet_authz::metrics::StsLabels;
use iamlet_authz::{new_request_id, Authorizer, CheckDecision, CheckInput, Origin, Protocol};
use iamlet_decision_log::{redact, DecisionRecord};
use iamlet_engine::Arn;
use iamlet_store::StoreError;
use request::{
    AssumeRole, AssumeRoleWithWebIdentity, GetFederationToken, GetSessionToken, Params, VERSION,
};
use response::{element, StsError};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The largest request body accepted: STS requests are a few kilobytes, but `SAMLAssertion` may be
/// 100,000 characters of base64, URL-encoded (`+`, `/`, `=` tripled).
const MAX_BODY_BYTES: usize = 320 * 1024;
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
    /// Identity providers' signing keys (`AssumeRoleWithWebIdentity`).
    keys: oidc::KeyCache,
    /// Audiences and recipients SAML assertions may name besides AWS's.
    saml_service_provider: saml::ServiceProvider,
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
            keys: oidc::KeyCache::default(),
            saml_service_provider: saml::ServiceProvider::default(),
        }
    }

    /// Accepts SAML assertions for these audiences (service-provider entity IDs) and recipients
    /// (ACS URLs) too, besides AWS's (`[sts] saml_audiences`, `saml_recipients`).
    pub fn with_saml_service_provider(
        mut self,
        audiences: Vec<String>,
        recipients: Vec<String>,
    ) -> Self {
        self.saml_service_provider = saml::ServiceProvider {
            audiences,
            recipients,
        };
        self
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
                protocol: Protocol::Sts,
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
                // Only the actions served label the metrics: clients cannot grow the label set.
                action: action.map_or("", Action::as_str),
                outcome: result.as_ref().map_or_else(|e| e.code, |_| "Allow"),
            })
            .inc();
        match (result, action) {
            (Ok(inner), Some(action)) => response::success(action.as_str(), &inner, &request_id),
            (Ok(_), None) => response::error(&unknown_action(""), &request_id),
            (Err(e), _) => response::error(&e, &request_id),
        }
    }

    /// Runs a call; returns its action (when it is one served), its answer and the decision-log
    /// line.
    async fn call(
        &self,
        call: &Call<'_>,
        request_id: String,
    ) -> (Option<Action>, Answer, DecisionRecord) {
        let started = Instant::now();
        let name = call.params.get("Action").unwrap_or_default();
        let action = Action::parse(name);
        let mut rec = DecisionRecord {
            action: action.map(|a| format!("sts:{}", a.as_str())),
            source_ip_address: call.input.source_address.clone(),
            user_agent: call.input.headers.get("user-agent").cloned(),
            http_method: call.input.method.clone(),
            http_path: redact::path_only(&call.input.path).to_owned(),
            ..DecisionRecord::begin(
                request_id,
                Protocol::Sts.as_str(),
                self.authz.evaluator().name(),
                true,
            )
        };
        let result = match action {
            Some(a) => self.run(call, a, &mut rec).await,
            None if name.is_empty() => Err(StsError::new(
                400,
                "MissingAction",
                "the request has no Action",
            )),
            None => Err(unknown_action(name)),
        };
        match &result {
            Ok(_) => {
                rec.decision = CheckDecision::Allow.as_str().to_owned();
                rec.allowed = true;
                if rec.reason.is_empty() {
                    rec.reason = format!("{name} needs no permission beyond a valid signature");
                }
            }
            Err(e) => {
                if rec.decision.is_empty() {
                    rec.decision = CheckDecision::Error.as_str().to_owned();
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

    async fn run(&self, call: &Call<'_>, action: Action, rec: &mut DecisionRecord) -> Answer {
        if call.params.get("Version") != Some(VERSION) {
            return Err(StsError::new(
                400,
                "InvalidAction",
                format!("STS's API version is {VERSION}"),
            ));
        }
        if action == Action::AssumeRoleWithSaml {
            // Unsigned, as in AWS: the IdP's signed assertion is the credential.
            rec.region = self.authz.settings().context.region.clone();
            let p = request::AssumeRoleWithSaml::parse(&call.params)?;
            rec.resource = Some(p.role_arn.clone());
            return self.assume_role_with_saml(call, p, rec).await;
        }
        if action == Action::AssumeRoleWithWebIdentity {
            // Unsigned, as in AWS: the token is the credential.
            rec.region = self.authz.settings().context.region.clone();
            let p = AssumeRoleWithWebIdentity::parse(&call.params)?;
            rec.resource = Some(p.role_arn.clone());
            return self.assume_role_with_web_identity(call, p, rec).await;
        }
        let unauthenticated = CheckDecision::Unauthenticated.as_str().to_owned();
        let caller = match self.authenticate(call) {
            Ok(c) => c,
            Err(e) => {
                rec.decision = unauthenticated;
                return Err(e);
            }
        };
        rec.principal = Some(caller.caller.principal().to_owned());
        rec.access_key_id = Some(caller.access_key_id.clone());
        // STS is served in the configured region: a signature scoped to another is for another
        // endpoint, and never picks `aws:RequestedRegion`.
        let served = self.authz.settings().context.region.clone();
        if let Some(served) = &served {
            if let Err(e) = sigv4::check_region(&caller.region, served) {
                rec.decision = unauthenticated;
                return Err(auth_error(&e));
            }
        }
        rec.region = Some(served.unwrap_or_else(|| caller.region.clone()));
        match action {
            Action::GetCallerIdentity => {
                rec.resource = Some("*".to_owned());
                self.get_caller_identity(&caller.caller).await
            }
            Action::GetSessionToken => {
                rec.resource = Some("*".to_owned());
                let p = GetSessionToken::parse(&call.params)?;
                self.get_session_token(&caller, p).await
            }
            Action::AssumeRole => {
                let p = AssumeRole::parse(&call.params)?;
                rec.resource = Some(p.role_arn.clone());
                self.assume_role(call, &caller, p, rec).await
            }
            Action::GetFederationToken => {
                let p = GetFederationToken::parse(&call.params)?;
                self.get_federation_token(call, &caller, p, rec).await
            }
            Action::AssumeRoleWithWebIdentity | Action::AssumeRoleWithSaml => Err(StsError::new(
                500,
                "InternalFailure",
                "federation calls are answered before authentication",
            )),
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
        // A federated user's id is `ACCOUNT:NAME`, as AWS gives it; others' are the store's.
        let user_id = match Arn::parse(arn) {
            Some(a) if a.service == "sts" && a.resource.starts_with("federated-user/") => format!(
                "{}:{}",
                a.account,
                a.resource.trim_start_matches("federated-user/")
            ),
            _ => self.user_id(arn).await?,
        };
        let account = Arn::parse(arn).map_or("", |a| a.account);
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
}

/// The actions STS serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    AssumeRole,
    AssumeRoleWithWebIdentity,
    AssumeRoleWithSaml,
    GetFederationToken,
    GetSessionToken,
    GetCallerIdentity,
}

impl Action {
    /// The action a request names, if it is one of ours.
    fn parse(name: &str) -> Option<Action> {
        match name {
            "AssumeRole" => Some(Action::AssumeRole),
            "AssumeRoleWithWebIdentity" => Some(Action::AssumeRoleWithWebIdentity),
            "AssumeRoleWithSAML" => Some(Action::AssumeRoleWithSaml),
            "GetFederationToken" => Some(Action::GetFederationToken),
            "GetSessionToken" => Some(Action::GetSessionToken),
            "GetCallerIdentity" => Some(Action::GetCallerIdentity),
            _ => None,
        }
    }

    /// Its name in the API, the metrics and the log (`sts:` + it).
    fn as_str(self) -> &'static str {
        match self {
            Action::AssumeRole => "AssumeRole",
            Action::AssumeRoleWithWebIdentity => "AssumeRoleWithWebIdentity",
            Action::AssumeRoleWithSaml => "AssumeRoleWithSAML",
            Action::GetFederationToken => "GetFederationToken",
            Action::GetSessionToken => "GetSessionToken",
            Action::GetCallerIdentity => "GetCallerIdentity",
        }
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

fn unknown_action(name: &str) -> StsError {
    StsError::new(
        400,
        "InvalidAction",
        format!("Could not find operation {name} for version {VERSION}"),
    )
}

fn store_error(e: StoreError) -> StsError {
    match e {
        StoreError::UnknownPrincipal(p) => {
            StsError::access_denied(format!("`{p}` is not in the account export"))
        }
        other => StsError::new(503, "ServiceUnavailable", other.to_string()),
    }
}
