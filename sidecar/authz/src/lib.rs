//! From an HTTP request (as Envoy describes it, over gRPC or HTTP) to an IAM question and back to an
//! answer. Protocol-free: `grpc.rs` and `http.rs` translate to and from [`CheckInput`] and [`Outcome`].
//!
//! 1. The principal: the owner of the access key of a SigV4 signature (header or presigned URL),
//!    verified with the credentials file, else an mTLS SPIFFE ID mapped by rules, else verified JWT
//!    claims in Envoy's metadata, else a header the configuration names as trusted. None: 401; a
//!    signature that does not verify: 403 with AWS's error code.
//! 2. The action and resource: per-route `context_extensions` (`iamlet.action`, `iamlet.resource`),
//!    else the route map. No route: 403 (unless configured to allow).
//! 3. The context, derived as AWS derives it: `aws:SourceIp`, `aws:SecureTransport`,
//!    `aws:CurrentTime`, `aws:EpochTime`, `aws:RequestedRegion` (configured), `aws:UserAgent`, `aws:Referer`, `aws:RequestTag/*` and
//!    `aws:TagKeys` from configured headers, MFA keys from the JWT's `amr` and `auth_time`, the route's
//!    keys; principal tags come from the store.
//! 4. The store resolves the principal (cached) and adds the resource's side; the engine decides.
//! 5. Any failure denies (fail closed) unless `fail_open` is set; a dry run allows everything and logs
//!    what it would have done; a shadow store decides beside the live one and disagreements are logged.

use crate::config::{Checked, JwtSection, SpiffeRule};
use crate::credentials::sigv4::{self, SigV4Error};
use crate::credentials::{Authenticator, Caller, OpenedSession, Secret, WatchedCredentials};
use crate::decision_log::{DecisionLog, DecisionRecord};
use crate::evaluator::{Evaluator, Verdict};
use crate::metrics::{CheckLabels, KindLabels, Metrics};
use crate::redact;
use crate::routes::{HttpParts, Mapped, Routes, Unmapped};
use crate::store::{Query, Store, StoreError};
use iamlet_engine::{ContextMap, ContextValue, Decision};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Who describes the client: a proxy forwarding its request (Envoy), or the connection itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// Envoy forwards the client's request: its `X-Forwarded-*` and tag headers describe the client
    /// (within `[context] trusted_hops`).
    #[default]
    Proxied,
    /// The client connects itself (STS): only the connection says where it is and how it came, and
    /// no header it sends is taken for the address, the scheme or request tags.
    Direct,
}

/// A request to authorize, as Envoy describes it.
#[derive(Clone, Debug, Default)]
pub struct CheckInput {
    /// `grpc` or `http`.
    pub protocol: &'static str,
    /// Whether a proxy forwards the request or the client connected itself.
    pub origin: Origin,
    /// The downstream peer's IP address.
    pub source_address: Option<String>,
    /// The downstream peer's mTLS identity (a SPIFFE URI SAN), when Envoy verified one.
    pub source_principal: Option<String>,
    /// The HTTP method.
    pub method: String,
    /// `http` or `https`.
    pub scheme: String,
    /// The host (`:authority`).
    pub host: String,
    /// The path with its query.
    pub path: String,
    /// Headers, lower-case names.
    pub headers: HashMap<String, String>,
    /// The JWT payload verified by Envoy's `jwt_authn` filter, by filter name then key.
    pub filter_metadata: HashMap<String, serde_json::Value>,
    /// Per-route `context_extensions`.
    pub context_extensions: HashMap<String, String>,
    /// The request's body, whole, when Envoy sends it (`with_request_body`; never a partial one):
    /// a SigV4 signature is then checked against it.
    pub body: Option<Vec<u8>>,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Let the request through.
    pub allowed: bool,
    /// 200 when allowed; 403 or 401 when denied.
    pub status: u16,
    /// The request id (echoed to the client in deny bodies).
    pub request_id: String,
    /// Headers to add upstream when allowed.
    pub upstream_headers: Vec<(String, String)>,
    /// The JSON body of a deny.
    pub body: String,
    /// `Allow`, `ExplicitDeny`, `ImplicitDeny`, `Unauthenticated`, `Unmapped`, `Error`.
    pub decision: String,
    /// Why, in words (logged; in bodies only with `verbose_denials`).
    pub reason: String,
}

/// Why a check could not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// More checks in flight than `[limits] concurrency`.
    Shed,
    /// No decision within `[limits] check_timeout`.
    Timeout,
    /// The request's path and headers are over `[limits] max_header_bytes`.
    TooLarge,
}

impl FailureKind {
    /// The kind's name in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Shed => "shed",
            FailureKind::Timeout => "timeout",
            FailureKind::TooLarge => "limit",
        }
    }

    /// Whether the client caused it: such a check is denied even with `fail_open`.
    pub fn client_caused(self) -> bool {
        matches!(self, FailureKind::TooLarge)
    }
}

/// The authorizer: configuration, store, engine, log and metrics.
#[derive(Debug)]
pub struct Authorizer {
    checked: Checked,
    store: Arc<Store>,
    shadow: Option<Arc<Store>>,
    evaluator: Evaluator,
    log: DecisionLog,
    metrics: Arc<Metrics>,
    authenticator: Option<Arc<Authenticator>>,
    admin_token: Option<Secret>,
}

/// The authorizer as a `tower::Service`: the innermost service of the servers' stack.
#[derive(Clone, Debug)]
pub struct AuthorizeService(pub Arc<Authorizer>);

impl tower::Service<CheckInput> for AuthorizeService {
    type Response = Outcome;
    type Error = std::convert::Infallible;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Outcome, Self::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, input: CheckInput) -> Self::Future {
        let authz = self.0.clone();
        Box::pin(async move { Ok(authz.check(input).await) })
    }
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(0);

/// Direct clients' headers never become request tags.
static EMPTY_TAG_HEADERS: std::collections::BTreeMap<String, String> =
    std::collections::BTreeMap::new();

pub(crate) fn new_request_id() -> String {
    let n = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    let t = chrono::Utc::now().timestamp_micros();
    format!("iamlet-{t:x}-{n:x}")
}

/// Fills `{name}` placeholders; `None` when a name has no value.
fn fill(template: &str, get: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let end = after.find('}')?;
        out.push_str(&get(after.get(1..end)?)?);
        rest = after.get(end + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

fn spiffe_principal(rules: &[SpiffeRule], id: &str) -> Option<String> {
    rules.iter().find_map(|r| {
        let pat: Vec<&str> = r.pattern.split('/').collect();
        let got: Vec<&str> = id.split('/').collect();
        if pat.len() != got.len() {
            return None;
        }
        let mut caps = HashMap::new();
        for (p, g) in pat.iter().zip(&got) {
            match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !g.is_empty() => {
                    caps.insert(name, (*g).to_owned());
                }
                Some(_) => return None,
                None if p == g => {}
                None => return None,
            }
        }
        fill(&r.principal, &|n| caps.get(n).cloned())
    })
}

fn claim_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Who is asking, and what the request's context learns from how they authenticated.
pub(crate) struct Identity {
    pub(crate) principal: String,
    pub(crate) session_issuer: Option<String>,
    pub(crate) context: Vec<(String, ContextValue)>,
    /// Temporary credentials: their session policy limits every request.
    pub(crate) session: Option<Arc<OpenedSession>>,
    /// The region a SigV4 signature's credential scope names. It never becomes
    /// `aws:RequestedRegion` (the server's region is the request's): a scope naming another region
    /// than the server's is a signature for another endpoint, refused.
    pub(crate) signed_region: Option<String>,
}

impl Identity {
    /// The identity of a verified signer: an IAM user, or a session with its MFA, tags and policy.
    pub(crate) fn of_caller(caller: &Caller, signed_region: String, now: i64) -> Identity {
        let mut context = Vec::new();
        let Caller::Session(opened) = caller else {
            return Identity {
                principal: caller.principal().to_owned(),
                session_issuer: None,
                context,
                session: None,
                signed_region: Some(signed_region),
            };
        };
        let s = &opened.session;
        // Temporary credentials always say whether MFA was used (long-term keys never do).
        context.push((
            "aws:MultiFactorAuthPresent".to_owned(),
            s.mfa_authenticated_at.is_some().into(),
        ));
        if let Some(at) = s.mfa_authenticated_at {
            context.push((
                "aws:MultiFactorAuthAge".to_owned(),
                now.saturating_sub(at).max(0).to_string().into(),
            ));
        }
        if let Some(t) = chrono::DateTime::from_timestamp(s.issued_at, 0) {
            context.push((
                "aws:TokenIssueTime".to_owned(),
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into(),
            ));
        }
        for (k, v) in &s.tags {
            context.push((format!("aws:PrincipalTag/{k}"), v.as_str().into()));
        }
        if let Some(id) = &s.source_identity {
            context.push(("aws:SourceIdentity".to_owned(), id.as_str().into()));
        }
        Identity {
            principal: s.arn.clone(),
            session_issuer: None,
            context,
            session: Some(opened.clone()),
            signed_region: Some(signed_region),
        }
    }
}

fn jwt_identity(jwt: &JwtSection, input: &CheckInput) -> Option<Identity> {
    let payload = input
        .filter_metadata
        .get(&jwt.filter)?
        .get(&jwt.payload_key)?;
    let claim = |n: &str| payload.get(n).and_then(claim_text);
    let principal = fill(&jwt.principal, &claim)?;
    let mut context = Vec::new();
    let amr: Vec<String> = payload
        .get("amr")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(claim_text).collect())
        .unwrap_or_default();
    let mfa = amr.iter().any(|m| m == "mfa");
    context.push((
        "aws:MultiFactorAuthPresent".to_owned(),
        ContextValue::from(mfa),
    ));
    if mfa {
        if let Some(auth) = payload.get("auth_time").and_then(|t| t.as_i64()) {
            let age = chrono::Utc::now().timestamp().saturating_sub(auth).max(0);
            context.push(("aws:MultiFactorAuthAge".to_owned(), age.to_string().into()));
        }
    }
    if let Some(iat) = payload.get("iat").and_then(|t| t.as_i64()) {
        if let Some(t) = chrono::DateTime::from_timestamp(iat, 0) {
            context.push((
                "aws:TokenIssueTime".to_owned(),
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into(),
            ));
        }
    }
    for c in &jwt.tag_claims {
        if let Some(v) = claim(c) {
            context.push((format!("aws:PrincipalTag/{c}"), v.into()));
        }
    }
    Some(Identity {
        principal,
        session_issuer: jwt.session_issuer.as_deref().and_then(claim),
        context,
        session: None,
        signed_region: None,
    })
}

impl Authorizer {
    /// Assembles an authorizer.
    pub fn new(
        checked: Checked,
        store: Arc<Store>,
        shadow: Option<Arc<Store>>,
        evaluator: Evaluator,
        log: DecisionLog,
        metrics: Arc<Metrics>,
    ) -> Self {
        Authorizer {
            checked,
            store,
            shadow,
            evaluator,
            log,
            metrics,
            authenticator: None,
            admin_token: None,
        }
    }

    /// Requires this token for the admin port's changes.
    pub fn with_admin_token(mut self, token: Secret) -> Self {
        self.admin_token = Some(token);
        self
    }

    /// The admin port's token, when configured.
    pub fn admin_token(&self) -> Option<&Secret> {
        self.admin_token.as_ref()
    }

    /// Verifies SigV4-signed requests with these access keys and sessions.
    pub fn with_credentials(mut self, credentials: Arc<WatchedCredentials>) -> Self {
        self.authenticator = Some(Arc::new(Authenticator::new(credentials)));
        self
    }

    /// The signature verifier, when access keys are configured.
    pub fn authenticator(&self) -> Option<&Arc<Authenticator>> {
        self.authenticator.as_ref()
    }

    /// The identity store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The decision log.
    pub fn decision_log(&self) -> &DecisionLog {
        &self.log
    }

    /// The engine.
    pub fn evaluator(&self) -> &Evaluator {
        &self.evaluator
    }

    /// The configuration.
    pub fn config(&self) -> &crate::config::Config {
        &self.checked.config
    }

    /// The routes.
    pub fn routes(&self) -> &Routes {
        &self.checked.routes
    }

    /// The SigV4 signer, when the request is signed and access keys are configured.
    fn sigv4_identity(&self, input: &CheckInput) -> Result<Option<Identity>, SigV4Error> {
        let Some(authenticator) = &self.authenticator else {
            return Ok(None);
        };
        let req = sigv4::HttpRequest {
            method: &input.method,
            host: &input.host,
            path: &input.path,
            headers: &input.headers,
            body: input.body.as_deref(),
        };
        let now = chrono::Utc::now();
        let Some(v) = authenticator.verify(&req, now)? else {
            return Ok(None);
        };
        Ok(Some(Identity::of_caller(
            &v.holder,
            v.region,
            now.timestamp(),
        )))
    }

    fn identify(&self, input: &CheckInput) -> Result<Option<Identity>, SigV4Error> {
        if let Some(identity) = self.sigv4_identity(input)? {
            return Ok(Some(identity));
        }
        Ok(self.identify_unsigned(input))
    }

    fn identify_unsigned(&self, input: &CheckInput) -> Option<Identity> {
        let p = &self.checked.config.principal;
        if let Some(id) = input.source_principal.as_deref().filter(|s| !s.is_empty()) {
            if let Some(principal) = spiffe_principal(&p.spiffe, id) {
                return Some(Identity {
                    principal,
                    session_issuer: None,
                    context: Vec::new(),
                    session: None,
                    signed_region: None,
                });
            }
        }
        if let Some(jwt) = &p.jwt {
            if let Some(i) = jwt_identity(jwt, input) {
                return Some(i);
            }
        }
        let header = p.trusted_header.as_ref()?;
        let principal = input.headers.get(&header.to_ascii_lowercase())?.trim();
        (!principal.is_empty()).then(|| Identity {
            principal: principal.to_owned(),
            session_issuer: None,
            context: Vec::new(),
            session: None,
            signed_region: None,
        })
    }

    fn map(&self, input: &CheckInput) -> Result<Mapped, Unmapped> {
        let ext = &input.context_extensions;
        if let (Some(action), Some(resource)) =
            (ext.get("iamlet.action"), ext.get("iamlet.resource"))
        {
            return Ok(Mapped {
                action: action.clone(),
                resource: resource.clone(),
                resource_account: ext.get("iamlet.resource_account").cloned(),
                context: Vec::new(),
            });
        }
        let (path, query) = input.path.split_once('?').unwrap_or((&input.path, ""));
        let host = input
            .host
            .rsplit_once(':')
            .map_or(input.host.as_str(), |(h, port)| {
                if port.bytes().all(|b| b.is_ascii_digit()) {
                    h
                } else {
                    &input.host
                }
            });
        let header = |n: &str| input.headers.get(n).cloned();
        self.checked.routes.map(&HttpParts {
            method: &input.method,
            host,
            path,
            query,
            header: &header,
        })
    }

    fn source_ip(&self, input: &CheckInput) -> Option<String> {
        let hops = self.checked.config.context.trusted_hops;
        if hops > 0 && input.origin == Origin::Proxied {
            if let Some(xff) = input.headers.get("x-forwarded-for") {
                let entries: Vec<&str> = xff.split(',').map(str::trim).collect();
                if let Some(ip) = entries.len().checked_sub(hops).and_then(|i| entries.get(i)) {
                    if ip.parse::<std::net::IpAddr>().is_ok() {
                        return Some((*ip).to_owned());
                    }
                }
            }
        }
        input.source_address.clone()
    }

    /// The region this request is served in: the route's `aws:RequestedRegion`, else the
    /// configured one; `None` when neither says.
    pub(crate) fn served_region<'a>(&'a self, mapped: &'a Mapped) -> Option<&'a str> {
        mapped
            .context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("aws:RequestedRegion"))
            .map(|(_, v)| v.as_str())
            .or(self.checked.config.context.region.as_deref())
    }

    /// A SigV4 signature is for one region's endpoint: a scope naming another region than the one
    /// this request is served in is refused, as AWS refuses it (the client never picks
    /// `aws:RequestedRegion`).
    pub(crate) fn check_signed_region(
        &self,
        identity: &Identity,
        mapped: &Mapped,
    ) -> Result<(), SigV4Error> {
        match (
            identity.signed_region.as_deref(),
            self.served_region(mapped),
        ) {
            (Some(signed), Some(served)) => sigv4::check_region(signed, served),
            _ => Ok(()),
        }
    }

    pub(crate) fn context(
        &self,
        input: &CheckInput,
        identity: &Identity,
        mapped: &Mapped,
    ) -> ContextMap {
        let mut ctx = ContextMap::new();
        let now = chrono::Utc::now();
        ctx.insert(
            "aws:CurrentTime",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        ctx.insert("aws:EpochTime", now.timestamp().to_string());
        if let Some(ip) = self.source_ip(input) {
            ctx.insert("aws:SourceIp", ip);
        }
        let secure = input.scheme.eq_ignore_ascii_case("https") || input.source_principal.is_some();
        ctx.insert("aws:SecureTransport", secure);
        if let Some(region) = &self.checked.config.context.region {
            ctx.insert("aws:RequestedRegion", region.as_str());
        }
        if let Some(ua) = input.headers.get("user-agent") {
            ctx.insert("aws:UserAgent", ua.as_str());
        }
        if let Some(r) = input.headers.get("referer") {
            ctx.insert("aws:Referer", r.as_str());
        }
        let mut tag_keys = Vec::new();
        let tag_headers = match input.origin {
            Origin::Proxied => &self.checked.config.context.request_tags,
            Origin::Direct => &EMPTY_TAG_HEADERS,
        };
        for (header, tag) in tag_headers {
            if let Some(v) = input.headers.get(&header.to_ascii_lowercase()) {
                ctx.insert(&format!("aws:RequestTag/{tag}"), v.as_str());
                tag_keys.push(tag.clone());
            }
        }
        if !tag_keys.is_empty() {
            ctx.insert("aws:TagKeys", ContextValue::multi(tag_keys));
        }
        for (k, v) in &identity.context {
            ctx.insert(k, v.clone());
        }
        for (k, v) in &mapped.context {
            ctx.insert(k, v.as_str());
        }
        ctx
    }

    pub(crate) async fn decide(
        &self,
        store: &Store,
        identity: &Identity,
        mapped: &Mapped,
        context: ContextMap,
    ) -> Result<Verdict, (String, String)> {
        let query = Query {
            principal: identity.principal.clone(),
            session_issuer: identity.session_issuer.clone(),
            action: mapped.action.clone(),
            resource: mapped.resource.clone(),
            resource_account: mapped.resource_account.clone(),
            context,
        };
        let mut prepared = store.prepare(query).await.map_err(|e| {
            let kind = match &e {
                StoreError::UnknownPrincipal(_) => "unknown_principal",
                StoreError::Unavailable { .. } => "unavailable",
                StoreError::Request(_) => "bad_request",
                StoreError::MissingIssuer(_) => "missing_issuer",
            };
            (kind.to_owned(), e.to_string())
        })?;
        if let Some(policy) = identity.session.as_ref().and_then(|s| s.policy.clone()) {
            prepared = prepared.with_policies([policy]);
        }
        self.evaluator.decide(&prepared).await.map_err(|e| {
            let kind = match &e.0 {
                iamlet_wasm_host::HostError::Trap { kind, .. } => format!("engine_{kind}"),
                _ => "engine_error".to_owned(),
            };
            (kind, e.to_string())
        })
    }

    /// Decides a request. Never fails: every error is a deny (or, with `fail_open`, an allow).
    pub async fn check(&self, input: CheckInput) -> Outcome {
        let started = Instant::now();
        // The HTTP front end refuses oversized headers before parsing them; gRPC requests arrive
        // whole, so the same limit is applied here.
        // (gRPC checks carry the path twice, as `path` and as the `:path` header: count it once.)
        let header_bytes: usize = input
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
            + if input.headers.contains_key(":path") {
                0
            } else {
                input.path.len()
            };
        let limit = self.checked.config.limits.max_header_bytes;
        if header_bytes > limit {
            let mut out = self.failure(
                input.protocol,
                FailureKind::TooLarge,
                format!(
                    "the request's path and headers are {header_bytes} bytes, over the limit of {limit} ([limits] max_header_bytes)"
                ),
            );
            out.status = 431;
            return out;
        }
        let request_id = input
            .headers
            .get("x-request-id")
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .cloned()
            .unwrap_or_else(new_request_id);
        let cfg = &self.checked.config;
        let mut rec = DecisionRecord {
            access_key_id: self
                .authenticator
                .as_ref()
                .and_then(|_| signing_key_id(&input)),
            source_ip_address: self.source_ip(&input),
            user_agent: input.headers.get("user-agent").cloned(),
            http_method: input.method.clone(),
            http_path: redact::path_and_query(&input.path),
            ..DecisionRecord::begin(
                request_id.clone(),
                input.protocol,
                self.evaluator.name(),
                cfg.mode.enforce,
            )
        };

        let mut auth_error = None;
        let (decision, status, allowed, reason, upstream) = 'out: {
            let identity = match self.identify(&input) {
                Ok(Some(identity)) => identity,
                Ok(None) => {
                    break 'out (
                        "Unauthenticated".to_owned(),
                        401,
                        !cfg.mode.enforce,
                        "no principal could be established (no SigV4 signature, mapped mTLS identity, verified JWT or trusted header)".to_owned(),
                        Vec::new(),
                    );
                }
                Err(e) => {
                    let reason = e.to_string();
                    auth_error = Some(e);
                    break 'out (
                        "Unauthenticated".to_owned(),
                        403,
                        !cfg.mode.enforce,
                        reason,
                        Vec::new(),
                    );
                }
            };
            rec.principal = Some(identity.principal.clone());
            let mapped = match self.map(&input) {
                Ok(m) => m,
                Err(Unmapped::NoRoute) => {
                    let allow = cfg.responses.allow_unmapped || !cfg.mode.enforce;
                    break 'out (
                        "Unmapped".to_owned(),
                        403,
                        allow,
                        format!(
                            "no route maps {} {}",
                            input.method,
                            redact::path_only(&input.path)
                        ),
                        Vec::new(),
                    );
                }
                // An ambiguous request is the client's doing: denied whatever `allow_unmapped`
                // says (a dry run still lets it through, and logs it).
                Err(e) => {
                    break 'out (
                        "BadRequest".to_owned(),
                        400,
                        !cfg.mode.enforce,
                        format!("{} {}: {e}", input.method, redact::path_only(&input.path)),
                        Vec::new(),
                    );
                }
            };
            rec.action = Some(mapped.action.clone());
            rec.resource = Some(mapped.resource.clone());
            if let Err(e) = self.check_signed_region(&identity, &mapped) {
                let reason = e.to_string();
                auth_error = Some(e);
                break 'out (
                    "Unauthenticated".to_owned(),
                    403,
                    !cfg.mode.enforce,
                    reason,
                    Vec::new(),
                );
            }
            let context = self.context(&input, &identity, &mapped);
            rec.region = context
                .get("aws:RequestedRegion")
                .and_then(|v| v.values().first().cloned())
                .or_else(|| identity.signed_region.clone());
            let shadow_context = self.shadow.as_ref().map(|_| context.clone());
            match self.decide(&self.store, &identity, &mapped, context).await {
                Ok(v) => {
                    if let (Some(shadow), Some(ctx)) = (&self.shadow, shadow_context) {
                        let theirs = match self.decide(shadow, &identity, &mapped, ctx).await {
                            Ok(s) => s.decision.to_string(),
                            Err((kind, _)) => format!("Error({kind})"),
                        };
                        if theirs != v.decision.as_str() {
                            self.metrics.shadow_disagreements.inc();
                            rec.shadow_decision = Some(theirs);
                        }
                    }
                    if let Some(d) = &v.deciding {
                        rec.set_deciding(d.clone());
                    }
                    let allowed = v.decision == Decision::Allow || !cfg.mode.enforce;
                    let reason = match (&v.decision, &rec.deciding_policy, &rec.deciding_statement)
                    {
                        (Decision::ImplicitDeny, _, _) => format!(
                            "no policy allows `{}` on `{}` for `{}`",
                            mapped.action, mapped.resource, identity.principal
                        ),
                        (d, Some(p), Some(s)) => format!("{d} by {s} of `{p}`"),
                        (d, _, _) => d.to_string(),
                    };
                    let upstream = vec![
                        (
                            cfg.responses.principal_header.clone(),
                            identity.principal.clone(),
                        ),
                        ("x-iamlet-action".to_owned(), mapped.action.clone()),
                    ];
                    let status = if v.decision == Decision::Allow {
                        200
                    } else {
                        403
                    };
                    (v.decision.to_string(), status, allowed, reason, upstream)
                }
                Err((kind, message)) => {
                    if kind.starts_with("engine") {
                        self.metrics
                            .engine_failures
                            .get_or_create(&KindLabels { kind: kind.clone() })
                            .inc();
                    } else if kind != "unknown_principal" {
                        self.metrics
                            .store_failures
                            .get_or_create(&KindLabels { kind: kind.clone() })
                            .inc();
                    }
                    let decision = if kind == "unknown_principal" {
                        "ImplicitDeny"
                    } else {
                        "Error"
                    };
                    // `fail_open` covers Iamlet's own failures (the store unavailable, the engine
                    // failing); a request that cannot even be built (a malformed principal, action or
                    // resource) is the client's doing and stays denied.
                    let ours = kind == "unavailable" || kind.starts_with("engine");
                    let allow = (cfg.responses.fail_open && ours) || !cfg.mode.enforce;
                    (decision.to_owned(), 403, allow, message, Vec::new())
                }
            }
        };

        let latency = started.elapsed();
        rec.decision = decision.clone();
        rec.allowed = allowed;
        rec.reason = reason.clone();
        rec.latency_micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.metrics
            .checks
            .get_or_create(&CheckLabels {
                protocol: input.protocol.to_owned(),
                decision: decision.clone(),
                allowed: allowed.to_string(),
            })
            .inc();
        self.metrics.latency.observe(latency.as_secs_f64());
        self.log.record(rec);
        let mut outcome = self.outcome(allowed, status, request_id, decision, reason, upstream);
        if let (Some(e), false) = (auth_error, outcome.allowed) {
            // AWS's error code and message: the client's SDK reports them as it would AWS's.
            let mut body: serde_json::Value =
                serde_json::from_str(&outcome.body).unwrap_or_default();
            body["error"] = e.code().as_str().into();
            body["message"] = e.message().into();
            outcome.body = body.to_string();
        }
        outcome
    }

    /// An answer when the check itself could not run (shed, timed out, too large). `fail_open`
    /// covers Iamlet's own failures only: what the client caused is always a denial.
    pub fn failure(&self, protocol: &'static str, kind: FailureKind, reason: String) -> Outcome {
        let allow = !self.checked.config.mode.enforce
            || (self.checked.config.responses.fail_open && !kind.client_caused());
        self.metrics
            .checks
            .get_or_create(&CheckLabels {
                protocol: protocol.to_owned(),
                decision: "Error".to_owned(),
                allowed: allow.to_string(),
            })
            .inc();
        let request_id = new_request_id();
        self.log.record(DecisionRecord {
            decision: "Error".to_owned(),
            allowed: allow,
            reason: format!("{}: {reason}", kind.as_str()),
            ..DecisionRecord::begin(
                request_id.clone(),
                protocol,
                self.evaluator.name(),
                self.checked.config.mode.enforce,
            )
        });
        self.outcome(
            allow,
            403,
            request_id,
            "Error".to_owned(),
            reason,
            Vec::new(),
        )
    }

    fn outcome(
        &self,
        allowed: bool,
        status: u16,
        request_id: String,
        decision: String,
        reason: String,
        upstream_headers: Vec<(String, String)>,
    ) -> Outcome {
        let body = if allowed {
            String::new()
        } else {
            let mut b = serde_json::json!({
                "error": if status == 401 { "Unauthenticated" } else { "AccessDenied" },
                "decision": decision,
                "requestId": request_id,
            });
            if self.checked.config.responses.verbose_denials {
                b["reason"] = serde_json::Value::String(reason.clone());
            }
            b.to_string()
        };
        Outcome {
            allowed,
            status: if allowed { 200 } else { status },
            request_id,
            upstream_headers: if allowed {
                upstream_headers
            } else {
                Vec::new()
            },
            body,
            decision,
            reason,
        }
    }
}

/// The access key id a SigV4 signature names (header or presigned), for the decision log.
fn signing_key_id(input: &CheckInput) -> Option<String> {
    let credential = match input.headers.get("authorization") {
        Some(a) if a.trim_start().starts_with(sigv4::ALGORITHM) => {
            a.split_once("Credential=").map(|(_, c)| c.to_owned())?
        }
        _ => {
            let query = input.path.split_once('?')?.1;
            query
                .split('&')
                .find_map(|p| p.strip_prefix("X-Amz-Credential="))
                .map(|c| {
                    percent_encoding::percent_decode_str(c)
                        .decode_utf8_lossy()
                        .into_owned()
                })?
        }
    };
    let id = credential.split('/').next()?.trim();
    (!id.is_empty() && id.len() <= 128).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_keys_are_read_from_header_and_query() {
        let path = "/o?X-Amz-Credential=AKIAEXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=aeee&x-amz-security-token=tok&a=b";
        let input = CheckInput {
            path: path.to_owned(),
            ..CheckInput::default()
        };
        assert_eq!(signing_key_id(&input).as_deref(), Some("AKIAEXAMPLE"));
        let mut input = CheckInput::default();
        input.headers.insert(
            "authorization".into(),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=00".into(),
        );
        assert_eq!(signing_key_id(&input).as_deref(), Some("AKIDEXAMPLE"));
        input
            .headers
            .insert("authorization".into(), "Bearer x".into());
        assert_eq!(signing_key_id(&input), None);
    }

    #[test]
    fn spiffe_rules_map_ids() {
        let rules = vec![SpiffeRule {
            pattern: "spiffe://cluster.local/ns/{ns}/sa/{sa}".into(),
            principal: "arn:aws:sts::111122223333:assumed-role/{sa}/{ns}".into(),
        }];
        assert_eq!(
            spiffe_principal(&rules, "spiffe://cluster.local/ns/prod/sa/billing").as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/billing/prod")
        );
        assert!(spiffe_principal(&rules, "spiffe://other/ns/prod/sa/billing").is_none());
        assert!(spiffe_principal(&rules, "spiffe://cluster.local/ns/prod/sa").is_none());
    }

    #[test]
    fn jwt_claims_make_principals_and_mfa_keys() {
        let jwt = JwtSection {
            filter: "envoy.filters.http.jwt_authn".into(),
            payload_key: "jwt_payload".into(),
            principal: "arn:aws:iam::111122223333:user/{sub}".into(),
            session_issuer: None,
            tag_claims: vec!["team".into()],
        };
        let mut input = CheckInput::default();
        input.filter_metadata.insert(
            "envoy.filters.http.jwt_authn".into(),
            serde_json::json!({"jwt_payload": {"sub": "alice", "amr": ["pwd", "mfa"], "auth_time": chrono::Utc::now().timestamp() - 30, "team": "red"}}),
        );
        let id = jwt_identity(&jwt, &input).unwrap();
        assert_eq!(id.principal, "arn:aws:iam::111122223333:user/alice");
        let get = |k: &str| {
            id.context
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.values()[0].clone())
        };
        assert_eq!(get("aws:MultiFactorAuthPresent").as_deref(), Some("true"));
        assert!(
            get("aws:MultiFactorAuthAge")
                .unwrap()
                .parse::<i64>()
                .unwrap()
                >= 30
        );
        assert_eq!(get("aws:PrincipalTag/team").as_deref(), Some("red"));
        input.filter_metadata.clear();
        assert!(jwt_identity(&jwt, &input).is_none());
    }
}
