//! A tower layer giving every check a `tracing` span (protocol, method, host, then the request id,
//! decision and status once known) and one event when it ends: `debug` for decisions, `warn` for
//! failures (store unavailable, engine error, time-out), so an operator sees faults at the default
//! level without a line per request. Decisions themselves go to the decision log.

use iamlet_authz::{CheckDecision, CheckInput, Correlation, Outcome};
use iamlet_decision_log::redact;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;
use tracing::field::Empty;
use tracing::Instrument as _;

/// Wraps a check service in [`Traced`].
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceLayer;

impl<S> tower::Layer<S> for TraceLayer {
    type Service = Traced<S>;

    fn layer(&self, inner: S) -> Traced<S> {
        Traced { inner }
    }
}

/// A check service whose calls are traced.
#[derive(Clone, Debug)]
pub struct Traced<S> {
    inner: S,
}

impl<S> tower::Service<CheckInput> for Traced<S>
where
    S: tower::Service<CheckInput, Response = Outcome, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Outcome;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, input: CheckInput) -> Self::Future {
        // A debug span: disabled (and nearly free) at the default `info` level; the trace id of the
        // request's `traceparent` ties it to the caller's trace.
        let span = tracing::debug_span!(
            "check",
            protocol = input.protocol.as_str(),
            method = %input.method,
            host = %input.host,
            path = %redact::truncate(redact::path_only(&input.path)),
            trace_id = Empty,
            request_id = Empty,
            decision_id = Empty,
            decision = Empty,
            status = Empty,
        );
        if !span.is_disabled() {
            if let Some(t) = Correlation::of(&input.headers).trace_id() {
                span.record("trace_id", t);
            }
        }
        let started = Instant::now();
        let fut = {
            let _entered = span.enter();
            self.inner.call(input)
        };
        Box::pin(async move {
            let Ok(out) = fut.instrument(span.clone()).await;
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            span.record("request_id", out.request_id.as_str());
            span.record("decision_id", out.decision_id.as_str());
            span.record("decision", out.decision.as_str());
            span.record("status", out.status);
            if out.decision == CheckDecision::Error {
                tracing::warn!(
                    parent: &span,
                    request_id = %out.request_id,
                    decision_id = %out.decision_id,
                    allowed = out.allowed,
                    reason = %out.reason,
                    latency_us = micros,
                    "check failed"
                );
            } else {
                tracing::debug!(
                    parent: &span,
                    allowed = out.allowed,
                    reason = %out.reason,
                    latency_us = micros,
                    "check decided"
                );
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tower::{Layer, ServiceExt};
    use tracing_subscriber::layer::SubscriberExt;

    /// Captures formatted events.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn outcome(decision: CheckDecision) -> Outcome {
        Outcome {
            allowed: decision == CheckDecision::Allow,
            status: if decision == CheckDecision::Allow {
                200
            } else {
                403
            },
            request_id: "req-1".into(),
            decision_id: "dec-1".into(),
            upstream_headers: Vec::new(),
            body: String::new(),
            decision,
            reason: format!("because {decision}"),
        }
    }

    async fn run(decision: CheckDecision, level: &str) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new(level))
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || writer.clone()),
            );
        let _guard = tracing::subscriber::set_default(subscriber);
        let inner = tower::service_fn(move |_: CheckInput| async move {
            Ok::<_, Infallible>(outcome(decision))
        });
        let mut input = CheckInput {
            protocol: iamlet_authz::Protocol::Grpc,
            method: "GET".into(),
            host: "api".into(),
            path: "/buckets/b?token=secret".into(),
            ..CheckInput::default()
        };
        input.headers.insert(
            "traceparent".into(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        );
        let out = TraceLayer.layer(inner).oneshot(input).await.unwrap();
        assert_eq!(out.decision, decision);
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        text
    }

    #[tokio::test]
    async fn failures_are_warned_at_the_default_level() {
        let text = run(CheckDecision::Error, "info").await;
        assert!(text.contains("WARN"), "{text}");
        assert!(text.contains("check failed"), "{text}");
        assert!(text.contains("req-1"), "{text}");
        assert!(text.contains("because Error"), "{text}");
    }

    #[tokio::test]
    async fn decisions_are_debug_events_inside_the_check_span() {
        assert_eq!(run(CheckDecision::Allow, "info").await, "");
        let text = run(CheckDecision::Allow, "debug").await;
        assert!(text.contains("check decided"), "{text}");
        assert!(text.contains("check{"), "{text}");
        assert!(text.contains("path=/buckets/b"), "{text}");
        assert!(
            text.contains("trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\""),
            "{text}"
        );
        assert!(text.contains("decision_id=\"dec-1\""), "{text}");
        assert!(
            !text.contains("secret"),
            "the query stays out of logs: {text}"
        );
    }
}
