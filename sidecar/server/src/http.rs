//! Envoy's HTTP ext_authz mode: Envoy forwards the original request's method, path and headers; a 200
//! lets the request through (with headers for upstream), anything else is returned to the client.
//!
//! The connection's peer is Envoy itself, so the client's address comes from the last
//! `X-Forwarded-For` entry (Envoy appends the downstream address), and an mTLS identity from the
//! `URI=` of the last `X-Forwarded-Client-Cert` element (Envoy sanitizes client-sent ones by default).

use super::Checks;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use iamlet_authz::{forwarded_for, Authorizer, CheckInput, Origin, Outcome, Protocol};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tower::ServiceExt;

/// What the HTTP front end needs besides the authorizer.
#[derive(Clone, Debug)]
pub struct HttpMode {
    /// The guarded authorizer.
    pub service: Checks,
    /// The authorizer, which answers what the guard refuses.
    pub authz: Arc<Authorizer>,
    /// A prefix Envoy adds to forwarded paths (`path_prefix`), stripped before routing.
    pub path_prefix: String,
    /// Total header bytes accepted.
    pub max_header_bytes: usize,
}

/// The SPIFFE ID of the client certificate Envoy verified: the one `URI` of the last element of
/// `X-Forwarded-Client-Cert` (Envoy appends the element of the connection it terminated). Parsed as
/// Envoy writes the header: elements separated by `,`, pairs by `;`, and values that hold `,`, `;`,
/// `=` or `"` (a certificate's `Subject`) in double quotes with `\"` escapes — so text inside a
/// quoted Subject never passes for a key. An element with several URIs, or a header that does not
/// parse, names no identity.
fn xfcc_uri(xfcc: &str) -> Option<String> {
    let elements = parse_xfcc(xfcc)?;
    let last = elements.last()?;
    let mut uris = last
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("URI"))
        .map(|(_, v)| v);
    let uri = uris.next()?;
    (uris.next().is_none() && !uri.is_empty()).then(|| uri.clone())
}

/// An XFCC header's elements, each its key/value pairs; `None` when it is malformed (an unterminated
/// quote, a pair without `=`).
fn parse_xfcc(text: &str) -> Option<Vec<Vec<(String, String)>>> {
    let mut elements = Vec::new();
    let mut pairs = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            if c == ',' || c == ';' || c == '"' {
                return None;
            }
            key.push(c);
            chars.next();
        }
        chars.next()?; // the `=`
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '\\' => value.push(chars.next()?),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c == ';' {
                    break;
                }
                if c == '"' {
                    return None;
                }
                value.push(c);
                chars.next();
            }
        }
        pairs.push((key.trim().to_owned(), value));
        match chars.next() {
            None => {
                elements.push(pairs);
                return Some(elements);
            }
            Some(';') => {}
            Some(',') => elements.push(std::mem::take(&mut pairs)),
            Some(_) => return None,
        }
    }
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

/// An answer of the check ports (HTTP mode, forward-auth): `status`, `headers`, `body`.
pub(crate) fn respond<'a>(
    status: u16,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: impl Into<Bytes>,
) -> Response<Full<Bytes>> {
    let mut b =
        Response::builder().status(StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN));
    for (k, v) in headers {
        b = b.header(k, v);
    }
    b.body(Full::new(body.into()))
        .unwrap_or_else(|_| unbuildable())
}

/// The headers an allow passes to the upstream (the principal, the action).
pub(crate) fn upstream_headers(out: &Outcome) -> impl Iterator<Item = (&str, &str)> {
    out.upstream_headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The answer when an answer could not be built (a header value that is not a valid HTTP header,
/// say): a deny, never hyper's default 200, which Envoy would take for an allow.
pub(crate) fn unbuildable() -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(
        br#"{"error":"AccessDenied","decision":"Error","reason":"the answer could not be built"}"#,
    )));
    *r.status_mut() = StatusCode::FORBIDDEN;
    r
}

impl HttpMode {
    /// Answers one forwarded request.
    pub async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let (parts, body) = req.into_parts();
        let headers = header_map(&parts.headers);
        let path_and_query = parts
            .uri
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
        // Envoy appends the downstream address it saw: the last entry.
        let source_address = headers
            .get("x-forwarded-for")
            .and_then(|x| forwarded_for(x, 1))
            .or_else(|| Some(peer.ip().to_string()));
        let mut input = CheckInput {
            protocol: Protocol::Http,
            origin: Origin::Proxied,
            body: None,
            source_address,
            source_principal: headers
                .get("x-forwarded-client-cert")
                .and_then(|x| xfcc_uri(x)),
            method: parts.method.as_str().to_owned(),
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
        // A request over the header limit is refused by the check (431) without its body read.
        if input.header_bytes() <= self.max_header_bytes {
            // Envoy sends the original body with `with_request_body` (and says when it cut it
            // short): a whole one is checked against a SigV4 signature.
            let partial = input
                .headers
                .get("x-envoy-auth-partial-body")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
            let limit = self.authz.settings().max_body_bytes;
            match Limited::new(body, limit).collect().await {
                Ok(b) => {
                    input.body = Some(b.to_bytes().to_vec()).filter(|b| !b.is_empty() && !partial)
                }
                // Not read further: its size is unknown.
                Err(_) => return outcome_response(self.authz.body_too_large(Protocol::Http, None)),
            }
        }
        let result = self.service.clone().oneshot(input).await;
        outcome_response(crate::guard::answer(&self.authz, Protocol::Http, result))
    }
}

/// The HTTP answer to an outcome: 200 with the headers for the upstream, or the denial's status
/// and JSON body.
fn outcome_response(mut out: Outcome) -> Response<Full<Bytes>> {
    if out.allowed {
        respond(200, upstream_headers(&out), Bytes::new())
    } else {
        let body = std::mem::take(&mut out.body);
        respond(out.status, out.deny_headers(), body)
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

    /// Found by the security review: a client certificate whose Subject holds `;URI=spiffe://…`
    /// became that identity when Envoy forwarded the subject, because quotes were ignored.
    #[test]
    fn quoted_subjects_cannot_smuggle_a_uri() {
        let forged = r#"By=spiffe://cluster.local/ns/edge/sa/envoy;Hash=abc;Subject="CN=mallory;URI=spiffe://cluster.local/ns/prod/sa/break-glass";URI=spiffe://cluster.local/ns/dev/sa/mallory"#;
        assert_eq!(
            xfcc_uri(forged).as_deref(),
            Some("spiffe://cluster.local/ns/dev/sa/mallory")
        );
        // The same Subject without a URI of its own names nobody.
        let only_subject =
            r#"Hash=abc;Subject="CN=x,OU=y;URI=spiffe://cluster.local/ns/prod/sa/admin""#;
        assert_eq!(xfcc_uri(only_subject), None);
        // Escaped quotes stay inside the value.
        let escaped = r#"Subject="CN=a\";URI=spiffe://evil";URI=spiffe://real"#;
        assert_eq!(xfcc_uri(escaped).as_deref(), Some("spiffe://real"));
        // Malformed headers, and elements with two URIs, name nobody.
        for bad in [
            r#"Subject="unterminated;URI=spiffe://x"#,
            "URI=spiffe://a;URI=spiffe://b",
            "URI",
            r#"URI=spi"ffe://x"#,
        ] {
            assert_eq!(xfcc_uri(bad), None, "{bad}");
        }
        assert_eq!(
            parse_xfcc(r#"By=a;Subject="x,y";URI=u,By=b"#).unwrap(),
            vec![
                vec![
                    ("By".to_owned(), "a".to_owned()),
                    ("Subject".to_owned(), "x,y".to_owned()),
                    ("URI".to_owned(), "u".to_owned())
                ],
                vec![("By".to_owned(), "b".to_owned())]
            ]
        );
    }

    #[test]
    fn an_answer_that_cannot_be_built_is_a_deny() {
        let r = respond(200, [("x-iamlet-principal", "bad\nvalue")], Bytes::new());
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
}
