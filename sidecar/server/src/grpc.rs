//! `envoy.service.auth.v3.Authorization/Check` over gRPC (tonic, `envoy-types`): the request
//! taken apart here, the answer written by [`answer`], the service in [`service`].

mod answer;
mod service;

pub(crate) use service::AuthorizationService;

use super::Checks;
use envoy_types::ext_authz::v3::pb::CheckRequest;
use envoy_types::pb::envoy::config::core::v3::address::Address;
use envoy_types::pb::google::protobuf::{value::Kind, Struct, Value};
use iamlet_authz::{Authorizer, CheckInput, Origin, Outcome, Protocol};
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

/// The gRPC service.
#[derive(Clone, Debug)]
pub struct ExtAuthz {
    service: Checks,
    authz: Arc<Authorizer>,
}

impl ExtAuthz {
    /// Serves checks through the guarded authorizer (which answers what the guard refuses).
    pub fn new(service: Checks, authz: Arc<Authorizer>) -> Self {
        ExtAuthz { service, authz }
    }
}

/// What a `CheckRequest` may hold besides its headers and body: addresses, a client certificate,
/// filter metadata, context extensions.
const ATTRIBUTE_BYTES: usize = 64 * 1024;

/// The largest `CheckRequest` read: headers within `max_header_bytes` (twice: the path is counted
/// once there but carried as `path` and `:path`), a body within `max_body_bytes` and the other
/// attributes. tonic's own limit (4 MiB) would read, on every stream, messages no check can pass;
/// a larger one is refused unread (tonic answers `OUT_OF_RANGE`, which Envoy with
/// `failure_mode_allow: false` turns into a denial).
pub(crate) fn max_message_bytes(max_header_bytes: usize, max_body_bytes: usize) -> usize {
    max_header_bytes
        .saturating_mul(2)
        .saturating_add(max_body_bytes)
        .saturating_add(ATTRIBUTE_BYTES)
}

fn value_to_json(v: &Value) -> serde_json::Value {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::NumberValue(n)) => {
            // Protobuf numbers are doubles: keep integral ones integral (JWT times).
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                serde_json::Value::from(*n as i64)
            } else {
                serde_json::Number::from_f64(*n)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
        }
        Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
        Some(Kind::StructValue(s)) => struct_to_json(s),
        Some(Kind::ListValue(l)) => {
            serde_json::Value::Array(l.values.iter().map(value_to_json).collect())
        }
    }
}

fn struct_to_json(s: &Struct) -> serde_json::Value {
    serde_json::Value::Object(
        s.fields
            .iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect(),
    )
}

/// The protocol-free view of a `CheckRequest`, taken apart rather than copied (this runs on every
/// check).
pub fn check_input(req: CheckRequest) -> CheckInput {
    let attrs = req.attributes.unwrap_or_default();
    let source = attrs.source.unwrap_or_default();
    let source_address = match source.address.and_then(|a| a.address) {
        Some(Address::SocketAddress(sa)) if !sa.address.is_empty() => Some(sa.address),
        _ => None,
    };
    let source_principal = Some(source.principal).filter(|p| !p.is_empty());
    let http = attrs.request.and_then(|r| r.http).unwrap_or_default();
    // Envoy sends header names in lower case: its map is then taken as it is, not rebuilt (a
    // rehash and a table per check).
    let mut headers: HashMap<String, String> = http.headers;
    if headers
        .keys()
        .any(|k| k.bytes().any(|b| b.is_ascii_uppercase()))
    {
        headers = headers
            .into_iter()
            .map(|(mut k, v)| {
                k.make_ascii_lowercase();
                (k, v)
            })
            .collect();
    }
    if let Some(map) = http.header_map {
        for hv in map.headers {
            let value = if hv.value.is_empty() {
                String::from_utf8_lossy(&hv.raw_value).into_owned()
            } else {
                hv.value
            };
            headers.insert(hv.key.to_ascii_lowercase(), value);
        }
    }
    // A field Envoy left empty is read from its pseudo-header.
    let field = |value: String, pseudo: &str| {
        Some(value)
            .filter(|v| !v.is_empty())
            .or_else(|| headers.get(pseudo).cloned())
    };
    let path = field(http.path, ":path").unwrap_or_default();
    let method = field(http.method, ":method").unwrap_or_default();
    let host = field(http.host, ":authority").unwrap_or_default();
    let scheme = field(http.scheme, ":scheme").unwrap_or_else(|| "http".into());
    if !http.id.is_empty() {
        headers.entry("x-request-id".into()).or_insert(http.id);
    }
    // Envoy sends the body with `with_request_body`, as bytes (`pack_as_bytes`) or text, and says
    // when it cut it short: only a whole body can be checked against a signature.
    let partial = headers
        .get("x-envoy-auth-partial-body")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let body = if partial {
        None
    } else if !http.raw_body.is_empty() {
        Some(http.raw_body)
    } else if !http.body.is_empty() {
        Some(http.body.into_bytes())
    } else {
        None
    };
    let filter_metadata = attrs
        .metadata_context
        .map(|m| {
            m.filter_metadata
                .iter()
                .map(|(k, v)| (k.clone(), struct_to_json(v)))
                .collect()
        })
        .unwrap_or_default();
    CheckInput {
        protocol: Protocol::Grpc,
        source_address,
        source_principal,
        method,
        scheme,
        host,
        path,
        headers,
        filter_metadata,
        context_extensions: attrs.context_extensions,
        body,
        origin: Origin::Proxied,
    }
}

impl ExtAuthz {
    /// Decides a `CheckRequest`: the guarded authorizer's outcome (or the guard's, for a check it
    /// refused), which [`answer`] writes as the `CheckResponse`.
    async fn outcome(&self, request: CheckRequest) -> Outcome {
        let input = check_input(request);
        let protocol = input.protocol;
        let result = self.service.clone().oneshot(input).await;
        crate::guard::answer(&self.authz, protocol, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Request};
    use envoy_types::pb::envoy::service::auth::v3::AttributeContext;

    fn request(headers: &[(&str, &str)]) -> CheckRequest {
        CheckRequest {
            attributes: Some(AttributeContext {
                request: Some(Request {
                    http: Some(HttpRequest {
                        method: "GET".into(),
                        path: "/k".into(),
                        headers: headers
                            .iter()
                            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                            .collect(),
                        ..HttpRequest::default()
                    }),
                    ..Request::default()
                }),
                ..AttributeContext::default()
            }),
        }
    }

    #[test]
    fn header_names_are_read_in_lower_case_however_sent() {
        let lower = check_input(request(&[("user-agent", "ua"), ("x-amz-date", "d")]));
        assert_eq!(
            lower.headers.get("user-agent").map(String::as_str),
            Some("ua")
        );
        assert_eq!(lower.headers.len(), 2);
        let mixed = check_input(request(&[("User-Agent", "ua"), ("x-amz-date", "d")]));
        assert_eq!(
            mixed.headers.get("user-agent").map(String::as_str),
            Some("ua")
        );
        assert!(mixed
            .headers
            .keys()
            .all(|k| !k.bytes().any(|b| b.is_ascii_uppercase())));
        assert_eq!((mixed.method.as_str(), mixed.path.as_str()), ("GET", "/k"));
    }
}
