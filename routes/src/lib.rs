//! The route map: which IAM action on which resource an HTTP request is.
//!
//! A route matches a method, a host and a path template (`/buckets/{bucket}/objects/{key*}`: `{name}`
//! takes one segment, a final `{name*}` the rest), and yields an action, a resource ARN built from the
//! captures (`arn:aws:s3:::{bucket}/{key}`), and condition keys taken from the path, the query or
//! headers. The first route that matches wins.
//!
//! Paths are matched normalized ([`path`]): what a route sees is what the upstream serves, and a
//! path or query that two servers could read two ways is refused ([`Unmapped`]), never guessed at.

pub mod path;

use path::{NormalizedPath, PathError};
use serde::Deserialize;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// A route as written in the configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// `GET`, `PUT`…; absent or `*` for any.
    #[serde(default)]
    pub method: Option<String>,
    /// The host (`:authority`) this route is for: exact, `*.example.com`, or absent for any.
    #[serde(default)]
    pub host: Option<String>,
    /// The path template.
    pub path: String,
    /// The IAM action, `service:Action`.
    pub action: String,
    /// The resource ARN template.
    pub resource: String,
    /// The account owning the resource, for ARNs without one.
    #[serde(default)]
    pub resource_account: Option<String>,
    /// Condition keys: key → `path:NAME`, `query:NAME`, `header:NAME`, or `literal:VALUE`.
    #[serde(default)]
    pub context: BTreeMap<String, String>,
    /// Whether an encoded slash (`%2F`) may appear inside a path segment (kept in the capture, as
    /// S3 keeps it in a key). Off: such a request is refused, since upstreams disagree on whether
    /// it is a separator.
    #[serde(default)]
    pub encoded_slashes: bool,
}

/// Why a request maps to no action.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unmapped {
    /// No route matches it.
    #[error("no route matches")]
    NoRoute,
    /// Its path cannot be normalized unambiguously.
    #[error("the path is ambiguous: {0}")]
    Path(#[from] PathError),
    /// A query parameter a route reads as one value comes more than once: the upstream may read
    /// either.
    #[error("query parameter `{name}` is given {count} times; the route reads it as one value")]
    RepeatedParameter {
        /// The parameter.
        name: String,
        /// How often it came.
        count: usize,
    },
    /// A query parameter a route reads has a malformed `%` escape or is not UTF-8.
    #[error("query parameter `{name}` is not well-formed percent-encoded UTF-8")]
    BadParameter {
        /// The parameter.
        name: String,
    },
}

impl Unmapped {
    /// Whether the request itself is malformed or ambiguous (a client error, denied whatever the
    /// configuration says of unmapped requests), rather than merely not routed.
    pub fn is_bad_request(&self) -> bool {
        !matches!(self, Unmapped::NoRoute)
    }
}

/// A route that cannot be compiled.
#[derive(Debug, thiserror::Error)]
#[error("routes[{index}] (`{path}`): {message}")]
pub struct RouteError {
    index: usize,
    path: String,
    message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Capture(String),
    Rest(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    Path(String),
    Query(String),
    Header(String),
    Literal(String),
}

#[derive(Clone, Debug)]
struct Route {
    method: Option<String>,
    host: Option<String>,
    segments: Vec<Segment>,
    action: String,
    resource: Vec<Piece>,
    resource_account: Option<String>,
    context: Vec<(String, Source)>,
    encoded_slashes: bool,
}

/// The compiled route map.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    routes: Vec<Route>,
}

/// What a request is, in IAM's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// The action.
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// The resource's account, when the route names it.
    pub resource_account: Option<String>,
    /// Condition keys from the route.
    pub context: Vec<(String, String)>,
}

/// The parts of an HTTP request a route looks at.
#[derive(Clone, Copy)]
pub struct HttpParts<'a> {
    /// The method.
    pub method: &'a str,
    /// The host, without port.
    pub host: &'a str,
    /// The path without the query, as the client sent it (normalized by the map).
    pub path: &'a str,
    /// The raw query string (after `?`), possibly empty.
    pub query: &'a str,
    /// Header lookup (lower-case names).
    pub header: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for HttpParts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpParts")
            .field("method", &self.method)
            .field("host", &self.host)
            .field("path", &self.path)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

fn template(text: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let (before, after) = rest.split_at(start);
        if !before.is_empty() {
            out.push(Piece::Text(before.to_owned()));
        }
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed `{{` in `{text}`"))?;
        let name = after.get(1..end).unwrap_or_default();
        if name.is_empty() || name.contains(['{', '/']) {
            return Err(format!("bad variable `{{{name}}}` in `{text}`"));
        }
        out.push(Piece::Var(name.to_owned()));
        rest = after.get(end + 1..).unwrap_or_default();
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_owned()));
    }
    Ok(out)
}

impl Routes {
    /// Compiles the route map, checking every template.
    pub fn compile(specs: &[RouteSpec]) -> Result<Routes, RouteError> {
        let mut routes = Vec::with_capacity(specs.len());
        for (index, spec) in specs.iter().enumerate() {
            let err = |message: String| RouteError {
                index,
                path: spec.path.clone(),
                message,
            };
            if !spec.path.starts_with('/') {
                return Err(err("the path must start with `/`".into()));
            }
            let mut segments = Vec::new();
            let parts: Vec<&str> = spec.path.split('/').skip(1).collect();
            for (i, seg) in parts.iter().enumerate() {
                let s = match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) if name.ends_with('*') => {
                        if i + 1 != parts.len() {
                            return Err(err(format!("`{{{name}}}` must be the last segment")));
                        }
                        Segment::Rest(name.trim_end_matches('*').to_owned())
                    }
                    Some(name) if !name.is_empty() => Segment::Capture(name.to_owned()),
                    _ if seg.contains(['{', '}']) => {
                        return Err(err(format!(
                            "segment `{seg}`: a variable must be a whole segment"
                        )))
                    }
                    _ => Segment::Literal((*seg).to_owned()),
                };
                segments.push(s);
            }
            let names: Vec<&str> = segments
                .iter()
                .filter_map(|s| match s {
                    Segment::Capture(n) | Segment::Rest(n) => Some(n.as_str()),
                    Segment::Literal(_) => None,
                })
                .collect();
            match spec.action.split_once(':') {
                Some((svc, name)) if !svc.is_empty() && !name.is_empty() => {}
                _ => {
                    return Err(err(format!(
                        "action `{}` is not `service:Action`",
                        spec.action
                    )))
                }
            }
            let resource = template(&spec.resource).map_err(&err)?;
            for p in &resource {
                if let Piece::Var(v) = p {
                    if !names.contains(&v.as_str()) {
                        return Err(err(format!(
                            "resource `{}` uses `{{{v}}}`, which the path does not capture",
                            spec.resource
                        )));
                    }
                }
            }
            let mut context = Vec::new();
            for (key, source) in &spec.context {
                let src = match source.split_once(':') {
                    Some(("path", n)) if names.contains(&n) => Source::Path(n.to_owned()),
                    Some(("path", n)) => {
                        return Err(err(format!(
                            "context `{key}`: the path does not capture `{n}`"
                        )))
                    }
                    Some(("query", n)) if !n.is_empty() => Source::Query(n.to_owned()),
                    Some(("header", n)) if !n.is_empty() => Source::Header(n.to_ascii_lowercase()),
                    Some(("literal", v)) => Source::Literal(v.to_owned()),
                    _ => {
                        return Err(err(format!(
                            "context `{key}` = `{source}`: expected `path:NAME`, `query:NAME`, `header:NAME` or `literal:VALUE`"
                        )))
                    }
                };
                context.push((key.clone(), src));
            }
            routes.push(Route {
                method: spec
                    .method
                    .as_ref()
                    .filter(|m| *m != "*")
                    .map(|m| m.to_ascii_uppercase()),
                host: spec
                    .host
                    .as_ref()
                    .filter(|h| *h != "*")
                    .map(|h| h.to_ascii_lowercase()),
                segments,
                action: spec.action.clone(),
                resource,
                resource_account: spec.resource_account.clone(),
                context,
                encoded_slashes: spec.encoded_slashes,
            });
        }
        Ok(Routes { routes })
    }

    /// The action of each route, in the map's order.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|r| r.action.as_str())
    }

    /// The number of routes.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Maps a request: the first route matching its normalized path.
    pub fn map(&self, req: &HttpParts<'_>) -> Result<Mapped, Unmapped> {
        let path = NormalizedPath::parse(req.path)?;
        for r in &self.routes {
            if let Some(m) = r.map(req, &path)? {
                return Ok(m);
            }
        }
        Err(Unmapped::NoRoute)
    }
}

/// Whether a host matches a route's (lower-cased) pattern: exactly, or for `*.suffix` any host
/// ending in `.suffix`; ASCII letters in any case, as DNS compares them.
fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.as_bytes();
    match pattern.strip_prefix("*.") {
        Some(suffix) => host.len().checked_sub(suffix.len() + 1).is_some_and(|dot| {
            host[dot] == b'.' && host[dot + 1..].eq_ignore_ascii_case(suffix.as_bytes())
        }),
        None => host.eq_ignore_ascii_case(pattern.as_bytes()),
    }
}

/// The values of every occurrence of a query parameter (`+` is a space, as forms encode it).
fn query_values(query: &str, name: &str) -> Result<Vec<String>, Unmapped> {
    let bad = || Unmapped::BadParameter {
        name: name.to_owned(),
    };
    let mut out = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        // A key that does not decode cannot be the parameter asked for.
        if decode_strict(k).is_some_and(|k| k == name) {
            out.push(decode_strict(v).ok_or_else(bad)?);
        }
    }
    Ok(out)
}

/// Percent-decodes (with `+` as a space); `None` for a malformed escape or bytes that are not UTF-8.
fn decode_strict(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = |j: usize| bytes.get(j).and_then(|c| char::from(*c).to_digit(16));
                let v = hex(i + 1)? * 16 + hex(i + 2)?;
                out.push(u8::try_from(v).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A value a route's path captured, borrowed from the normalized path: one segment, or the
/// rest's segments, joined by `/` as they are written (no joined copy is made to be copied again).
#[derive(Clone, Copy, Debug)]
enum Captured<'p> {
    One(&'p str),
    Rest(&'p [Cow<'p, str>]),
}

impl Captured<'_> {
    fn len(self) -> usize {
        match self {
            Captured::One(s) => s.len(),
            Captured::Rest(r) => {
                r.iter().map(|s| s.len()).sum::<usize>() + r.len().saturating_sub(1)
            }
        }
    }

    fn write(self, out: &mut String) {
        match self {
            Captured::One(s) => out.push_str(s),
            Captured::Rest(r) => {
                for (i, s) in r.iter().enumerate() {
                    if i > 0 {
                        out.push('/');
                    }
                    out.push_str(s);
                }
            }
        }
    }

    fn to_owned_string(self) -> String {
        let mut s = String::with_capacity(self.len());
        self.write(&mut s);
        s
    }
}

impl Route {
    /// The request in IAM's terms if this route matches it; an error when it matches but reading
    /// it would be ambiguous.
    fn map(
        &self,
        req: &HttpParts<'_>,
        path: &NormalizedPath<'_>,
    ) -> Result<Option<Mapped>, Unmapped> {
        if let Some(m) = &self.method {
            if !m.eq_ignore_ascii_case(req.method) {
                return Ok(None);
            }
        }
        if let Some(h) = &self.host {
            if !host_matches(h, req.host) {
                return Ok(None);
            }
        }
        // Borrowed from the path, a rest of several segments too (joined as it is written).
        let mut captures: SmallVec<[(&str, Captured<'_>); 4]> = SmallVec::new();
        let parts = path.segments();
        let mut i = 0;
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => {
                    if parts.get(i).map(|p| p.as_ref()) != Some(l.as_str()) {
                        return Ok(None);
                    }
                    i += 1;
                }
                Segment::Capture(n) => {
                    let Some(v) = parts.get(i).filter(|v| !v.is_empty()) else {
                        return Ok(None);
                    };
                    captures.push((n, Captured::One(v.as_ref())));
                    i += 1;
                }
                Segment::Rest(n) => {
                    captures.push((n, Captured::Rest(parts.get(i..).unwrap_or_default())));
                    i = parts.len();
                }
            }
        }
        if i != parts.len() {
            return Ok(None);
        }
        if let (Some(segment), false) = (path.encoded_slash(), self.encoded_slashes) {
            return Err(PathError::EncodedSlash { segment }.into());
        }
        let get = |name: &str| {
            captures
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(Captured::One(""), |(_, v)| *v)
        };
        // Written into one string of its final length from borrowed pieces.
        let pieces: SmallVec<[Captured<'_>; 8]> = self
            .resource
            .iter()
            .map(|p| match p {
                Piece::Text(t) => Captured::One(t),
                Piece::Var(v) => get(v),
            })
            .collect();
        let mut resource = String::with_capacity(pieces.iter().map(|p| p.len()).sum());
        for p in pieces {
            p.write(&mut resource);
        }
        let mut context = Vec::with_capacity(self.context.len());
        for (k, src) in &self.context {
            let v = match src {
                Source::Path(n) => captures
                    .iter()
                    .find(|(c, _)| c == n)
                    .map(|(_, v)| v.to_owned_string()),
                Source::Query(n) => {
                    let mut values = query_values(req.query, n)?;
                    if values.len() > 1 {
                        return Err(Unmapped::RepeatedParameter {
                            name: n.clone(),
                            count: values.len(),
                        });
                    }
                    values.pop()
                }
                Source::Header(n) => (req.header)(n),
                Source::Literal(v) => Some(v.clone()),
            };
            if let Some(v) = v {
                context.push((k.clone(), v));
            }
        }
        Ok(Some(Mapped {
            action: self.action.clone(),
            resource,
            resource_account: self.resource_account.clone(),
            context,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(method: &str, path: &str, action: &str, resource: &str) -> RouteSpec {
        RouteSpec {
            method: Some(method.into()),
            host: None,
            path: path.into(),
            action: action.into(),
            resource: resource.into(),
            resource_account: None,
            context: BTreeMap::new(),
            encoded_slashes: false,
        }
    }

    fn parts<'a>(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        h: &'a dyn Fn(&str) -> Option<String>,
    ) -> HttpParts<'a> {
        HttpParts {
            method,
            host: "api.example.com",
            path,
            query,
            header: h,
        }
    }

    #[test]
    fn hosts_match_exactly_or_by_suffix_in_any_case() {
        assert!(host_matches("api.example.com", "API.Example.com"));
        assert!(!host_matches("api.example.com", "api.example.co"));
        assert!(!host_matches("api.example.com", "xapi.example.com"));
        assert!(host_matches("*.example.com", "a.b.EXAMPLE.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(!host_matches("*.example.com", ".example.com.evil"));
        assert!(!host_matches("*.example.com", "aexample.com"));
        assert!(!host_matches("*.example.com", "é.example.co"));
        assert!(host_matches("*.example.com", "é.example.com"));
    }

    #[test]
    fn maps_requests() {
        let mut get = spec(
            "GET",
            "/buckets/{bucket}/objects/{key*}",
            "s3:GetObject",
            "arn:aws:s3:::{bucket}/{key}",
        );
        get.context
            .insert("s3:prefix".into(), "query:prefix".into());
        get.context
            .insert("aws:RequestTag/team".into(), "header:x-team".into());
        get.context
            .insert("s3:ExistingObjectTag/key".into(), "path:key".into());
        get.context
            .insert("s3:ExistingObjectTag/bucket".into(), "path:bucket".into());
        let list = spec(
            "GET",
            "/buckets/{bucket}",
            "s3:ListBucket",
            "arn:aws:s3:::{bucket}",
        );
        let routes = Routes::compile(&[get, list]).unwrap();
        let h = |n: &str| (n == "x-team").then(|| "red".to_string());
        let m = routes
            .map(&parts(
                "GET",
                "/buckets/b1/objects/home/alice/a%20b.txt",
                "prefix=home%2F&x=1",
                &h,
            ))
            .unwrap();
        assert_eq!(m.action, "s3:GetObject");
        assert_eq!(m.resource, "arn:aws:s3:::b1/home/alice/a b.txt");
        assert!(m.context.contains(&("s3:prefix".into(), "home/".into())));
        assert!(m
            .context
            .contains(&("aws:RequestTag/team".into(), "red".into())));
        // A capture read as a condition key: a rest of several segments joined, one segment.
        for (key, value) in [("key", "home/alice/a b.txt"), ("bucket", "b1")] {
            let key = format!("s3:ExistingObjectTag/{key}");
            assert!(m.context.contains(&(key, value.into())), "{:?}", m.context);
        }
        let m = routes.map(&parts("get", "/buckets/b1", "", &h)).unwrap();
        assert_eq!(m.action, "s3:ListBucket");
        assert_eq!(
            routes.map(&parts("PUT", "/buckets/b1", "", &h)),
            Err(Unmapped::NoRoute)
        );
        assert_eq!(
            routes.map(&parts("GET", "/buckets", "", &h)),
            Err(Unmapped::NoRoute)
        );
        assert_eq!(
            routes.map(&parts("GET", "/buckets//", "", &h)),
            Err(Unmapped::NoRoute)
        );
    }

    /// Found by the security review: `..` and encoded separators were matched raw and decoded
    /// afterwards, so alice (allowed `home/alice/*`) read bob's notes; a repeated query parameter
    /// was read first-wins while the upstream may read the last.
    #[test]
    fn paths_are_normalized_before_matching_and_ambiguity_is_refused() {
        let mut get = spec(
            "GET",
            "/buckets/{bucket}/objects/{key*}",
            "s3:GetObject",
            "arn:aws:s3:::{bucket}/{key}",
        );
        get.context
            .insert("s3:prefix".into(), "query:prefix".into());
        let routes = Routes::compile(&[get]).unwrap();
        let h = |_: &str| None;
        let resource = |path: &str| routes.map(&parts("GET", path, "", &h)).map(|m| m.resource);
        for path in [
            "/buckets/b1/objects/home/alice/../bob/notes.txt",
            "/buckets/b1/objects/home/alice/%2E%2E/bob/notes.txt",
            "/buckets/b1/objects/home/alice/./../bob//notes.txt",
            "/buckets/b1/objects/home/%61lice/../bob/notes.txt",
        ] {
            assert_eq!(
                resource(path).as_deref(),
                Ok("arn:aws:s3:::b1/home/bob/notes.txt"),
                "{path}"
            );
        }
        assert_eq!(
            resource("/buckets/b1/objects/home/alice/..%2Fbob%2Fnotes.txt"),
            Err(Unmapped::Path(PathError::EncodedSlash { segment: 6 }))
        );
        assert_eq!(
            resource("/buckets/b1/objects/../../../../x"),
            Err(Unmapped::Path(PathError::AboveRoot))
        );
        assert!(matches!(
            resource("/buckets/b1/objects/a%5C..%5Cb"),
            Err(Unmapped::Path(PathError::Backslash { .. }))
        ));
        // `..` may also leave the route altogether.
        assert_eq!(
            resource("/buckets/b1/objects/../../other"),
            Err(Unmapped::NoRoute)
        );
        let m = |q: &str| routes.map(&parts("GET", "/buckets/b1/objects/k", q, &h));
        assert_eq!(
            m("prefix=home/alice/&prefix=home/bob/"),
            Err(Unmapped::RepeatedParameter {
                name: "prefix".into(),
                count: 2
            })
        );
        assert_eq!(
            m("prefix=a&pre%66ix=b"),
            Err(Unmapped::RepeatedParameter {
                name: "prefix".into(),
                count: 2
            })
        );
        assert_eq!(
            m("prefix=%zz"),
            Err(Unmapped::BadParameter {
                name: "prefix".into()
            })
        );
        assert!(m("prefix=home%2Falice%2F&other=1&other=2").is_ok());
        assert!(Unmapped::RepeatedParameter {
            name: "x".into(),
            count: 2
        }
        .is_bad_request());
        assert!(!Unmapped::NoRoute.is_bad_request());

        // A route that accepts encoded slashes keeps them in the capture.
        let mut keys = spec("GET", "/k/{key}", "s3:GetObject", "arn:aws:s3:::b/{key}");
        keys.encoded_slashes = true;
        let routes = Routes::compile(&[keys]).unwrap();
        assert_eq!(
            routes
                .map(&parts("GET", "/k/a%2Fb", "", &h))
                .map(|m| m.resource),
            Ok("arn:aws:s3:::b/a/b".to_owned())
        );
    }

    #[test]
    fn rejects_bad_routes() {
        let bad = |s: RouteSpec| Routes::compile(&[s]).unwrap_err().to_string();
        assert!(bad(spec("GET", "/a/{x*}/b", "s3:GetObject", "*")).contains("last segment"));
        assert!(bad(spec("GET", "/a/{x}", "GetObject", "*")).contains("service:Action"));
        assert!(
            bad(spec("GET", "/a/{x}", "s3:GetObject", "arn:aws:s3:::{y}"))
                .contains("does not capture")
        );
        assert!(bad(spec("GET", "a", "s3:GetObject", "*")).contains("start with"));
        let mut s = spec("GET", "/a/{x}", "s3:GetObject", "*");
        s.context.insert("k".into(), "cookie:x".into());
        assert!(bad(s).contains("expected `path:NAME`"));
    }
}
