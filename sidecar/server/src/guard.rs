//! A tower middleware in front of the checks: at most `concurrency` checks in flight (one more is
//! shed at once with a deny, never queued), and a time limit per check (past it: a deny). Both
//! answers are ordinary [`Outcome`]s, so Envoy gets a well-formed response either way.

use crate::authz::{Authorizer, CheckInput, FailureKind, Outcome};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// The guarded check service.
#[derive(Clone, Debug)]
pub struct Guarded<S> {
    inner: S,
    authz: Arc<Authorizer>,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

/// Configuration of [`Guarded`]; the authorizer answers (and counts) shed and timed-out checks.
#[derive(Clone, Debug)]
pub struct GuardLayer {
    authz: Arc<Authorizer>,
    concurrency: usize,
    timeout: Duration,
}

impl GuardLayer {
    /// At most `concurrency` checks at once, each within `timeout`.
    pub fn new(authz: Arc<Authorizer>, concurrency: usize, timeout: Duration) -> Self {
        GuardLayer {
            authz,
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
            authz: self.authz.clone(),
            permits: Arc::new(Semaphore::new(self.concurrency)),
            timeout: self.timeout,
        }
    }
}

impl<S> tower::Service<CheckInput> for Guarded<S>
where
    S: tower::Service<CheckInput, Response = Outcome, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Outcome;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Readiness is decided per call: over the limit is a shed answer, not back-pressure.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, input: CheckInput) -> Self::Future {
        let authz = self.authz.clone();
        let protocol = input.protocol;
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            authz.metrics().shed.inc();
            // Debug, not warn: under overload a line per shed check would add to the load.
            tracing::debug!(protocol, "check shed: too many in flight");
            let out = authz.failure(
                protocol,
                FailureKind::Shed,
                "too many checks in flight".into(),
            );
            return Box::pin(async move { Ok(out) });
        };
        let timeout = self.timeout;
        let check = self.inner.clone().oneshot(input);
        Box::pin(async move {
            let out = match tokio::time::timeout(timeout, check).await {
                Ok(Ok(out)) => out,
                Err(_) => {
                    authz.metrics().timeouts.inc();
                    let out = authz.failure(
                        protocol,
                        FailureKind::Timeout,
                        format!("no decision within {timeout:?}"),
                    );
                    tracing::warn!(protocol, request_id = %out.request_id, ?timeout, "check timed out; answered with the failure response");
                    out
                }
            };
            drop(permit);
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::decision_log::DecisionLog;
    use crate::evaluator::Evaluator;
    use crate::metrics::Metrics;
    use crate::store::cache::CacheConfig;
    use crate::store::{FetchError, Fetcher, Parts, PrincipalKey, Store};
    use tower::{Layer, Service};

    /// A store that is never asked: the inner service below does not consult it.
    #[derive(Debug)]
    struct NoFetch;
    impl Fetcher for NoFetch {
        fn fetch<'a>(
            &'a self,
            _key: &'a PrincipalKey,
        ) -> crate::store::BoxFuture<'a, Result<Parts, FetchError>> {
            Box::pin(async { Err(FetchError::Failed("not used".into())) })
        }
    }

    fn authorizer(fail_open: bool) -> Arc<Authorizer> {
        let text =
            format!("[store]\naccounts = \"unused.json\"\n[responses]\nfail_open = {fail_open}\n");
        let checked = Config::parse(&text, std::path::Path::new("test.toml")).unwrap();
        Arc::new(Authorizer::new(
            checked,
            Arc::new(Store::with_fetcher(
                Arc::new(NoFetch),
                None,
                CacheConfig::default(),
            )),
            None,
            Evaluator::native(),
            DecisionLog::disabled(),
            Arc::new(Metrics::new()),
        ))
    }

    /// Answers "Allow" after `delay`, counting calls.
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
                upstream_headers: Vec::new(),
                body: String::new(),
                decision: "Allow".into(),
                reason: String::new(),
            })
        })
    }

    fn input() -> CheckInput {
        CheckInput {
            protocol: "grpc",
            ..CheckInput::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn over_the_limit_is_shed_at_once_not_queued() {
        let authz = authorizer(false);
        let mut svc = GuardLayer::new(authz.clone(), 1, Duration::from_secs(60))
            .layer(slow(Duration::from_secs(1)));
        let first = tokio::spawn(svc.call(input()));
        tokio::task::yield_now().await;
        // The first holds the only permit: the second is answered without waiting for it.
        let second = svc.call(input()).await.unwrap();
        assert_eq!(second.decision, "Error");
        assert!(!second.allowed, "fail closed");
        assert_eq!(second.status, 403);
        assert_eq!(authz.metrics().shed.get(), 1);
        assert!(!first.is_finished());
        assert_eq!(first.await.unwrap().unwrap().decision, "Allow");
        // The permit is back.
        assert_eq!(svc.call(input()).await.unwrap().decision, "Allow");
        assert_eq!(authz.metrics().shed.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn past_the_time_limit_is_the_failure_answer() {
        let authz = authorizer(false);
        let mut svc = GuardLayer::new(authz.clone(), 8, Duration::from_millis(250))
            .layer(slow(Duration::from_secs(5)));
        let out = svc.call(input()).await.unwrap();
        assert_eq!(out.decision, "Error");
        assert!(!out.allowed);
        assert!(out.reason.contains("250ms"), "{}", out.reason);
        assert_eq!(authz.metrics().timeouts.get(), 1);

        // fail_open turns the same failure into an allow, still counted.
        let open = authorizer(true);
        let mut svc = GuardLayer::new(open.clone(), 8, Duration::from_millis(250))
            .layer(slow(Duration::from_secs(5)));
        let out = svc.call(input()).await.unwrap();
        assert!(out.allowed);
        assert_eq!(open.metrics().timeouts.get(), 1);
    }
}
