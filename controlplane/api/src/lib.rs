//! The IAM API: AWS's IAM Query API (`Action=CreateUser&Version=2010-05-08&…`, XML answers in
//! `https://iam.amazonaws.com/doc/2010-05-08/`) over the IAM database, so `aws iam --endpoint-url`,
//! boto3 and the AWS SDKs work unchanged.
//!
//! Every call is, in order: read (parameters typed with IAM's rules; a violation is
//! `ValidationError` before anything else), authenticated (SigV4 with the database's keys and
//! sessions, scoped to the `iam` service), authorized by the engine exactly as AWS authorizes IAM
//! calls (`iam:CreateUser` on `arn:aws:iam::ACCOUNT:user/PATH/NAME`, with the caller's policies,
//! boundary, SCPs, session policy and MFA, and the call's condition keys), done in one database
//! transaction, and written to the decision log as a CloudTrail management event.
//!
//! What this crate must not do: speak HTTP itself (the server hands it a request and writes its
//! answer), or decide anything without the engine.

#![forbid(unsafe_code)]

mod action;
mod audit;
mod ctx;
mod handlers;
mod render;
mod request;

pub use action::Action;

use ctx::{Authenticated, Ctx};
use iamlet_auth::sigv4::{HttpRequest, SigV4Error, SigV4ErrorCode};
use iamlet_auth::Authenticator;
use iamlet_authz::{
    new_request_id, Authorizer, CheckDecision, CheckInput, Identity, Origin, Protocol,
};
use iamlet_decision_log::{redact, DecisionRecord};
use iamlet_iam_store::{ErrorCode, Iam, IamError};
use iamlet_query::{error_document, success_document, Fault, Params};
use iamlet_store::Store;
use request::Req;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// The IAM API's XML namespace.
pub const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// The API version every request names.
pub const VERSION: &str = "2010-05-08";
/// The largest request body accepted: three policy documents of the largest size, URL-encoded,
/// with room to spare.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// A call as the server received it.
#[derive(Debug)]
pub struct ApiRequest {
    /// The method.
    pub method: String,
    /// The `Host` header.
    pub host: String,
    /// The path and query.
    pub path: String,
    /// Headers, lower-case names.
    pub headers: HashMap<String, String>,
    /// The body (at most [`MAX_BODY_BYTES`]: the server refuses larger ones).
    pub body: Vec<u8>,
    /// The client.
    pub peer: SocketAddr,
}

/// The answer: an HTTP status and an XML document.
#[derive(Debug)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// The XML document.
    pub body: String,
    /// `x-amzn-RequestId`.
    pub request_id: String,
}

impl ApiResponse {
    /// An error answered before a call could be read (a body too large).
    pub fn error(e: &IamError) -> ApiResponse {
        let request_id = new_request_id();
        ApiResponse {
            status: e.code.status(),
            body: error_document(
                NAMESPACE,
                Fault::of_status(e.code.status()),
                e.code.as_str(),
                &e.message,
                &request_id,
            ),
            request_id,
        }
    }
}

/// The IAM API.
#[derive(Debug)]
pub struct IamApi {
    pub(crate) iam: Iam,
    pub(crate) authz: Arc<Authorizer>,
    pub(crate) store: Arc<Store>,
    pub(crate) authenticator: Arc<Authenticator>,
    /// How often `WatchChanges` looks for another process's commits (on SQLite; PostgreSQL's
    /// notifications wake it at once).
    pub(crate) feed_poll: std::time::Duration,
}

/// What a handler answers: its result element's contents.
pub(crate) type Answer = Result<String, IamError>;

impl IamApi {
    /// The API over a database: callers are verified with `authenticator` (the database's keys)
    /// and authorized with `store` (the database's principals) by `authz`'s engine, which also
    /// holds the decision log and metrics.
    pub fn new(
        iam: Iam,
        authz: Arc<Authorizer>,
        store: Arc<Store>,
        authenticator: Arc<Authenticator>,
    ) -> IamApi {
        IamApi {
            iam,
            authz,
            store,
            authenticator,
            feed_poll: std::time::Duration::from_millis(500),
        }
    }

    /// How often `WatchChanges` looks for another process's commits where nothing notifies it
    /// (SQLite): the server's `[iam] poll_interval`.
    pub fn with_feed_poll(mut self, poll: std::time::Duration) -> IamApi {
        self.feed_poll = poll;
        self
    }

    /// The database.
    pub fn iam(&self) -> &Iam {
        &self.iam
    }

    /// Answers one call.
    pub async fn call(&self, req: ApiRequest) -> ApiResponse {
        let started = Instant::now();
        let request_id = new_request_id();
        let query = req.path.split_once('?').map_or("", |(_, q)| q).to_owned();
        let input = CheckInput {
            protocol: Protocol::Iam,
            origin: Origin::Direct,
            source_address: Some(req.peer.ip().to_string()),
            source_principal: None,
            method: req.method.clone(),
            scheme: "http".into(),
            host: req.host.clone(),
            path: req.path.clone(),
            headers: req.headers,
            filter_metadata: HashMap::new(),
            context_extensions: HashMap::new(),
            body: None,
        };
        let mut rec = DecisionRecord {
            source_ip_address: input.source_address.clone(),
            user_agent: input.headers.get("user-agent").cloned(),
            http_method: input.method.clone(),
            http_path: redact::path_only(&input.path).to_owned(),
            ..DecisionRecord::begin(
                request_id.clone(),
                input.protocol.as_str(),
                self.authz.evaluator().name(),
                true,
            )
        };
        let mut audit = audit::Audit::new(self.iam.account_id());
        let result = self
            .run(&input, &query, &req.body, &mut rec, &mut audit)
            .await;
        let action = audit.action;
        match &result {
            Ok(_) => {
                rec.decision = CheckDecision::Allow.as_str().to_owned();
                rec.allowed = true;
            }
            Err(e) => {
                if rec.decision.is_empty() {
                    rec.decision = CheckDecision::Error.as_str().to_owned();
                }
                rec.reason = if rec.reason.is_empty() {
                    e.to_string()
                } else {
                    format!("{e} ({})", rec.reason)
                };
            }
        }
        rec.management = Some(audit.event(result.as_ref().err()));
        rec.latency_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.authz.decision_log().record(rec);
        match (result, action) {
            (Ok(inner), Some(action)) => ApiResponse {
                status: 200,
                body: success_document(NAMESPACE, action.as_str(), &inner, &request_id),
                request_id,
            },
            (Ok(_), None) => ApiResponse::error(&IamError::service("no action")),
            (Err(e), _) => ApiResponse {
                status: e.code.status(),
                body: error_document(
                    NAMESPACE,
                    Fault::of_status(e.code.status()),
                    e.code.as_str(),
                    &e.message,
                    &request_id,
                ),
                request_id,
            },
        }
    }

    async fn run(
        &self,
        input: &CheckInput,
        query: &str,
        body: &[u8],
        rec: &mut DecisionRecord,
        audit: &mut audit::Audit,
    ) -> Answer {
        let params = Params::parse_unique(query, body).map_err(|d| {
            IamError::new(
                ErrorCode::InvalidInput,
                format!("the parameter `{}` is given more than once", d.0),
            )
        })?;
        let name = params.get("Action").unwrap_or_default().to_owned();
        let Some(action) = Action::parse(&name) else {
            return Err(if name.is_empty() {
                IamError::new(ErrorCode::InvalidAction, "the request has no Action")
            } else {
                IamError::new(
                    ErrorCode::InvalidAction,
                    format!("Could not find operation {name} for version {VERSION}"),
                )
            });
        };
        audit.action = Some(action);
        audit.parameters(&params);
        rec.action = Some(action.iam_action());
        if params.get("Version") != Some(VERSION) {
            return Err(IamError::new(
                ErrorCode::InvalidAction,
                format!("IAM's API version is {VERSION}"),
            ));
        }
        let caller = self.authenticate(input, body).inspect_err(|_| {
            rec.decision = CheckDecision::Unauthenticated.as_str().to_owned();
        })?;
        rec.principal = Some(caller.identity.principal.clone());
        rec.access_key_id = Some(caller.access_key_id.clone());
        rec.region = Some(caller.region.clone());
        audit.user_identity(self, &caller).await;
        let req = Req(params);
        let tx = if action.read_only() {
            self.iam.read().await?
        } else {
            self.iam.write().await?
        };
        let mut c = Ctx {
            api: self,
            iam: &self.iam,
            req: &req,
            tx,
            caller: &caller,
            input,
            action,
            rec,
            watch: None,
        };
        let answer = handlers::run(&mut c).await?;
        c.tx.commit().await?;
        match c.watch {
            None => Ok(answer),
            Some(w) => {
                let db = self.iam.database();
                let after = match w.after {
                    Some(a) => a,
                    None => db.latest_change().await?,
                };
                let page = db
                    .wait_for_changes(after, w.max_items, w.wait, self.feed_poll)
                    .await?;
                Ok(handlers::render_changes(&page))
            }
        }
    }

    fn authenticate(&self, input: &CheckInput, body: &[u8]) -> Result<Authenticated, IamError> {
        let req = HttpRequest {
            method: &input.method,
            host: &input.host,
            path: &input.path,
            headers: &input.headers,
            body: Some(body),
        };
        let now = chrono::Utc::now();
        match self.authenticator.verify(&req, now) {
            Ok(Some(v)) => {
                if v.service != "iam" {
                    return Err(IamError::new(
                        ErrorCode::SignatureDoesNotMatch,
                        format!(
                            "Credential should be scoped to correct service: 'iam', not '{}'",
                            v.service
                        ),
                    ));
                }
                let identity = Identity::of_caller(&v.holder, v.region.clone(), now.timestamp());
                Ok(Authenticated {
                    caller: v.holder,
                    access_key_id: v.access_key_id,
                    region: v.region,
                    identity,
                })
            }
            Ok(None) => Err(IamError::new(
                ErrorCode::MissingAuthenticationToken,
                "Request is missing Authentication Token",
            )),
            Err(e) => Err(auth_error(&e)),
        }
    }
}

/// IAM's code for a signature that did not verify.
fn auth_error(e: &SigV4Error) -> IamError {
    let code = match e.code() {
        SigV4ErrorCode::InvalidAccessKeyId | SigV4ErrorCode::InvalidClientTokenId => {
            ErrorCode::InvalidClientTokenId
        }
        SigV4ErrorCode::ExpiredToken => ErrorCode::ExpiredToken,
        SigV4ErrorCode::SignatureDoesNotMatch => ErrorCode::SignatureDoesNotMatch,
        SigV4ErrorCode::RequestTimeTooSkewed => ErrorCode::RequestExpired,
        SigV4ErrorCode::AccessDenied => ErrorCode::AccessDenied,
        SigV4ErrorCode::IncompleteSignature | SigV4ErrorCode::MissingPayloadHash => {
            ErrorCode::IncompleteSignature
        }
    };
    IamError::new(code, e.message())
}
