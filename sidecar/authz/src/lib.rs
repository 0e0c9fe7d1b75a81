//! The check pipeline: from a request, as a front end describes it ([`CheckInput`]), to an IAM
//! question, and back to an answer ([`Outcome`]). Protocol-free: the server's gRPC, HTTP and STS
//! front ends translate to and from these types.
//!
//! A check runs in named stages:
//! 1. **identify** ([`identify`]): the principal — a SigV4 signature's key owner, an mTLS SPIFFE ID,
//!    verified JWT claims, or a trusted header. None: 401; a signature that does not verify: 403
//!    with AWS's error code.
//! 2. **map** (`map`): the action and resource — the route's `context_extensions`, else the route map.
//!    No route: 403 (unless configured to allow); an ambiguous request: 400.
//! 3. **context** (`context`): the condition keys AWS derives from the request.
//! 4. **decide** ([`Authorizer::decide`]): the store resolves the principal (cached) and adds the
//!    resource's side; the engine ([`engine`]) decides.
//! 5. **outcome** ([`outcome`]): a [`CheckDecision`], logged ([`iamlet_decision_log`]) and counted
//!    ([`metrics`]), and the answer. Any failure denies (fail closed) unless `fail_open` is set and
//!    the failure is Iamlet's own; a dry run allows everything and logs what it would have done; a
//!    shadow store decides beside the live one and disagreements are logged.
//!
//! What this crate must not do: listen on sockets or read configuration files (the server does),
//! or know IAM's semantics (the engine and `iamlet-account` do).

#![forbid(unsafe_code)]

mod context;
mod correlation;
pub mod decision_cache;
pub mod engine;
mod identify;
mod input;
mod map;
pub mod metrics;
mod outcome;
pub mod settings;
#[cfg(test)]
mod tests;

pub use correlation::Correlation;
pub use identify::Identity;
pub use input::{forwarded_for, CheckInput, Origin, Protocol, DEFAULT_MAX_BODY_BYTES};
pub use outcome::{CheckDecision, Failure, FailureKind, Outcome, DECISION_ID_HEADER};
pub use settings::Settings;

use decision_cache::{Ask, DecisionCache, DecisionCacheConfig, Lookup};
use engine::{Evaluator, Verdict};
use iamlet_auth::sigv4::SigV4Error;
use iamlet_auth::{Authenticator, CredentialSource};
use iamlet_decision_log::{redact, DecisionLog, DecisionRecord, SessionContext};
use iamlet_engine::{ContextMap, Decision, KnownKey};
use iamlet_routes::{Mapped, Unmapped};
use iamlet_store::{Query, Store, StoreError};
use metrics::{KindLabels, Metrics};
use outcome::Answer;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// The authorizer: settings, store, engine, log and metrics.
#[derive(Debug)]
pub struct Authorizer {
    settings: Settings,
    store: Arc<Store>,
    shadow: Option<Arc<Store>>,
    evaluator: Evaluator,
    log: DecisionLog,
    metrics: Arc<Metrics>,
    authenticator: Option<Arc<Authenticator>>,
    decisions: Option<DecisionCache>,
    read_only: map::ReadOnly,
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

/// The next id's sequence number: unique in the process, increasing on each thread. Each thread
/// takes a block of numbers at a time, so that the workers do not pass one counter's cache line
/// between them twice a check (a request id and a decision id).
fn next_seq() -> u64 {
    const BLOCK: u64 = 1024;
    thread_local! {
        static NEXT: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
    }
    NEXT.with(|next| {
        let (mut n, mut end) = next.get();
        if n == end {
            n = REQUEST_SEQ.fetch_add(BLOCK, Ordering::Relaxed);
            end = n.saturating_add(BLOCK);
        }
        next.set((n + 1, end));
        n
    })
}

/// A request id of our own: `iamlet-<microseconds>-<sequence>`, in hexadecimal.
pub fn new_request_id() -> String {
    request_id_at(SystemTime::now())
}

/// [`new_request_id`] at a time already read: a check reads the clock once for its ids, its
/// record and its context. Written by hand rather than through `format!`'s machinery (two per
/// check).
fn request_id_at(now: SystemTime) -> String {
    fn push_hex(out: &mut String, mut v: u64) {
        let mut digits = [0u8; 16];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b"0123456789abcdef"[(v & 0xf) as usize];
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        for &d in &digits[i..] {
            out.push(char::from(d));
        }
    }
    let n = next_seq();
    let t = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    let mut id = String::with_capacity(7 + 16 + 1 + 16);
    id.push_str("iamlet-");
    push_hex(&mut id, t);
    id.push('-');
    push_hex(&mut id, n);
    id
}

/// What the store and the engine made of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decided {
    /// The engine decided (shared with the decision cache when it remembers it).
    Engine(Arc<Verdict>),
    /// The store does not know the principal: nothing allows it (an implicit deny).
    UnknownPrincipal(String),
}

impl Decided {
    /// What the decision is called.
    pub fn decision(&self) -> CheckDecision {
        match self {
            Decided::Engine(v) => v.decision.into(),
            Decided::UnknownPrincipal(_) => CheckDecision::ImplicitDeny,
        }
    }
}

const NO_PRINCIPAL: &str = "no principal could be established (no SigV4 signature, mapped mTLS identity, verified JWT or trusted header)";

impl Authorizer {
    /// Assembles an authorizer.
    pub fn new(
        settings: Settings,
        store: Arc<Store>,
        shadow: Option<Arc<Store>>,
        evaluator: Evaluator,
        log: DecisionLog,
        metrics: Arc<Metrics>,
    ) -> Self {
        Authorizer {
            read_only: map::ReadOnly::of(&settings.routes),
            settings,
            store,
            shadow,
            evaluator,
            log,
            metrics,
            authenticator: None,
            decisions: None,
        }
    }

    /// Remembers decisions ([`decision_cache`]); without it every check is decided afresh.
    pub fn with_decision_cache(mut self, config: DecisionCacheConfig) -> Self {
        self.decisions = Some(DecisionCache::new(config));
        self
    }

    /// The decision cache, when on.
    pub fn decision_cache(&self) -> Option<&DecisionCache> {
        self.decisions.as_ref()
    }

    /// Verifies SigV4-signed requests with the access keys and sessions of a source (the
    /// credentials file or the IAM database).
    pub fn with_credentials(mut self, credentials: Arc<dyn CredentialSource>) -> Self {
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

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The condition keys of a request (stage 3), for front ends that decide requests of their own
    /// (STS).
    pub fn context(&self, input: &CheckInput, identity: &Identity, mapped: &Mapped) -> ContextMap {
        let settings = &self.settings.context;
        let source_ip = context::source_ip(settings, input);
        let mut ctx = context::derive(settings, input, source_ip.as_deref(), identity, mapped);
        ctx.insert_time(chrono::Utc::now());
        ctx
    }

    /// Decides a request (stage 4): the store prepares it (principal and resource side), the
    /// session's policy joins, the engine decides.
    pub async fn decide(
        &self,
        store: &Store,
        identity: &Identity,
        mapped: &Mapped,
        context: ContextMap,
    ) -> Result<Decided, Failure> {
        self.decide_noting(
            store,
            identity,
            mapped,
            context,
            SystemTime::now(),
            &mut None,
        )
        .await
    }

    /// [`Authorizer::decide`] at `now` (the time keys are added when the decision is made rather
    /// than looked up), noting the principal's unique id (for the decision log) when the store
    /// knows it.
    async fn decide_noting(
        &self,
        store: &Store,
        identity: &Identity,
        mapped: &Mapped,
        mut context: ContextMap,
        now: SystemTime,
        unique_id: &mut Option<String>,
    ) -> Result<Decided, Failure> {
        // The live store's decisions only (not a shadow's).
        let cache = self
            .decisions
            .as_ref()
            .filter(|_| std::ptr::eq(store, Arc::as_ptr(&self.store)));
        let resolved = match store
            .resolve(&identity.principal, identity.session_issuer.as_deref())
            .await
        {
            Ok(r) => r,
            Err(e) => return store_failure(e),
        };
        *unique_id = resolved.unique_id().map(str::to_owned);
        // Read once: the decision is made on, and filed under, this organization data.
        let org = store.organization();
        let session_policy = identity.session.as_ref().and_then(|s| s.policy.as_ref());
        let pending = match cache {
            Some(c) => {
                let side = iamlet_store::resource_side(
                    &resolved,
                    &mapped.resource,
                    mapped.resource_account.as_deref(),
                    org.as_deref(),
                );
                let ask = Ask {
                    resolved: &resolved,
                    org: org.as_ref(),
                    additions: iamlet_store::additions_with(side.additions(), session_policy),
                    principal: &identity.principal,
                    session_issuer: identity.session_issuer.as_deref(),
                    action: &mapped.action,
                    resource: &mapped.resource,
                    resource_account: mapped.resource_account.as_deref(),
                    context: &context,
                };
                let reads_trust =
                    iamlet_store::trusted_role(&mapped.action, &mapped.resource).is_some();
                match c.lookup(&ask, reads_trust) {
                    Lookup::Hit(v) => {
                        self.metrics.decision_cache_hits.inc();
                        return Ok(Decided::Engine(v));
                    }
                    Lookup::Miss(p) => Some((c, p)),
                    Lookup::Bypass(b) => {
                        self.count_bypass(b);
                        None
                    }
                }
            }
            None => None,
        };
        context.insert_time(now.into());
        let query = Query {
            principal: identity.principal.clone(),
            session_issuer: identity.session_issuer.clone(),
            action: mapped.action.clone(),
            resource: mapped.resource.clone(),
            resource_account: mapped.resource_account.clone(),
            context,
        };
        let mut prepared = match store
            .prepare_resolved(resolved, org.as_deref(), query)
            .await
        {
            Ok(p) => p,
            Err(e) => return store_failure(e),
        };
        if let Some(policy) = session_policy {
            prepared = prepared.with_policies([policy.clone()]);
        }
        // A miss counts once its set is known: a set met for the first time may turn out to read
        // the clock, a bypass.
        let ready = match pending.and_then(|(c, p)| Some((c, c.prepared(p, &prepared)?))) {
            Some((c, Ok(ready))) => {
                self.metrics.decision_cache_misses.inc();
                Some((c, ready))
            }
            Some((_, Err(b))) => {
                self.count_bypass(b);
                None
            }
            None => None,
        };
        let verdict = Arc::new(
            self.evaluator
                .decide(&prepared)
                .await
                .map_err(|e| Failure {
                    kind: e.kind(),
                    message: e.to_string(),
                })?,
        );
        if let Some((c, ready)) = ready {
            c.store(ready, &verdict);
        }
        Ok(Decided::Engine(verdict))
    }

    /// Decides a request. Never fails: every error is a deny (or, with `fail_open` and a failure of
    /// Iamlet's own, an allow).
    pub async fn check(&self, input: CheckInput) -> Outcome {
        let started = Instant::now();
        // The HTTP front end refuses oversized headers before parsing them; gRPC requests arrive
        // whole, so the same limit is applied here.
        let header_bytes = input.header_bytes();
        let limit = self.settings.max_header_bytes;
        if header_bytes > limit {
            return self.too_large(
                input.protocol,
                431,
                format!(
                    "the request's path and headers are {header_bytes} bytes, over the limit of {limit} ([limits] max_header_bytes)"
                ),
            );
        }
        // The HTTP front end stops reading at the limit; a gRPC check arrives whole.
        if let Some(body) = input
            .body
            .as_ref()
            .filter(|b| b.len() > self.settings.max_body_bytes)
        {
            return self.body_too_large(input.protocol, Some(body.len()));
        }
        let now = SystemTime::now();
        let trace = Correlation::of(&input.headers);
        let request_id = trace
            .request_id
            .clone()
            .unwrap_or_else(|| request_id_at(now));
        let decision_id = request_id_at(now);
        let mut rec = DecisionRecord {
            traceparent: trace.traceparent,
            tracestate: trace.tracestate,
            access_key_id: self
                .authenticator
                .as_ref()
                .and_then(|_| identify::signing_key_id(&input)),
            source_ip_address: context::source_ip(&self.settings.context, &input),
            user_agent: input.headers.get("user-agent").cloned(),
            http_method: input.method.clone(),
            http_path: redact::path_and_query(&input.path),
            ..DecisionRecord::begin_at(
                now.into(),
                request_id.clone(),
                decision_id.clone(),
                input.protocol.as_str(),
                self.evaluator.name(),
                self.settings.mode.enforce,
            )
        };
        let answer = self.run(&input, &mut rec, now).await;
        rec.error_code = answer
            .aws_error
            .as_ref()
            .map(|e| e.code().as_str().to_owned());

        let latency = started.elapsed();
        rec.decision = answer.decision.as_str().to_owned();
        rec.allowed = answer.allowed;
        rec.reason = answer.reason.clone();
        rec.latency_micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.metrics
            .count_check(input.protocol, answer.decision, answer.allowed);
        self.metrics.latency.observe(latency);
        self.log.record(rec);
        answer.into_outcome(
            request_id,
            decision_id,
            self.settings.responses.verbose_denials,
        )
    }

    /// Stages 1 to 4, and what they answer.
    async fn run(&self, input: &CheckInput, rec: &mut DecisionRecord, now: SystemTime) -> Answer {
        let enforce = self.settings.mode.enforce;
        // Every denial is let through in a dry run.
        let deny = |decision, status, reason: String| Answer {
            allowed: !enforce,
            status,
            decision,
            reason,
            upstream_headers: Vec::new(),
            aws_error: None,
        };
        let unauthenticated = |e: SigV4Error| Answer {
            aws_error: Some(e.clone()),
            ..deny(CheckDecision::Unauthenticated, 403, e.to_string())
        };

        let identity = match identify::identify(
            &self.settings.principal,
            self.authenticator.as_deref(),
            input,
        ) {
            Ok(Some(identity)) => identity,
            Ok(None) => return deny(CheckDecision::Unauthenticated, 401, NO_PRINCIPAL.into()),
            Err(e) => return unauthenticated(e),
        };
        rec.principal = Some(identity.principal.clone());
        rec.session_context = identity.session.as_ref().map(|s| SessionContext {
            issuer: s
                .session
                .role_arn
                .clone()
                .or_else(|| s.session.user_arn.clone()),
            creation_date: chrono::DateTime::from_timestamp(s.session.issued_at, 0)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
            mfa_authenticated: s.session.mfa_authenticated_at.is_some(),
        });

        let mapped = match map::map(&self.settings.routes, input) {
            Ok(m) => m,
            Err(Unmapped::NoRoute) => {
                let reason = format!(
                    "no route maps {} {}",
                    input.method,
                    redact::path_only(&input.path)
                );
                return Answer {
                    allowed: self.settings.responses.allow_unmapped || !enforce,
                    ..deny(CheckDecision::Unmapped, 403, reason)
                };
            }
            // An ambiguous request is the client's doing: denied whatever `allow_unmapped` says.
            Err(e) => {
                let reason = format!("{} {}: {e}", input.method, redact::path_only(&input.path));
                return deny(CheckDecision::BadRequest, 400, reason);
            }
        };
        rec.action = Some(mapped.action.clone());
        rec.resource = Some(mapped.resource.clone());
        rec.resource_account = mapped.resource_account.clone();
        rec.read_only = self.read_only.get(&mapped.action);
        if let Err(e) = context::check_signed_region(&self.settings.context, &identity, &mapped) {
            return unauthenticated(e);
        }

        let ctx = context::derive(
            &self.settings.context,
            input,
            rec.source_ip_address.as_deref(),
            &identity,
            &mapped,
        );
        rec.region = ctx
            .get_known(KnownKey::REQUESTED_REGION)
            .and_then(|v| v.values().first().cloned())
            .or_else(|| identity.signed_region.clone());
        let shadow_ctx = self.shadow.as_ref().map(|_| ctx.clone());
        let decided = self
            .decide_noting(
                &self.store,
                &identity,
                &mapped,
                ctx,
                now,
                &mut rec.principal_id,
            )
            .await;
        if let (Some(shadow), Some(ctx)) = (&self.shadow, shadow_ctx) {
            let theirs = self
                .decide_noting(shadow, &identity, &mapped, ctx, now, &mut None)
                .await;
            if let Some(disagreement) = shadow_disagreement(&decided, &theirs) {
                self.metrics.shadow_disagreements.inc();
                rec.shadow_decision = Some(disagreement);
            }
        }

        match decided {
            Ok(Decided::Engine(v)) => {
                if let Some(d) = &v.deciding {
                    d.note(rec);
                }
                let reason = match v.decision {
                    Decision::ImplicitDeny => format!(
                        "no policy allows `{}` on `{}` for `{}`",
                        mapped.action, mapped.resource, identity.principal
                    ),
                    _ => v.summary.clone(),
                };
                let allowed = v.decision == Decision::Allow;
                Answer {
                    allowed: allowed || !enforce,
                    status: if allowed { 200 } else { 403 },
                    decision: v.decision.into(),
                    reason,
                    upstream_headers: Answer::upstream_headers([
                        (
                            self.settings.responses.principal_header.clone(),
                            identity.principal.clone(),
                        ),
                        ("x-iamlet-action".to_owned(), mapped.action.clone()),
                    ]),
                    aws_error: None,
                }
            }
            Ok(Decided::UnknownPrincipal(reason)) => deny(CheckDecision::ImplicitDeny, 403, reason),
            Err(f) => {
                self.count_failure(f.kind);
                Answer {
                    allowed: !enforce
                        || (self.settings.responses.fail_open && !f.kind.client_caused()),
                    ..deny(CheckDecision::Error, 403, f.message)
                }
            }
        }
    }

    fn count_bypass(&self, b: decision_cache::Bypass) {
        self.metrics
            .decision_cache_bypasses
            .get_or_create(&KindLabels { kind: b.as_str() })
            .inc();
    }

    fn count_failure(&self, kind: FailureKind) {
        let labels = KindLabels {
            kind: kind.as_str(),
        };
        let counter = match kind {
            FailureKind::Engine(_) => self.metrics.engine_failures.get_or_create(&labels).clone(),
            FailureKind::StoreUnavailable | FailureKind::InvalidRequest => {
                self.metrics.store_failures.get_or_create(&labels).clone()
            }
            FailureKind::Shed => self.metrics.shed.clone(),
            FailureKind::Timeout => self.metrics.timeouts.clone(),
            // Counted with the checks, as decision `Error` and status 431.
            FailureKind::TooLarge => return,
        };
        counter.inc();
    }

    /// An answer to a request a front end could not read as a check (a forward-auth subrequest
    /// without its original method, URI or host, or with one of them twice): a bad request, logged
    /// and counted like any check; let through only in a dry run, as every denial is.
    pub fn bad_request(&self, protocol: Protocol, reason: String) -> Outcome {
        let allowed = !self.settings.mode.enforce;
        self.metrics
            .count_check(protocol, CheckDecision::BadRequest, allowed);
        let request_id = new_request_id();
        self.log.record(DecisionRecord {
            decision: CheckDecision::BadRequest.as_str().to_owned(),
            allowed,
            reason: reason.clone(),
            ..DecisionRecord::begin(
                request_id.clone(),
                protocol.as_str(),
                self.evaluator.name(),
                self.settings.mode.enforce,
            )
        });
        Answer {
            allowed,
            status: 400,
            decision: CheckDecision::BadRequest,
            reason,
            upstream_headers: Vec::new(),
            aws_error: None,
        }
        .into_outcome(
            request_id.clone(),
            request_id,
            self.settings.responses.verbose_denials,
        )
    }

    /// The answer to a request whose body is over `[limits] max_body_bytes` (`len` when it was
    /// read whole): a 413, logged and counted like any check.
    pub fn body_too_large(&self, protocol: Protocol, len: Option<usize>) -> Outcome {
        let size = len.map(|n| format!("{n} bytes, ")).unwrap_or_default();
        let limit = self.settings.max_body_bytes;
        self.too_large(
            protocol,
            413,
            format!(
                "the request's body is {size}over the limit of {limit} bytes ([limits] max_body_bytes)"
            ),
        )
    }

    /// A request over one of the size limits: a failure the client caused, with its own status.
    fn too_large(&self, protocol: Protocol, status: u16, reason: String) -> Outcome {
        let mut out = self.failure(protocol, FailureKind::TooLarge, reason);
        out.status = status;
        out
    }

    /// An answer when the check itself could not run (shed, timed out, too large). `fail_open`
    /// covers Iamlet's own failures only: what the client caused is always a denial.
    pub fn failure(&self, protocol: Protocol, kind: FailureKind, reason: String) -> Outcome {
        let allow = !self.settings.mode.enforce
            || (self.settings.responses.fail_open && !kind.client_caused());
        self.count_failure(kind);
        self.metrics
            .count_check(protocol, CheckDecision::Error, allow);
        let request_id = new_request_id();
        self.log.record(DecisionRecord {
            decision: CheckDecision::Error.as_str().to_owned(),
            allowed: allow,
            reason: format!("{}: {reason}", kind.as_str()),
            ..DecisionRecord::begin(
                request_id.clone(),
                protocol.as_str(),
                self.evaluator.name(),
                self.settings.mode.enforce,
            )
        });
        Answer {
            allowed: allow,
            status: 403,
            decision: CheckDecision::Error,
            reason,
            upstream_headers: Vec::new(),
            aws_error: None,
        }
        .into_outcome(
            request_id.clone(),
            request_id,
            self.settings.responses.verbose_denials,
        )
    }
}

/// What a store's failure to resolve or prepare a request makes of the check: a principal it does
/// not know is an implicit deny; anything else a failure (the store's, or the request's).
fn store_failure(e: StoreError) -> Result<Decided, Failure> {
    match e {
        StoreError::UnknownPrincipal(p) => Ok(Decided::UnknownPrincipal(format!(
            "`{p}` is not known to the identity store"
        ))),
        e => Err(Failure {
            kind: match e {
                StoreError::Unavailable { .. } => FailureKind::StoreUnavailable,
                _ => FailureKind::InvalidRequest,
            },
            message: e.to_string(),
        }),
    }
}

/// What a shadow store decided, when it differs from the live one: its decision, or
/// `Error(kind)` when it could not decide.
fn shadow_disagreement(
    ours: &Result<Decided, Failure>,
    theirs: &Result<Decided, Failure>,
) -> Option<String> {
    let label = |r: &Result<Decided, Failure>| match r {
        Ok(d) => d.decision().as_str().to_owned(),
        Err(f) => format!("Error({})", f.kind.as_str()),
    };
    let (ours, theirs) = (label(ours), label(theirs));
    (ours != theirs).then_some(theirs)
}
