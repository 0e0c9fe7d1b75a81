//! Iamlet's I/O side: the `iamlet` command line and (as it grows) the identity store, the WebAssembly
//! host and the Envoy ext_authz sidecar. The decisions are `iamlet-engine`'s; this crate reads files,
//! talks to networks and keeps caches.

#![forbid(unsafe_code)]

pub mod authz;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod decision_log;
pub mod evaluator;
pub mod metrics;
mod redact;
pub mod report;
pub mod serve;
pub mod server;
pub mod store;
pub mod sts;
pub mod telemetry;

/// The route map (crate `iamlet-routes`): which IAM action on which resource an HTTP request is.
pub use iamlet_routes as routes;
