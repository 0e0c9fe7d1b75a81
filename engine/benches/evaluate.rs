//! Parse and evaluate: a typical principal (5 policies, ~20 statements with conditions), and policy
//! sets of 100 and 1,000 statements spread over many services, plus adversarial wildcards; and how
//! decision time scales with the statements per principal (10 to 10,000, over 60 services).
//!
//! Run with `cargo bench -p iamlet-engine --bench evaluate`.

#![allow(
    clippy::unwrap_used,
    reason = "benchmark set-up: a bad fixture should stop the run"
)]
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use iamlet_engine::{ContextMap, Decision, Policy, PolicySet, PolicyType, Request};
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

/// Service prefixes for the scaling series: the 20 above and 40 more.
const MORE_SERVICES: &[&str] = &[
    "apigateway",
    "appsync",
    "autoscaling",
    "backup",
    "batch",
    "cloudformation",
    "cloudfront",
    "cloudtrail",
    "codebuild",
    "codecommit",
    "codepipeline",
    "cognito-idp",
    "config",
    "datasync",
    "dax",
    "ds",
    "elasticache",
    "elasticfilesystem",
    "elasticloadbalancing",
    "emr",
    "es",
    "events",
    "fsx",
    "guardduty",
    "kafka",
    "lakeformation",
    "mq",
    "organizations",
    "quicksight",
    "redshift",
    "route53",
    "sagemaker",
    "ses",
    "ssm",
    "states",
    "storagegateway",
    "synthetics",
    "transfer",
    "waf",
    "xray",
];

/// One policy of the scaling series: `n` statements, service by service. Each allows reads
/// (`Get*`, `List*`, one named action) on two ARNs of its service; a third carry a tag and transport
/// condition, a third an `IpAddress` condition; one in 17 denies `Delete*` instead. The first
/// statement is a `Deny` with `NotAction` and a `BoolIfExists` MFA condition, as many accounts
/// attach: the index has to consider it for every action.
fn scale_policy_text(n: usize, seed: usize) -> String {
    let services: Vec<&str> = SERVICES.iter().chain(MORE_SERVICES).copied().collect();
    let mut stmts = vec![r#"{"Sid":"DenyWithoutMfa","Effect":"Deny","NotAction":["iam:ChangePassword","iam:GetUser","sts:GetSessionToken"],"Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}"#.to_string()];
    for i in 1..n {
        let svc = services[(i - 1 + seed) % services.len()];
        let cond = match i % 3 {
            0 => {
                r#","Condition":{"StringEquals":{"aws:PrincipalTag/team":["payments","search"]},"Bool":{"aws:SecureTransport":"true"}}"#
            }
            1 => {
                r#","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","198.51.100.0/24"]}}"#
            }
            _ => "",
        };
        let (effect, actions) = if i % 17 == 16 {
            ("Deny", format!(r#""{svc}:Delete*""#))
        } else {
            (
                "Allow",
                format!(r#""{svc}:Get*","{svc}:List*","{svc}:Describe{i}""#),
            )
        };
        let resources = if svc == "s3" {
            format!(r#""arn:aws:s3:::bucket-{seed}-{i}/*","arn:aws:s3:::bucket-{seed}-{i}""#)
        } else {
            format!(
                r#""arn:aws:{svc}:*:111122223333:res{i}/*","arn:aws:{svc}:us-east-1:111122223333:other{i}""#
            )
        };
        stmts.push(format!(
            r#"{{"Sid":"S{i}","Effect":"{effect}","Action":[{actions}],"Resource":[{resources}]{cond}}}"#
        ));
    }
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        stmts.join(",")
    )
}

fn scale(c: &mut Criterion) {
    let mut g = c.benchmark_group("scale");
    for n in [10usize, 100, 1_000, 10_000] {
        // Up to 20 policies, as a principal's own and its groups' policies would hold them (and
        // each under the 256 KiB a policy may have).
        let policies = (n / 10).clamp(1, 20);
        let mut set = PolicySet::new();
        for p in 0..policies {
            let text = scale_policy_text(n / policies, p);
            set.add(Policy::parse(&text, PolicyType::Identity).unwrap());
        }
        assert_eq!(set.statement_count(), n);
        // The first policy's first s3 statement (an `IpAddress` condition) allows.
        let mut req = request("s3:GetObject", "arn:aws:s3:::bucket-0-1/reports/q1.csv");
        let mut ctx = req.context().clone();
        ctx.insert("aws:MultiFactorAuthPresent", "true");
        req = req.with_context(ctx);
        assert_eq!(set.evaluate(&req), Decision::Allow);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("statements", n), &req, |b, r| {
            b.iter(|| set.evaluate(black_box(r)))
        });
    }
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

criterion_group!(benches, parse, evaluate, scale, adversarial);
criterion_main!(benches);
