//! The sidecar's request mapping: `<route specs as a JSON array> NUL <METHOD host path?query> NUL
//! <headers as a JSON object>`. The route map compiles or names the broken route; a request maps to
//! nothing or to one of the routes' actions, the same way twice; and what it maps to becomes an IAM
//! request (or a typed error) that the engine decides without panicking.

#![no_main]

use iamlet_engine::{ContextMap, Policy, PolicySet, PolicyType, Request};
use iamlet_routes::{HttpParts, RouteSpec, Routes};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use std::sync::OnceLock;

static SET: OnceLock<PolicySet> = OnceLock::new();

const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::${aws:username}/*"},
  {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
]}"#;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\0');
    let (Some(specs), Some(line)) = (parts.next(), parts.next()) else {
        return;
    };
    let Ok(specs) = serde_json::from_str::<Vec<RouteSpec>>(specs) else {
        return;
    };
    let routes = match Routes::compile(&specs) {
        Ok(r) => r,
        Err(e) => {
            assert!(e.to_string().starts_with("routes["), "{e}");
            return;
        }
    };
    let headers: BTreeMap<String, String> = parts
        .next()
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or_default();
    let mut fields = line.splitn(3, ' ');
    let method = fields.next().unwrap_or_default();
    let host = fields.next().unwrap_or_default();
    let target = fields.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let header = |name: &str| headers.get(name).cloned();
    let request = HttpParts {
        method,
        host,
        path,
        query,
        header: &header,
    };
    let mapped = match routes.map(&request) {
        Ok(m) => m,
        Err(e) => {
            assert_eq!(routes.map(&request), Err(e), "mapping is a function");
            return;
        }
    };
    assert_eq!(
        routes.map(&request).as_ref(),
        Ok(&mapped),
        "mapping is a function"
    );
    assert!(
        specs.iter().any(|s| s.action == mapped.action),
        "{} is no route's action",
        mapped.action
    );

    let mut context = ContextMap::new();
    for (k, v) in &mapped.context {
        context.insert(k, v.as_str());
    }
    let Ok(req) = Request::new(
        "arn:aws:iam::111122223333:user/alice",
        &mapped.action,
        &mapped.resource,
    ) else {
        return;
    };
    let req = req.with_context(context);
    let set = SET.get_or_init(|| {
        let mut set = PolicySet::new();
        set.add(
            Policy::parse(POLICY, PolicyType::Identity).expect("the target's own policy parses"),
        );
        set
    });
    let decision = set.evaluate(&req);
    assert_eq!(decision, set.explain(&req).decision);
});
