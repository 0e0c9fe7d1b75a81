//! Iamlet against Cedar on the same decisions: the document-store scenario of `iamlet_bench` (RBAC by
//! group, ABAC by tags, explicit-deny guardrails; 19 IAM statements for the typical user, 21 Cedar
//! policies), each timed request decided by both engines in the same binary.
//!
//! Two ways per engine and request, the same on both sides:
//!
//! - `decide`: the request is built once outside the loop; each iteration only decides it
//!   (Iamlet: `PolicySet::decide`, which also names the deciding statements; Cedar:
//!   `Authorizer::is_authorized`, which also names the deciding policies).
//! - `build+decide`: each iteration builds the request from strings in hand, then decides it
//!   (Iamlet: parses the principal and resource ARNs and fills a context with the principal's and
//!   the object's tags, MFA and transport; Cedar: builds the three entity ids and a context with MFA
//!   and transport; the tags are attributes of the pre-built entity store).
//!
//! Policies (both), the authorizer and the entity store (Cedar) are built once. `tests/agree.rs`
//! checks that both engines reach the same decision on every request.
//!
//! Run with `cargo bench -p iamlet-bench --bench cedar`.

#![allow(
    clippy::unwrap_used,
    reason = "benchmark set-up: a bad fixture should stop the run"
)]

#[path = "../tests/common/cedar.rs"]
mod cedar;

use cedar::{outcome, resource_id, Cedar};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use iamlet_bench::{iam_policy_set, iam_request, IamArns, CASES};
use std::hint::black_box;

fn peers(c: &mut Criterion) {
    let cedar = Cedar::new().unwrap();
    let mut g = c.benchmark_group("cedar-peer");
    for case in CASES.iter().filter(|c| c.timed) {
        let set = iam_policy_set(&case.user).unwrap();
        let arns = IamArns::of(case);
        let iam_req = iam_request(case, &arns).unwrap();
        let rid = resource_id(case);
        let cedar_req = cedar.request(case, &rid).unwrap();
        // The agreement test's check, repeated so that a run never times two different answers.
        let iam_decision = set.decide(&iam_req).decision;
        assert_eq!(iam_decision, case.expected, "{}", case.name);
        assert_eq!(
            outcome(&cedar.decide(&cedar_req)).0,
            iam_decision,
            "{}",
            case.name
        );

        g.bench_function(BenchmarkId::new("decide/iamlet", case.name), |b| {
            b.iter(|| set.decide(black_box(&iam_req)))
        });
        g.bench_function(BenchmarkId::new("decide/cedar", case.name), |b| {
            b.iter(|| cedar.decide(black_box(&cedar_req)))
        });
        g.bench_function(BenchmarkId::new("build+decide/iamlet", case.name), |b| {
            b.iter(|| set.decide(&iam_request(black_box(case), black_box(&arns)).unwrap()))
        });
        g.bench_function(BenchmarkId::new("build+decide/cedar", case.name), |b| {
            b.iter(|| cedar.decide(&cedar.request(black_box(case), black_box(&rid)).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, peers);
criterion_main!(benches);
