//! The network faces of the authorizer: Envoy's gRPC ext_authz API, Envoy's HTTP ext_authz mode, and
//! the admin server (metrics, health). Each front end translates its protocol to a [`CheckInput`]
//! and calls the same guarded service.
//!
//! [`CheckInput`]: crate::authz::CheckInput

pub mod admin;
pub mod grpc;
pub mod guard;
pub mod http;
