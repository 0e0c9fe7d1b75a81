//! Hostile input through the public entry points: nesting far past any stack, documents past the size
//! limit. Each is refused with a clear error before any recursive parser sees it. (The work bounds
//! of the wildcard matcher are unit tests beside it, in `src/pattern.rs` and `src/policy.rs`, where
//! the matcher's steps are counted.)

use iamlet_engine::{ffi, Policy, PolicyErrorKind, PolicyType};

fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deep_policies_are_refused_with_a_limit_error() {
    for depth in [65, 1_000, 100_000] {
        let e = Policy::parse(&nested(depth), PolicyType::Identity).unwrap_err();
        assert_eq!(e.errors().len(), 1);
        let err = &e.errors()[0];
        assert_eq!(err.kind(), PolicyErrorKind::Limit);
        assert_eq!(err.path(), "");
        assert_eq!(
            err.to_string(),
            "1:65: the policy is nested more than 64 levels deep"
        );
    }
}

#[test]
fn oversized_policies_are_refused_before_parsing() {
    let text = format!(
        r#"{{"Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Sid":"{}"}}}}"#,
        "x".repeat(300 * 1024)
    );
    let e = Policy::parse(&text, PolicyType::Identity).unwrap_err();
    assert_eq!(e.errors()[0].kind(), PolicyErrorKind::Limit);
    assert!(e.errors()[0]
        .message()
        .contains("the limit is 262144 bytes"));
}

#[test]
fn deep_case_files_and_deep_policies_in_them_are_errors() {
    // The case file itself: serde_json's recursion limit answers.
    let out: serde_json::Value =
        serde_json::from_str(&ffi::simulate_json(&nested(100_000))).unwrap();
    let error = out["error"].as_str().unwrap();
    assert!(error.contains("recursion limit"), "{error}");

    // A policy given as text inside a case: the engine's limit answers, naming the policy.
    let case = serde_json::json!([{
        "id": "deep",
        "identity_policies": [nested(100_000)],
        "request": {
            "principal": "arn:aws:iam::111122223333:user/alice",
            "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k"
        }
    }]);
    let out: serde_json::Value =
        serde_json::from_str(&ffi::simulate_json(&case.to_string())).unwrap();
    assert_eq!(out[0]["id"], "deep");
    assert!(out[0].get("decision").is_none());
    let error = out[0]["error"].as_str().unwrap();
    assert_eq!(
        error,
        "policy `identity_policies[0]`: 1:65: the policy is nested more than 64 levels deep"
    );
}
