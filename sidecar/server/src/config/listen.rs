//! `[listen]`: the ext_authz and admin addresses.

use serde::Deserialize;
use std::net::SocketAddr;

/// Listening addresses.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    /// gRPC ext_authz (`envoy.service.auth.v3.Authorization`).
    #[serde(default = "default_grpc")]
    pub grpc: SocketAddr,
    /// Envoy's HTTP ext_authz mode.
    #[serde(default = "default_http")]
    pub http: SocketAddr,
    /// Metrics and health.
    #[serde(default = "default_admin")]
    pub admin: SocketAddr,
    /// In HTTP mode, the `path_prefix` Envoy puts before forwarded paths, stripped before routing.
    #[serde(default)]
    pub http_path_prefix: String,
}

fn default_grpc() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9191))
}
fn default_http() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9192))
}
fn default_admin() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8181))
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            grpc: default_grpc(),
            http: default_http(),
            admin: default_admin(),
            http_path_prefix: String::new(),
        }
    }
}
