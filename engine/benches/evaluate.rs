//! Parse and evaluate: a typical principal (5 policies, ~20 statements with conditions), and policy
//! sets of 100 and 1,000 statements spread over many services, plus adversarial wildcards.
//!
//! Run with `cargo bench -p iamlet-engine --bench evaluate`.

#![allow(
    clippy::unwrap_used,
    reason = "benchmark set-up: a bad fixture should stop the run"
)]
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iamlet_engine::{ContextMap, Policy, PolicySet, PolicyType, Request};
use std::hint::black_box;

const SERVICES: &[&str] = &[
    "s3",
    "ec2",
    "dynamodb",
    "sqs",
    "sns",
    "lambda",
    "kms",
    "logs",
    "cloudwatch",
    "iam",
    "sts",
    "rds",
    "ecr",
    "ecs",
    "eks",
    "glue",
    "athena",
    "kinesis",
    "firehose",
    "secretsmanager",
];

/// A policy document of `n` statements over many services, with conditions on a third of them.
fn policy_text(n: usize, seed: usize) -> String {
    let mut stmts = Vec::with_capacity(n);
    for i in 0..n {
        let svc = SERVICES[(i + seed) % SERVICES.len()];
        let effect = if i % 17 == 16 { "Deny" } else { "Allow" };
        let cond = match i % 3 {
            0 => r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":["payments","search"]},"Bool":{"aws:SecureTransport":"true"}}"#.to_string(),
            1 => r#","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.0/24"]}}"#.to_string(),
            _ => String::new(),
        };
        stmts.push(format!(
            r#"{{"Sid":"S{i}","Effect":"{effect}","Action":["{svc}:Get*","{svc}:List*","{svc}:Describe{i}"],"Resource":["arn:aws:{svc}:*:111122223333:res{i}/*","arn:aws:{svc}:us-east-1:111122223333:other{i}"]{cond}}}"#
        ));
    }
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        stmts.join(",")
    )
}

fn set_of(statements: usize, policies: usize) -> PolicySet {
    let mut set = PolicySet::new();
    let per = statements / policies;
    for p in 0..policies {
        set.add(Policy::parse(&policy_text(per, p * 7), PolicyType::Identity).unwrap());
    }
    set
}

fn request(action: &str, resource: &str) -> Request {
    let mut ctx = ContextMap::new();
    ctx.insert("aws:PrincipalTag/team", "search");
    ctx.insert("aws:SecureTransport", "true");
    ctx.insert("aws:SourceIp", "203.0.113.10");
    Request::new("arn:aws:iam::111122223333:user/alice", action, resource)
        .unwrap()
        .with_context(ctx)
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for n in [20usize, 100, 1000] {
        let text = policy_text(n, 0);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, t| {
            b.iter(|| Policy::parse(black_box(t), PolicyType::Identity).unwrap())
        });
    }
    g.finish();
}

fn evaluate(c: &mut Criterion) {
    let mut g = c.benchmark_group("evaluate");
    for (name, statements, policies) in
        [("typical-20x5", 20, 5), ("100", 100, 5), ("1000", 1000, 10)]
    {
        let set = set_of(statements, policies);
        let allow = request("s3:GetObject", "arn:aws:s3:*:111122223333:res0/key");
        let deny = request("s3:PutObject", "arn:aws:s3:::elsewhere/key");
        g.bench_function(BenchmarkId::new("allow", name), |b| {
            b.iter(|| set.evaluate(black_box(&allow)))
        });
        g.bench_function(BenchmarkId::new("implicit-deny", name), |b| {
            b.iter(|| set.evaluate(black_box(&deny)))
        });
    }
    let set = set_of(20, 5);
    let allow = request("s3:GetObject", "arn:aws:s3:*:111122223333:res0/key");
    g.bench_function("explain/typical-20x5", |b| {
        b.iter(|| set.explain(black_box(&allow)))
    });
    g.finish();
}

fn adversarial(c: &mut Criterion) {
    let pat = format!("arn:aws:s3:::{}b", "a*".repeat(200));
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"{pat}"}}]}}"#
    );
    let mut set = PolicySet::new();
    set.add(Policy::parse(&text, PolicyType::Identity).unwrap());
    let resource = format!("arn:aws:s3:::{}", "a".repeat(10_000));
    let req = request("s3:GetObject", &resource);
    c.bench_function("adversarial-wildcards/a*x200-vs-10k", |b| {
        b.iter(|| set.evaluate(black_box(&req)))
    });
}

criterion_group!(benches, parse, evaluate, adversarial);
criterion_main!(benches);
