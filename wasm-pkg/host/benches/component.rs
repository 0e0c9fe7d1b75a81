//! Per-decision cost: the engine natively vs the same engine as a component under wasmtime, on the
//! typical principal of the engine benchmark (5 policies, 20 statements with conditions).
//!
//! Run with `cargo bench -p iamlet-wasm-host --bench component`.

#![allow(
    clippy::unwrap_used,
    reason = "benchmark set-up: a bad fixture should stop the run"
)]
use criterion::{criterion_group, criterion_main, Criterion};
use iamlet_engine::ffi::{compile_policy_set, compile_request, PolicyInput};
use iamlet_engine::simulate::CaseRequest;
use iamlet_engine::PolicyType;
use iamlet_wasm_host::{Host, HostConfig, PackedRequest};
use std::hint::black_box;

const SERVICES: &[&str] = &[
    "s3", "ec2", "dynamodb", "sqs", "sns", "lambda", "kms", "logs",
];

fn policy(n: usize, seed: usize) -> PolicyInput {
    let stmts: Vec<String> = (0..n)
        .map(|i| {
            let svc = SERVICES[(i + seed) % SERVICES.len()];
            let cond = if i % 2 == 0 {
                r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":["payments","search"]},"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#
            } else {
                ""
            };
            format!(r#"{{"Sid":"S{i}","Effect":"Allow","Action":["{svc}:Get*","{svc}:List*"],"Resource":"arn:aws:{svc}:*:111122223333:res{i}/*"{cond}}}"#)
        })
        .collect();
    PolicyInput {
        name: None,
        policy_type: PolicyType::Identity,
        document: serde_json::Value::String(format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            stmts.join(",")
        )),
        level: None,
    }
}

fn bench(c: &mut Criterion) {
    let inputs: Vec<PolicyInput> = (0..5).map(|p| policy(4, p)).collect();
    let request: CaseRequest = serde_json::from_value(serde_json::json!({
        "principal": "arn:aws:iam::111122223333:user/alice",
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:*:111122223333:res0/key",
        "context": {"aws:PrincipalTag/team": "search", "aws:SourceIp": "203.0.113.10"}
    }))
    .unwrap();

    let native = compile_policy_set(&inputs).unwrap();
    let native_req = compile_request(&request).unwrap();
    c.bench_function("decision/native", |b| {
        b.iter(|| native.decide(black_box(&native_req)))
    });
    // What the component does per call, natively: the request built from its parts, then decided.
    c.bench_function("decision/native-with-request", |b| {
        b.iter(|| {
            let req = compile_request(black_box(&request)).unwrap();
            native.decide(&req)
        })
    });

    let host = Host::new(HostConfig {
        instances: 1,
        ..HostConfig::default()
    })
    .unwrap();
    let wit_inputs: Vec<_> = inputs
        .iter()
        .map(|p| iamlet_wasm_host::policy_input(p).unwrap())
        .collect();
    let set = host.compile(wit_inputs).unwrap();
    let wit_req = iamlet_wasm_host::request(&request).unwrap();
    c.bench_function("decision/component", |b| {
        b.iter(|| host.evaluate(&set, black_box(&wit_req), false).unwrap())
    });
    // Like for like with `native-with-request`: from the request's strings to a decision.
    c.bench_function("decision/component-packed", |b| {
        b.iter(|| {
            let r = black_box(&request);
            let mut p = PackedRequest::new(&r.principal, &r.action, &r.resource);
            for (k, v) in &r.context {
                p.single(k, v.as_str().unwrap());
            }
            host.evaluate_packed(&set, &p).unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
