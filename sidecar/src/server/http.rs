//! Envoy's HTTP ext_authz mode: Envoy forwards the original request's method, path and headers; a 200
//! lets the request through (with headers for upstream), anything else is returned to the client.
//!
//! The connection's peer is Envoy itself, so the client's address comes from the last
//! `X-Forwarded-For` entry (Envoy appends the downstream address), and an mTLS identity from the
//! `URI=` of the last `X-Forwarded-Client-Cert` element (Envoy sanitizes client-sent ones by default).

use super::Checks;
use crate::authz::CheckInput;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use std::collections::HashMap;
use std::net::SocketAddr;
use tower::ServiceExt;

/// What the HTTP front end needs besides the authorizer.
#[derive(Clone, Debug)]
pub struct HttpMode {
    /// The guarded authorizer.
    pub service: Checks,
    /// A prefix Envoy adds to forwarded paths (`path_prefix`), stripped before routing.
    pub path_prefix: String,
    /// Total header bytes accepted.
    pub max_header_bytes: usize,
}

fn xfcc_uri(xfcc: &str) -> Option<String> {
    let last = xfcc.rsplit(',').next()?;
    last.split(';').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("URI")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// A request's headers as [`CheckInput`] holds them: lower-case names (as hyper gives them), a
/// repeated header's values joined with `,` (as Envoy joins them for gRPC checks, and as SigV4's
/// canonical request reads them); values that are not visible ASCII are left out.
pub(crate) fn header_map(headers: &hyper::HeaderMap) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = HashMap::with_capacity(headers.len());
    for (k, v) in headers {
        let Ok(v) = v.to_str() else { continue };
        out.entry(k.as_str().to_owned())
            .and_modify(|e| {
                e.push(',');
                e.push_str(v);
            })
            .or_insert_with(|| v.to_owned());
    }
    out
}

fn respond(status: u16, headers: &[(String, String)], body: String) -> Response<Full<Bytes>> {
    let mut b =
        Response::builder().status(StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN));
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

impl HttpMode {
    /// Answers one forwarded request.
    pub async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let size: usize = req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len())
            .sum();
        if size > self.max_header_bytes {
            return respond(
                431,
                &[("content-type".into(), "application/json".into())],
                serde_json::json!({"error": "RequestHeaderFieldsTooLarge", "limit": self.max_header_bytes}).to_string(),
            );
        }
        let headers = header_map(req.headers());
        let path_and_query = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        let path = match path_and_query.strip_prefix(self.path_prefix.as_str()) {
            Some(p) if !self.path_prefix.is_empty() => {
                if p.starts_with('/') {
                    p.to_owned()
                } else {
                    format!("/{p}")
                }
            }
            _ => path_and_query,
        };
        let source_address = headers
            .get("x-forwarded-for")
            .and_then(|x| x.rsplit(',').next())
            .map(|s| s.trim().to_owned())
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok())
            .or_else(|| Some(peer.ip().to_string()));
        let input = CheckInput {
            protocol: "http",
            source_address,
            source_principal: headers
                .get("x-forwarded-client-cert")
                .and_then(|x| xfcc_uri(x)),
            method: req.method().as_str().to_owned(),
            scheme: headers
                .get("x-forwarded-proto")
                .cloned()
                .unwrap_or_else(|| "http".into()),
            host: headers.get("host").cloned().unwrap_or_default(),
            path,
            headers,
            filter_metadata: HashMap::new(),
            context_extensions: HashMap::new(),
        };
        let out = match self.service.clone().oneshot(input).await {
            Ok(o) => o,
            Err(never) => match never {},
        };
        if out.allowed {
            respond(200, &out.upstream_headers, String::new())
        } else {
            respond(
                out.status,
                &[
                    ("content-type".into(), "application/json".into()),
                    ("x-iamlet-request-id".into(), out.request_id.clone()),
                ],
                out.body,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_headers_are_joined_in_order() {
        let mut h = hyper::HeaderMap::new();
        h.append("x-amz-meta-a", "1".parse().unwrap());
        h.append("x-amz-meta-a", "2".parse().unwrap());
        h.append("host", "example.com".parse().unwrap());
        h.append(
            "x-binary",
            hyper::header::HeaderValue::from_bytes(b"\xff").unwrap(),
        );
        let m = header_map(&h);
        assert_eq!(m["x-amz-meta-a"], "1,2");
        assert_eq!(m["host"], "example.com");
        assert!(!m.contains_key("x-binary"));
    }

    #[test]
    fn reads_spiffe_ids_from_xfcc() {
        assert_eq!(
            xfcc_uri("By=spiffe://a;Hash=abc;URI=spiffe://cluster.local/ns/x/sa/y").as_deref(),
            Some("spiffe://cluster.local/ns/x/sa/y")
        );
        assert_eq!(
            xfcc_uri("URI=spiffe://first,By=x;URI=\"spiffe://second\"").as_deref(),
            Some("spiffe://second")
        );
        assert!(xfcc_uri("Hash=abc").is_none());
    }
}
