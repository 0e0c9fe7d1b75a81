//! Iamlet's sidecar as a process: the network faces of the authorizer — Envoy's gRPC ext_authz API
//! ([`grpc`]), Envoy's HTTP ext_authz mode ([`http`]), the admin server ([`admin`]) and STS
//! ([`sts`]), forward-auth for nginx, Caddy and Traefik ([`forward_auth`]) — their tower middleware ([`guard`], [`trace`]), the listeners they accept on
//! ([`listener`]), the configuration ([`config`]), start-up and signals ([`start`]), and
//! diagnostics ([`telemetry`]).
//!
//! Each ext_authz front end translates its protocol to a [`CheckInput`] and calls the same stack of
//! tower services ([`checks`]); a check the stack could not run (shed, late) comes back as a typed
//! error that the front end answers with the authorizer's failure answer.
//!
//! What this crate must not do: decide (the check pipeline, `iamlet-authz`, does), or parse
//! command lines (the `iamlet` binary does).
//!
//! [`CheckInput`]: iamlet_authz::CheckInput

#![forbid(unsafe_code)]

mod admin;
pub mod config;
mod forward_auth;
mod grpc;
mod guard;
mod http;
mod iam;
mod listener;
pub mod start;
mod sts;
pub mod telemetry;
mod trace;

use iamlet_authz::{AuthorizeService, Authorizer};
use std::sync::Arc;
use std::time::Duration;

/// What every front end calls: the authorizer, traced, behind the guard (concurrency limit and
/// time limit; shed and timed-out checks never reach the trace layer's span).
pub(crate) type Checks = guard::Guarded<trace::Traced<AuthorizeService>>;

/// Builds the [`Checks`] stack.
pub(crate) fn checks(authz: Arc<Authorizer>, concurrency: usize, timeout: Duration) -> Checks {
    tower::ServiceBuilder::new()
        .layer(guard::GuardLayer::new(concurrency, timeout))
        .layer(trace::TraceLayer)
        .service(AuthorizeService(authz))
}
