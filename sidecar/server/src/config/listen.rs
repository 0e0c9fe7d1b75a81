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
    /// Forward-auth subrequests of nginx (`auth_request`), Caddy (`forward_auth`) and Traefik
    /// (`forwardAuth`); off when absent.
    #[serde(default)]
    pub forward_auth: Option<SocketAddr>,
    /// Which headers carry the original request on the forward-auth listener. Required with
    /// `forward_auth`: the listener never guesses from what a client sends.
    #[serde(default)]
    pub forward_auth_style: Option<ForwardAuthStyle>,
}

/// The headers a proxy describes the original request with in its forward-auth subrequest.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ForwardAuthStyle {
    /// nginx `auth_request`: `X-Original-Method` and `X-Original-URI`, set in nginx's configuration
    /// (`proxy_set_header`), with `X-Forwarded-Host`, `X-Forwarded-Proto`, `X-Forwarded-For`.
    Nginx,
    /// Traefik `forwardAuth`: `X-Forwarded-Method`, `X-Forwarded-Uri`, `X-Forwarded-Host`,
    /// `X-Forwarded-Proto`, `X-Forwarded-For`.
    Traefik,
    /// Caddy `forward_auth`: the same headers as Traefik.
    Caddy,
}

impl ForwardAuthStyle {
    /// The headers naming the original method and URI.
    pub fn method_and_uri_headers(self) -> (&'static str, &'static str) {
        match self {
            ForwardAuthStyle::Nginx => ("x-original-method", "x-original-uri"),
            ForwardAuthStyle::Traefik | ForwardAuthStyle::Caddy => {
                ("x-forwarded-method", "x-forwarded-uri")
            }
        }
    }
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
            forward_auth: None,
            forward_auth_style: None,
        }
    }
}
