//! The request to authorize, as every front end hands it over: Envoy's description of the client's
//! request (gRPC `CheckRequest`, or the HTTP mode's forwarded request) or STS's own.

use std::collections::HashMap;

/// Who describes the client: a proxy forwarding its request (Envoy), or the connection itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// Envoy forwards the client's request: its `X-Forwarded-*` and tag headers describe the client
    /// (within `[context] trusted_hops`).
    #[default]
    Proxied,
    /// A proxy's forward-auth subrequest (nginx, Caddy, Traefik): its `X-Forwarded-*` headers
    /// describe the client as `Proxied`'s do, but the proxy copies every header of the client's
    /// request into it, so no header names the principal (`[principal] trusted_header` is not read).
    ForwardAuth,
    /// The client connects itself (STS): only the connection says where it is and how it came, and
    /// no header it sends is taken for the address, the scheme or request tags.
    Direct,
}

/// The front end a check came through: a label of its metrics and a field of its log record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Envoy's gRPC ext_authz service.
    #[default]
    Grpc,
    /// Envoy's HTTP ext_authz mode.
    Http,
    /// The forward-auth listener (nginx, Caddy, Traefik).
    ForwardAuth,
    /// STS's own calls.
    Sts,
    /// The IAM API's calls.
    Iam,
}

impl Protocol {
    /// Every protocol, in declaration order (`ALL[p as usize] == p`).
    pub const ALL: [Protocol; 5] = [
        Protocol::Grpc,
        Protocol::Http,
        Protocol::ForwardAuth,
        Protocol::Sts,
        Protocol::Iam,
    ];

    /// The name in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http",
            Protocol::ForwardAuth => "forward_auth",
            Protocol::Sts => "sts",
            Protocol::Iam => "iam",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to authorize, as Envoy describes it.
#[derive(Clone, Debug, Default)]
pub struct CheckInput {
    /// The front end it came through.
    pub protocol: Protocol,
    /// Whether a proxy forwards the request or the client connected itself.
    pub origin: Origin,
    /// The downstream peer's IP address.
    pub source_address: Option<String>,
    /// The downstream peer's mTLS identity (a SPIFFE URI SAN), when Envoy verified one.
    pub source_principal: Option<String>,
    /// The HTTP method.
    pub method: String,
    /// `http` or `https`.
    pub scheme: String,
    /// The host (`:authority`).
    pub host: String,
    /// The path with its query.
    pub path: String,
    /// Headers, lower-case names.
    pub headers: HashMap<String, String>,
    /// The JWT payload verified by Envoy's `jwt_authn` filter, by filter name then key.
    pub filter_metadata: HashMap<String, serde_json::Value>,
    /// Per-route `context_extensions`.
    pub context_extensions: HashMap<String, String>,
    /// The request's body, whole, when Envoy sends it (`with_request_body`; never a partial one):
    /// a SigV4 signature is then checked against it.
    pub body: Option<Vec<u8>>,
}

/// The largest body a check reads unless `[limits] max_body_bytes` says otherwise (Envoy's
/// `with_request_body` `max_request_bytes` should stay below it): the HTTP front end stops reading
/// there and a gRPC check carrying more is refused, both with 413, logged and counted like any
/// check.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

impl Origin {
    /// Whether a proxy describes the client (its forwarding headers are read).
    pub fn proxied(self) -> bool {
        matches!(self, Origin::Proxied | Origin::ForwardAuth)
    }
}

impl CheckInput {
    /// The bytes of the request's path and headers, as `[limits] max_header_bytes` counts them
    /// (gRPC checks carry the path twice, as `path` and as the `:path` header: it counts once).
    pub fn header_bytes(&self) -> usize {
        let headers: usize = self.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        if self.headers.contains_key(":path") {
            headers
        } else {
            headers + self.path.len()
        }
    }

    /// The `:authority` without its port.
    pub fn host_without_port(&self) -> &str {
        match self.host.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => &self.host,
        }
    }
}

/// The client's address in an `X-Forwarded-For` header, `hops` entries from its end: each proxy
/// appends the address it received the request from, so with `hops` trusted proxies (Envoy counted)
/// the entry they appended last-but-`hops - 1` is the client. `None` when there are fewer entries
/// or that entry is no IP address.
pub fn forwarded_for(xff: &str, hops: usize) -> Option<String> {
    let entries: Vec<&str> = xff.split(',').map(str::trim).collect();
    let ip = entries.get(entries.len().checked_sub(hops)?)?;
    ip.parse::<std::net::IpAddr>()
        .is_ok()
        .then(|| (*ip).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_counts_trusted_hops_from_the_end() {
        let xff = "203.0.113.9, 10.0.0.1, 10.0.0.2";
        assert_eq!(forwarded_for(xff, 1).as_deref(), Some("10.0.0.2"));
        assert_eq!(forwarded_for(xff, 3).as_deref(), Some("203.0.113.9"));
        assert_eq!(forwarded_for(xff, 4), None);
        assert_eq!(forwarded_for("unknown, 10.0.0.2", 2), None);
        assert_eq!(forwarded_for(xff, 0), None);
    }

    #[test]
    fn the_path_counts_once() {
        let mut input = CheckInput {
            path: "/abc".into(),
            ..CheckInput::default()
        };
        input.headers.insert("a".into(), "bc".into());
        assert_eq!(input.header_bytes(), 3 + 4);
        input.headers.insert(":path".into(), "/abc".into());
        assert_eq!(input.header_bytes(), 3 + 5 + 4);
        input.host = "example.com:8443".into();
        assert_eq!(input.host_without_port(), "example.com");
        input.host = "[::1]".into();
        assert_eq!(input.host_without_port(), "[::1]");
    }
}
