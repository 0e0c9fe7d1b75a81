//! A tower middleware in front of the checks: at most `concurrency` checks in flight (one more is
//! refused at once, never queued: [`GuardError::Overloaded`]) and a time limit per check (past it:
//! [`GuardError::Elapsed`]). It knows nothing of answers: the front end turns its errors into the
//! authorizer's failure answer ([`answer`]), so Envoy gets a well-formed deny either way.

use iamlet_authz::{Authorizer, CheckInput, FailureKind, Outcome, Protocol};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// Why the guard did not let a check finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// More checks in flight than the limit.
    #[error("too many checks in flight")]
    Overloaded,
    /// The check took longer than the limit.
    #[error("no decision within {0:?}")]
    Elapsed(Duration),
}

impl From<GuardError> for FailureKind {
    fn from(e: GuardError) -> Self {
        match e {
            GuardError::Overloaded => FailureKind::Shed,
            GuardError::Elapsed(_) => FailureKind::Timeout,
        }
    }
}

/// The outcome of a guarded check: its own, or the authorizer's failure answer for a guard error.
pub fn answer(
    authz: &Authorizer,
    protocol: Protocol,
    result: Result<Outcome, GuardError>,
) -> Outcome {
    match result {
        Ok(out) => out,
        Err(e) => {
            let out = authz.failure(protocol, e.into(), e.to_string());
            match e {
                // Debug, not warn: under overload a line per shed check would add to the load.
                GuardError::Overloaded => {
                    tracing::debug!(%protocol, "check shed: too many in flight")
                }
                GuardError::Elapsed(timeout) => tracing::warn!(
                    %protocol,
                    request_id = %out.request_id,
                    ?timeout,
                    "check timed out; answered with the failure response"
                ),
            }
            out
        }
    }
}

/// The guarded check service.
#[derive(Clone, Debug)]
pub struct Guarded<S> {
    inner: S,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

/// Configuration of [`Guarded`].
#[derive(Clone, Copy, Debug)]
pub struct GuardLayer {
    concurrency: usize,
    timeout: Duration,
}

impl GuardLayer {
    /// At most `concurrency` checks at once, each within `timeout`.
    pub const fn new(concurrency: usize, timeout: Duration) -> Self {
        GuardLayer {
            concurrency,
            timeout,
        }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guarded<S>;

    fn layer(&self, inner: S) -> Guarded<S> {
        Guarded {
            inner,
            permits: Arc::new(Semaphore::new(self.concurrency)),
            timeout: self.timeout,
        }
    }
}

// ===== impl Guarded =====

impl<S> tower::Service<CheckInput> for Guarded<S>
where
    S: tower::Service<CheckInput, Response = Outcome, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Outcome;
    type Error = GuardError;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, GuardError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), GuardError>> {
        // Readiness is decided per call: over the limit is an error, not back-pressure.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, input: CheckInput) -> Self::Future {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            return Box::pin(async { Err(GuardError::Overloaded) });
        };
        let timeout = self.timeout;
        let check = self.inner.clone().oneshot(input);
        Box::pin(async move {
            let out = match tokio::time::timeout(timeout, check).await {
                Ok(Ok(out)) => Ok(out),
                Ok(Err(never)) => match never {},
                Err(_) => Err(GuardError::Elapsed(timeout)),
            };
            drop(permit);
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::{Layer, Service};

    /// Answers "Allow" after `delay`.
    fn slow(
        delay: Duration,
    ) -> impl tower::Service<
        CheckInput,
        Response = Outcome,
        Error = Infallible,
        Future = impl Future<Output = Result<Outcome, Infallible>> + Send,
    > + Clone
           + Send
           + 'static {
        tower::service_fn(move |_: CheckInput| async move {
            tokio::time::sleep(delay).await;
            Ok::<_, Infallible>(Outcome {
                allowed: true,
                status: 200,
                request_id: "inner".into(),
                decision_id: "inner".into(),
                upstream_headers: Vec::new(),
                body: String::new(),
                decision: iamlet_authz::CheckDecision::Allow,
                reason: String::new(),
            })
        })
    }

    fn input() -> CheckInput {
        CheckInput {
            protocol: Protocol::Grpc,
            ..CheckInput::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn over_the_limit_is_refused_at_once_not_queued() {
        let mut svc =
            GuardLayer::new(1, Duration::from_secs(60)).layer(slow(Duration::from_secs(1)));
        let first = tokio::spawn(svc.call(input()));
        tokio::task::yield_now().await;
        // The first holds the only permit: the second is refused without waiting for it.
        assert_eq!(svc.call(input()).await, Err(GuardError::Overloaded));
        assert!(!first.is_finished());
        assert_eq!(
            first.await.unwrap().unwrap().decision,
            iamlet_authz::CheckDecision::Allow
        );
        // The permit is back.
        assert!(svc.call(input()).await.is_ok());
    }

    /// A store that is never asked: a failure answer does not consult it.
    #[derive(Debug)]
    struct NoFetch;
    impl iamlet_store::Fetcher for NoFetch {
        fn fetch<'a>(
            &'a self,
            _key: &'a iamlet_store::PrincipalKey,
        ) -> iamlet_store::BoxFuture<'a, Result<iamlet_store::Parts, iamlet_store::FetchError>>
        {
            Box::pin(async { Err(iamlet_store::FetchError::Failed("not used".into())) })
        }
    }

    fn authorizer(fail_open: bool) -> Authorizer {
        let text =
            format!("[store]\naccounts = \"unused.json\"\n[responses]\nfail_open = {fail_open}\n");
        let checked =
            crate::config::Config::parse(&text, std::path::Path::new("test.toml")).unwrap();
        Authorizer::new(
            checked.settings(),
            Arc::new(iamlet_store::Store::with_fetcher(
                Arc::new(NoFetch),
                None,
                iamlet_store::cache::CacheConfig::default(),
            )),
            None,
            iamlet_authz::engine::Evaluator::native(),
            iamlet_decision_log::DecisionLog::disabled(),
            Arc::new(iamlet_authz::metrics::Metrics::new()),
        )
    }

    #[test]
    fn guard_errors_are_answered_as_failures_that_fail_closed() {
        let authz = authorizer(false);
        let shed = answer(&authz, Protocol::Grpc, Err(GuardError::Overloaded));
        assert_eq!(shed.decision, iamlet_authz::CheckDecision::Error);
        assert!(!shed.allowed, "fail closed");
        assert_eq!(shed.status, 403);
        assert_eq!(authz.metrics().shed.get(), 1);
        let late = answer(
            &authz,
            Protocol::Grpc,
            Err(GuardError::Elapsed(Duration::from_millis(250))),
        );
        assert!(!late.allowed);
        assert!(late.reason.contains("250ms"), "{}", late.reason);
        assert_eq!(authz.metrics().timeouts.get(), 1);
        // fail_open turns the same failures into allows, still counted.
        let open = authorizer(true);
        let late = answer(
            &open,
            Protocol::Grpc,
            Err(GuardError::Elapsed(Duration::from_millis(250))),
        );
        assert!(late.allowed);
        assert_eq!(open.metrics().timeouts.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_time_limit_is_elapsed() {
        let mut svc =
            GuardLayer::new(8, Duration::from_millis(250)).layer(slow(Duration::from_secs(5)));
        assert_eq!(
            svc.call(input()).await,
            Err(GuardError::Elapsed(Duration::from_millis(250)))
        );
        assert_eq!(
            FailureKind::from(GuardError::Elapsed(Duration::ZERO)),
            FailureKind::Timeout
        );
        assert_eq!(FailureKind::from(GuardError::Overloaded), FailureKind::Shed);
    }
}
