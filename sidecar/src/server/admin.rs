//! The admin server (127.0.0.1:8181 by default): `/metrics` (Prometheus), `/healthz` (the process
//! answers), `/readyz` (the identity store has loaded), `POST /cache/invalidate[?principal=ARN]`.

use crate::authz::Authorizer;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use std::sync::Arc;

fn text(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
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
    m.cache_entries.set(g(s.entries));
    m.log_dropped.set(g(authz.decision_log().dropped()));
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

/// Answers one admin request.
pub async fn handle(authz: Arc<Authorizer>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/metrics") => text(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics_text(&authz),
        ),
        (&Method::GET, "/healthz") => text(StatusCode::OK, "text/plain", "ok\n".into()),
        (&Method::GET, "/readyz") => {
            let (ok, why) = ready(&authz);
            let status = if ok {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            text(status, "text/plain", format!("{why}\n"))
        }
        (&Method::POST, "/cache/invalidate") => {
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
                    text(StatusCode::OK, "text/plain", "invalidated all\n".into())
                }
            }
        }
        _ => text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}
