//! The component under wasmtime: decisions, problems, and failures that must become errors.
#![allow(clippy::unwrap_used, clippy::panic, reason = "tests")]

use iamlet_wasm_host::{
    ContextEntry, ContextValue, Decision, Host, HostConfig, HostError, PolicyInput, PolicyType,
    Request,
};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn identity(doc: &str) -> PolicyInput {
    PolicyInput {
        name: Some("p".into()),
        policy_type: PolicyType::Identity,
        document: doc.into(),
        level: None,
    }
}

fn request(resource: &str) -> Request {
    Request {
        principal: "arn:aws:iam::111122223333:user/alice".into(),
        action: "s3:GetObject".into(),
        resource: resource.into(),
        resource_account: None,
        session_issuer: None,
        context: vec![ContextEntry {
            key: "aws:SourceIp".into(),
            value: ContextValue::Single("203.0.113.9".into()),
        }],
    }
}

const HOME: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Home","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/home/${aws:username}/*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#;

#[test]
fn evaluates_and_explains() {
    let host = Host::new(HostConfig::default()).unwrap();
    let set = host.compile(vec![identity(HOME)]).unwrap();
    assert_eq!(set.statement_count(), 1);
    let e = host
        .evaluate(&set, &request("arn:aws:s3:::b/home/alice/x"), false)
        .unwrap();
    assert_eq!(e.decision, Decision::Allow);
    assert_eq!(e.deciding[0].sid.as_deref(), Some("Home"));
    assert!(e.explanation_json.is_none());
    let e = host
        .evaluate(&set, &request("arn:aws:s3:::b/home/bob/x"), true)
        .unwrap();
    assert_eq!(e.decision, Decision::ImplicitDeny);
    let x: serde_json::Value = serde_json::from_str(&e.explanation_json.unwrap()).unwrap();
    assert_eq!(x["decision"], "ImplicitDeny");
}

#[test]
fn policy_problems_carry_paths() {
    let host = Host::new(HostConfig {
        instances: 1,
        ..HostConfig::default()
    })
    .unwrap();
    let bad = identity(r#"{"Statement":{"Effect":"allow","Action":"s3:*","Resource":"*"}}"#);
    let problems = host.validate(&bad).unwrap();
    assert_eq!(problems[0].path, "Statement.Effect");
    assert_eq!(problems[0].line, Some(1));
    match host.compile(vec![bad]) {
        Err(HostError::Policies(p)) => {
            assert!(p[0].display.contains("expected \"Allow\" or \"Deny\""))
        }
        other => panic!("expected policy problems, got {other:?}"),
    }
    let bad_request = Request {
        action: "GetObject".into(),
        ..request("x")
    };
    let set = host.compile(vec![identity(HOME)]).unwrap();
    assert!(matches!(
        host.evaluate(&set, &bad_request, false),
        Err(HostError::Request(_))
    ));
}

fn big_policy(statements: usize) -> String {
    let stmts: Vec<String> = (0..statements)
        .map(|i| format!(r#"{{"Sid":"S{i}","Effect":"Allow","Action":["s3:Get{i}*","ec2:Describe{i}"],"Resource":"arn:aws:s3:::bucket{i}/*","Condition":{{"StringEquals":{{"aws:PrincipalTag/team":["a{i}","b{i}"]}}}}}}"#))
        .collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        stmts.join(",")
    )
}

#[test]
fn time_limit_traps_and_the_next_call_works() {
    let host = Host::new(HostConfig {
        instances: 1,
        call_timeout: Duration::from_millis(1),
        ..HostConfig::default()
    })
    .unwrap();
    // 40 policies of 500 statements: far more than a millisecond of compiling.
    let many: Vec<PolicyInput> = (0..40).map(|_| identity(&big_policy(500))).collect();
    match host.compile(many) {
        Err(HostError::Trap { kind, .. }) => assert_eq!(kind, "timeout"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(host.counters().timeouts.load(Ordering::Relaxed), 1);
    assert_eq!(
        host.counters().replaced_instances.load(Ordering::Relaxed),
        1
    );
    let set = host.compile(vec![identity(HOME)]).unwrap();
    let e = host
        .evaluate(&set, &request("arn:aws:s3:::b/home/alice/x"), false)
        .unwrap();
    assert_eq!(e.decision, Decision::Allow);
}

#[test]
fn memory_limit_traps_and_sets_survive_replacement() {
    let host = Host::new(HostConfig {
        instances: 1,
        max_memory_bytes: 4 * 1024 * 1024,
        call_timeout: Duration::from_secs(10),
    })
    .unwrap();
    let small = host.compile(vec![identity(HOME)]).unwrap();
    let many: Vec<PolicyInput> = (0..40).map(|_| identity(&big_policy(500))).collect();
    match host.compile(many) {
        Err(HostError::Trap { kind, .. }) => assert_eq!(kind, "memory"),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_eq!(host.counters().traps.load(Ordering::Relaxed), 1);
    // The set compiled before the trap lived in the replaced instance: it is compiled again.
    let e = host
        .evaluate(&small, &request("arn:aws:s3:::b/home/alice/x"), false)
        .unwrap();
    assert_eq!(e.decision, Decision::Allow);
}

#[test]
fn dropped_sets_are_released_in_the_guest() {
    let host = Host::new(HostConfig {
        instances: 1,
        ..HostConfig::default()
    })
    .unwrap();
    for _ in 0..2_000 {
        let set = host.compile(vec![identity(HOME)]).unwrap();
        drop(set);
    }
    let set = host.compile(vec![identity(HOME)]).unwrap();
    assert_eq!(
        host.evaluate(&set, &request("arn:aws:s3:::b/home/alice/x"), false)
            .unwrap()
            .decision,
        Decision::Allow
    );
}

#[test]
fn simulate_json_runs_cases() {
    let host = Host::new(HostConfig {
        instances: 1,
        ..HostConfig::default()
    })
    .unwrap();
    let out = host
        .simulate_json(r#"[{"id":"x","identity_policies":[{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}],"request":{"principal":"111122223333","action":"s3:GetObject","resource":"*"}}]"#)
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["decision"], "ExplicitDeny");
}
