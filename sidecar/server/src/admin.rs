//! The admin server (127.0.0.1:8181 by default): `/metrics` (Prometheus), `/healthz` (the process
//! answers), `/readyz` (the identity store has loaded), `POST /cache/invalidate[?principal=ARN]`
//! (with the `x-iamlet-admin-token` header, never from a browser: [`admin_caller`]).

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use iamlet_auth::Secret;
use iamlet_authz::Authorizer;
use std::sync::Arc;

fn text(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| crate::http::unbuildable())
}

/// Whether the store can answer: every watched source has loaded at least once.
pub fn ready(authz: &Authorizer) -> (bool, String) {
    let store = authz.store();
    for status in [store.accounts_status(), store.organization_status()]
        .into_iter()
        .flatten()
    {
        if status.loads == 0 {
            return (
                false,
                format!(
                    "{} has not loaded{}",
                    status.name,
                    status
                        .last_error
                        .as_ref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ),
            );
        }
    }
    (true, "ready".into())
}

/// Refreshes the gauges from their sources and encodes the registry.
pub fn metrics_text(authz: &Authorizer) -> String {
    let m = authz.metrics();
    let s = authz.store().cache_stats();
    let g = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    m.cache_hits.set(g(s.hits));
    m.cache_misses.set(g(s.misses));
    m.cache_evictions.set(g(s.evictions));
    m.cache_stale_serves.set(g(s.stale_serves));
    m.cache_invalidations.set(g(s.invalidated));
    m.cache_resyncs.set(g(s.resyncs));
    m.cache_entries.set(g(s.entries));
    m.log_dropped.set(g(authz.decision_log().dropped()));
    if let Some(c) = authz.decision_cache() {
        let (entries, bytes) = c.size();
        let u = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        m.decision_cache_entries.set(u(entries));
        m.decision_cache_bytes.set(u(bytes));
    }
    let mut out = m.encode();
    if let Some(host) = authz.evaluator().host() {
        let c = host.counters();
        use std::sync::atomic::Ordering::Relaxed;
        out = out.trim_end_matches("# EOF\n").to_owned();
        out.push_str(&format!(
            "# HELP iamlet_component_traps Guest traps and limit hits.\n# TYPE iamlet_component_traps counter\niamlet_component_traps_total {}\n# HELP iamlet_component_instances_replaced Guest instances replaced after a failure.\n# TYPE iamlet_component_instances_replaced counter\niamlet_component_instances_replaced_total {}\n# EOF\n",
            c.traps.load(Relaxed),
            c.replaced_instances.load(Relaxed)
        ));
    }
    out
}

/// Whether a request may change the sidecar's state (`POST /cache/invalidate`): never from a web
/// page (a request with `Origin` or `Sec-Fetch-Site`: a browser's), and only with the header
/// `x-iamlet-admin-token` — equal to `[admin] token_file`'s token when one is configured; without
/// one any value will do, since a page cannot send a custom header to another origin without a CORS
/// preflight, which this server never grants.
fn admin_caller(token: Option<&Secret>, req: &Request<Incoming>) -> Result<(), Refusal> {
    let headers = req.headers();
    if headers.contains_key("origin") || headers.contains_key("sec-fetch-site") {
        return Err(Refusal::Browser);
    }
    let given = headers
        .get("x-iamlet-admin-token")
        .map(|v| v.as_bytes())
        .filter(|v| !v.is_empty());
    let ok = match (given, token) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(g), Some(token)) => {
            let digest = |b: &[u8]| ring::digest::digest(&ring::digest::SHA256, b);
            digest(g).as_ref() == digest(token.expose().as_bytes()).as_ref()
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Refusal::Token)
    }
}

/// Why an admin change was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// It came from a web page.
    Browser,
    /// The token header is missing or wrong.
    Token,
}

impl Refusal {
    fn response(self) -> Response<Full<Bytes>> {
        match self {
            Refusal::Browser => text(
                StatusCode::FORBIDDEN,
                "text/plain",
                "admin changes are not taken from browsers\n".into(),
            ),
            Refusal::Token => text(
                StatusCode::UNAUTHORIZED,
                "text/plain",
                "admin changes need the x-iamlet-admin-token header (the token of [admin] token_file when configured)\n".into(),
            ),
        }
    }
}

/// What the admin server serves from.
#[derive(Debug)]
pub struct Admin {
    /// The authorizer whose metrics, readiness and cache are served.
    pub authz: Arc<Authorizer>,
    /// The token admin changes need (`[admin] token_file`), when configured.
    pub token: Option<Secret>,
}

/// Answers one admin request.
pub async fn handle(admin: Arc<Admin>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let authz = &admin.authz;
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => text(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics_text(authz),
        ),
        (&Method::GET, "/healthz") => text(StatusCode::OK, "text/plain", "ok\n".into()),
        (&Method::GET, "/readyz") => {
            let (ok, why) = ready(authz);
            let status = if ok {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            text(status, "text/plain", format!("{why}\n"))
        }
        (&Method::POST, "/cache/invalidate") => {
            if let Err(refused) = admin_caller(admin.token.as_ref(), &req) {
                return refused.response();
            }
            let principal = req.uri().query().and_then(|q| {
                q.split('&').find_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    (k == "principal").then(|| {
                        percent_encoding::percent_decode_str(v)
                            .decode_utf8_lossy()
                            .into_owned()
                    })
                })
            });
            match principal {
                Some(p) => match authz.store().invalidate(&p, None) {
                    Ok(()) => text(StatusCode::OK, "text/plain", format!("invalidated {p}\n")),
                    Err(e) => text(StatusCode::BAD_REQUEST, "text/plain", format!("{e}\n")),
                },
                None => {
                    authz.store().invalidate_all();
                    // Already unreachable (every principal gets a new set); freed now.
                    if let Some(c) = authz.decision_cache() {
                        c.clear();
                    }
                    text(StatusCode::OK, "text/plain", "invalidated all\n".into())
                }
            }
        }
        _ => text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}
