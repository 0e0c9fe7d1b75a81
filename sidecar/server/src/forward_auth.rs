//! Forward-auth: the subrequests of nginx (`auth_request`), Caddy (`forward_auth`) and Traefik
//! (`forwardAuth`). The proxy asks before it forwards a client's request; a 2xx lets it through
//! (the proxy copies `x-iamlet-principal` and `x-iamlet-decision-id` to the upstream request), 401 or 403
//! is returned to the client with the same JSON body as the HTTP ext_authz port's.
//!
//! The subrequest is not the client's request: its method, path and `Host` are the proxy's. The
//! original method, URI and host travel in headers, and which headers is the listener's
//! configuration (`[listen] forward_auth_style`), never a guess from what arrived: a client behind
//! nginx can send `X-Forwarded-Uri` itself, and nginx passes it on untouched. Each of those headers
//! must appear once; a subrequest without them, or with one twice, is a bad request (denied).
//!
//! The proxy copies every header of the client's request into the subrequest: no header names the
//! principal here (`[principal] trusted_header` is not read), only a SigV4 signature does.
//!
//! SigV4 signatures verify against the original request: the signed host is the forwarded host and
//! the signed path the original URI. The original body never reaches this listener, so a signature
//! over a request that may carry one must bind it with `x-amz-content-sha256`.

use super::Checks;
use crate::config::ForwardAuthStyle;
use crate::http::{header_map, upstream_headers};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{HeaderMap, Request, Response};
use iamlet_authz::{forwarded_for, Authorizer, CheckInput, Origin, Outcome, Protocol};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

/// What the forward-auth front end needs besides the authorizer.
#[derive(Clone, Debug)]
pub struct ForwardAuth {
    /// The guarded authorizer.
    pub service: Checks,
    /// The authorizer, which answers what the guard refuses.
    pub authz: Arc<Authorizer>,
    /// Which headers carry the original request.
    pub style: ForwardAuthStyle,
}

/// The client's request as the proxy describes it.
#[derive(Debug, PartialEq, Eq)]
struct Original {
    method: String,
    uri: String,
    host: String,
    scheme: String,
}

/// The one value of a header the proxy sets; `None` when absent. Twice is an error: a proxy sets it
/// once, so a second one is a client's (or a misconfiguration), and neither may be picked.
fn single(headers: &HeaderMap, name: &str) -> Result<Option<String>, String> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(format!("`{name}` appears more than once"));
    }
    let text = first
        .to_str()
        .map_err(|_| format!("`{name}` is not visible ASCII"))?
        .trim();
    Ok(Some(text.to_owned()))
}

fn required(headers: &HeaderMap, name: &str) -> Result<String, String> {
    single(headers, name)?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            format!("the subrequest has no `{name}` header: configure the proxy to send it")
        })
}

/// Reads the original request from the style's headers.
fn original(style: ForwardAuthStyle, headers: &HeaderMap) -> Result<Original, String> {
    let (method_h, uri_h) = style.method_and_uri_headers();
    let method = required(headers, method_h)?;
    if method.len() > 32 || hyper::Method::from_bytes(method.as_bytes()).is_err() {
        return Err(format!("`{method_h}` is not an HTTP method"));
    }
    let uri = required(headers, uri_h)?;
    // Origin-form only: an absolute URI or `*` names no path the route map can read.
    if !uri.starts_with('/') || uri.bytes().any(|b| b == b' ' || b == b'\t') {
        return Err(format!("`{uri_h}` is not a path (origin-form URI)"));
    }
    let host = required(headers, "x-forwarded-host")?;
    if host
        .bytes()
        .any(|b| matches!(b, b',' | b' ' | b'\t' | b'/' | b'@' | b'?' | b'#'))
    {
        return Err("`x-forwarded-host` is not one host".into());
    }
    let scheme = match single(headers, "x-forwarded-proto")? {
        None => "http".to_owned(),
        Some(p) if p.eq_ignore_ascii_case("http") || p.eq_ignore_ascii_case("https") => {
            p.to_ascii_lowercase()
        }
        Some(_) => return Err("`x-forwarded-proto` is neither http nor https".into()),
    };
    Ok(Original {
        method: method.to_ascii_uppercase(),
        uri,
        host,
        scheme,
    })
}

/// The headers the check reads: the subrequest's (the proxy copies the client's), with the original
/// host as `host` (what a signature signed) and without the subrequest's own framing.
fn check_headers(parts: &HeaderMap, original: &Original) -> HashMap<String, String> {
    let mut headers = header_map(parts);
    headers.remove("content-length");
    headers.remove("transfer-encoding");
    headers.insert("host".into(), original.host.clone());
    // The original body is never sent here and its length is unknown. For a method that carries a
    // body the check is told there is one it does not see, so a signature must bind it with
    // `x-amz-content-sha256`: the empty body's hash would let a signed request's body be swapped.
    if !matches!(
        original.method.as_str(),
        "GET" | "HEAD" | "OPTIONS" | "DELETE" | "TRACE"
    ) {
        headers.insert("transfer-encoding".into(), "chunked".into());
    }
    headers
}

fn respond(out: &Outcome) -> Response<Full<Bytes>> {
    if out.allowed {
        // The request id goes upstream too: the proxy copies it into its access log.
        let headers =
            upstream_headers(out).chain([("x-iamlet-request-id", out.request_id.as_str())]);
        crate::http::respond(200, headers, Bytes::new())
    } else {
        // nginx's `auth_request` returns 401 and 403 to the client and turns any other status into
        // a 500: every other denial (a bad request, an oversized one) is a 403, its body saying why.
        let status = if out.status == 401 { 401 } else { 403 };
        crate::http::respond(status, out.deny_headers(), out.body.clone())
    }
}

impl ForwardAuth {
    /// Answers one subrequest.
    pub async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let (parts, _body) = req.into_parts();
        let original = match original(self.style, &parts.headers) {
            Ok(o) => o,
            Err(reason) => return respond(&self.authz.bad_request(Protocol::ForwardAuth, reason)),
        };
        let headers = check_headers(&parts.headers, &original);
        // The proxy appends the address it received the request from: the last entry, as in
        // Envoy's HTTP mode (`[context] trusted_hops` reaches further back).
        let source_address = headers
            .get("x-forwarded-for")
            .and_then(|x| forwarded_for(x, 1))
            .or_else(|| Some(peer.ip().to_string()));
        let input = CheckInput {
            protocol: Protocol::ForwardAuth,
            origin: Origin::ForwardAuth,
            source_address,
            source_principal: None,
            method: original.method,
            scheme: original.scheme,
            host: original.host,
            path: original.uri,
            headers,
            filter_metadata: HashMap::new(),
            context_extensions: HashMap::new(),
            body: None,
        };
        let result = self.service.clone().oneshot(input).await;
        respond(&crate::guard::answer(
            &self.authz,
            Protocol::ForwardAuth,
            result,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_style_decides_which_headers_are_read() {
        let h = headers(&[
            ("x-forwarded-method", "GET"),
            ("x-forwarded-uri", "/allowed"),
            ("x-original-method", "DELETE"),
            ("x-original-uri", "/secret?x=1"),
            ("x-forwarded-host", "api.example.com:8443"),
            ("x-forwarded-proto", "HTTPS"),
        ]);
        let nginx = original(ForwardAuthStyle::Nginx, &h).unwrap();
        assert_eq!(
            (nginx.method.as_str(), nginx.uri.as_str()),
            ("DELETE", "/secret?x=1")
        );
        assert_eq!(nginx.scheme, "https");
        assert_eq!(nginx.host, "api.example.com:8443");
        for style in [ForwardAuthStyle::Traefik, ForwardAuthStyle::Caddy] {
            let o = original(style, &h).unwrap();
            assert_eq!((o.method.as_str(), o.uri.as_str()), ("GET", "/allowed"));
        }
        // The other style's headers never stand in for missing ones.
        let only_traefik = headers(&[
            ("x-forwarded-method", "GET"),
            ("x-forwarded-uri", "/allowed"),
            ("x-forwarded-host", "h"),
        ]);
        let e = original(ForwardAuthStyle::Nginx, &only_traefik).unwrap_err();
        assert!(e.contains("x-original-method"), "{e}");
    }

    #[test]
    fn duplicated_or_malformed_forwarding_headers_are_refused() {
        let base = [
            ("x-original-method", "GET"),
            ("x-original-uri", "/a"),
            ("x-forwarded-host", "h"),
        ];
        let with = |extra: &[(&str, &str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            original(ForwardAuthStyle::Nginx, &headers(&pairs))
        };
        assert!(with(&[]).is_ok());
        for (extra, needle) in [
            (vec![("x-original-uri", "/b")], "more than once"),
            (vec![("x-original-method", "PUT")], "more than once"),
            (vec![("x-forwarded-host", "evil")], "more than once"),
            (
                vec![
                    ("x-forwarded-proto", "https"),
                    ("x-forwarded-proto", "http"),
                ],
                "more than once",
            ),
            (vec![("x-forwarded-proto", "gopher")], "neither"),
        ] {
            let e = with(&extra).unwrap_err();
            assert!(e.contains(needle), "{extra:?}: {e}");
        }
        let bad = |pairs: &[(&str, &str)]| original(ForwardAuthStyle::Nginx, &headers(pairs));
        assert!(bad(&[
            ("x-original-method", "GET"),
            ("x-original-uri", "http://x/a"),
            ("x-forwarded-host", "h")
        ])
        .is_err());
        assert!(bad(&[
            ("x-original-method", "GET"),
            ("x-original-uri", "*"),
            ("x-forwarded-host", "h")
        ])
        .is_err());
        assert!(bad(&[
            ("x-original-method", "G(T"),
            ("x-original-uri", "/a"),
            ("x-forwarded-host", "h")
        ])
        .is_err());
        assert!(bad(&[
            ("x-original-method", "GET"),
            ("x-original-uri", "/a"),
            ("x-forwarded-host", "a, b")
        ])
        .is_err());
        assert!(bad(&[
            ("x-original-method", "GET"),
            ("x-original-uri", "/a"),
            ("x-forwarded-host", "")
        ])
        .is_err());
    }

    #[test]
    fn the_check_sees_the_original_host_and_never_the_subrequest_framing() {
        let h = headers(&[
            ("host", "iamlet:9195"),
            ("content-length", "0"),
            ("x-amz-date", "20260101T000000Z"),
        ]);
        let get = Original {
            method: "GET".into(),
            uri: "/a".into(),
            host: "api.example.com".into(),
            scheme: "http".into(),
        };
        let m = check_headers(&h, &get);
        assert_eq!(m["host"], "api.example.com");
        assert!(!m.contains_key("content-length"));
        assert!(!m.contains_key("transfer-encoding"));
        assert_eq!(m["x-amz-date"], "20260101T000000Z");
        let put = Original {
            method: "PUT".into(),
            ..get
        };
        assert_eq!(check_headers(&h, &put)["transfer-encoding"], "chunked");
    }
}
