//! A policy and a request context: `<policy JSON> NUL <context JSON>`. The context is a JSON object
//! of condition keys; the keys `$principal`, `$action` and `$resource` set the request itself. The
//! policy goes into a set as every type it parses as, and the request is decided and explained.
//! Every entry point must agree, and the deciding statements must bear the decision's effect.

#![no_main]

use iamlet_engine::{ContextMap, Decision, Effect, Policy, PolicySet, PolicyType, Request};
use libfuzzer_sys::fuzz_target;

const TYPES: [PolicyType; 6] = [
    PolicyType::Identity,
    PolicyType::Resource,
    PolicyType::Boundary,
    PolicyType::Scp,
    PolicyType::Rcp,
    PolicyType::Session,
];

fn request(context: &str) -> Option<Request> {
    let mut value: serde_json::Value = serde_json::from_str(context).ok()?;
    let obj = value.as_object_mut()?;
    let mut take = |k: &str, default: &str| match obj.remove(k) {
        Some(serde_json::Value::String(s)) => s,
        _ => default.to_owned(),
    };
    let principal = take("$principal", "arn:aws:iam::111122223333:user/alice");
    let action = take("$action", "s3:GetObject");
    let resource = take("$resource", "arn:aws:s3:::bucket/key");
    let ctx = ContextMap::from_json(&value).ok()?;
    Some(
        Request::new(&principal, &action, &resource)
            .ok()?
            .with_context(ctx),
    )
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (policy, context) = data.split_at(split);
    let policy = String::from_utf8_lossy(policy);
    let context = String::from_utf8_lossy(context.get(1..).unwrap_or_default());
    let Some(req) = request(&context) else {
        return;
    };
    let mut set = PolicySet::new();
    let mut any = false;
    for t in TYPES {
        if let Ok(p) = Policy::parse(&policy, t) {
            set.add(p);
            any = true;
        }
    }
    if !any {
        return;
    }
    let decision = set.evaluate(&req);
    let verdict = set.decide(&req);
    let explanation = set.explain(&req);
    assert_eq!(verdict.decision, decision);
    assert_eq!(explanation.decision, decision);
    match decision {
        Decision::ExplicitDeny => {
            assert!(
                !verdict.deciding.is_empty(),
                "an explicit deny names no statement"
            );
            assert!(verdict.deciding.iter().all(|s| s.effect == Effect::Deny));
        }
        Decision::Allow => assert!(verdict.deciding.iter().all(|s| s.effect == Effect::Allow)),
        Decision::ImplicitDeny => assert!(verdict.deciding.is_empty()),
    }
    let json = serde_json::to_string(&explanation).unwrap_or_default();
    assert!(!json.is_empty(), "the explanation does not serialize");
});
