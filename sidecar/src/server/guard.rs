//! A tower middleware in front of the authorizer: at most `concurrency` checks in flight (one more is
//! shed at once with a deny, never queued), and a time limit per check (past it: a deny). Both
//! answers are ordinary [`Outcome`]s, so Envoy gets a well-formed response either way.

use crate::authz::{Authorizer, CheckInput, Outcome};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Semaphore;

/// The guarded authorizer, as a `tower::Service`.
#[derive(Clone, Debug)]
pub struct Guarded {
    authz: Arc<Authorizer>,
    permits: Arc<Semaphore>,
    timeout: Duration,
}

/// Configuration of [`Guarded`] (a layer holds only configuration).
#[derive(Clone, Debug)]
pub struct GuardLayer {
    concurrency: usize,
    timeout: Duration,
}

impl GuardLayer {
    /// At most `concurrency` checks at once, each within `timeout`.
    pub fn new(concurrency: usize, timeout: Duration) -> Self {
        GuardLayer {
            concurrency,
            timeout,
        }
    }
}

impl tower::Layer<Arc<Authorizer>> for GuardLayer {
    type Service = Guarded;

    fn layer(&self, authz: Arc<Authorizer>) -> Guarded {
        Guarded {
            authz,
            permits: Arc::new(Semaphore::new(self.concurrency)),
            timeout: self.timeout,
        }
    }
}

impl Guarded {
    /// The authorizer behind the guard.
    pub fn get_ref(&self) -> &Arc<Authorizer> {
        &self.authz
    }
}

impl tower::Service<CheckInput> for Guarded {
    type Response = Outcome;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Outcome, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // Readiness is decided per call: over the limit is a shed answer, not back-pressure.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, input: CheckInput) -> Self::Future {
        let authz = self.authz.clone();
        let protocol = input.protocol;
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            authz.metrics().shed.inc();
            let out = authz.failure(protocol, "shed", "too many checks in flight".into());
            return Box::pin(async move { Ok(out) });
        };
        let timeout = self.timeout;
        Box::pin(async move {
            let out = match tokio::time::timeout(timeout, authz.check(input)).await {
                Ok(out) => out,
                Err(_) => {
                    authz.metrics().timeouts.inc();
                    authz.failure(
                        protocol,
                        "timeout",
                        format!("no decision within {timeout:?}"),
                    )
                }
            };
            drop(permit);
            Ok(out)
        })
    }
}
