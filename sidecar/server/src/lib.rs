//! The network faces of the authorizer: Envoy's gRPC ext_authz API, Envoy's HTTP ext_authz mode, and
//! the admin server (metrics, health). Each front end translates its protocol to a [`CheckInput`]
//! and calls the same stack of tower services ([`checks`]).
//!
//! [`CheckInput`]: crate::authz::CheckInput

pub mod admin;
pub mod grpc;
pub mod guard;
pub mod http;
pub mod listener;
pub mod trace;

use crate::authz::{AuthorizeService, Authorizer};
use std::sync::Arc;
use std::time::Duration;

/// What every front end calls: the authorizer, traced, behind the guard (concurrency limit and
/// time limit; shed and timed-out checks never reach the trace layer's span).
pub type Checks = guard::Guarded<trace::Traced<AuthorizeService>>;

/// Builds the [`Checks`] stack.
pub fn checks(authz: Arc<Authorizer>, concurrency: usize, timeout: Duration) -> Checks {
    tower::ServiceBuilder::new()
        .layer(guard::GuardLayer::new(authz.clone(), concurrency, timeout))
        .layer(trace::TraceLayer)
        .service(AuthorizeService(authz))
}
