//! The sidecar's own work per check, in process and without the network: `Authorizer::check` as
//! `iamlet serve` builds it from the example configuration (`sidecar/examples/iamlet.toml`), over an
//! account of 1,000 users shaped like alice (as `bench/sidecar/accounts.py` writes it for
//! `bench/sidecar/run`), the decision cache on and the decision log written to a file. Each check is
//! the load generator's: one of the 1,000 principals reading its own home folder, described as
//! Envoy describes it (peer address, method, scheme, host, path, six headers).
//!
//! `hit`: every decision is in the decision cache (the closed loop of `bench/sidecar/run --only
//! hits`); `miss`: the cache is off, every check prepares its request and runs the engine. The
//! engine is the native one: a hit never reaches it, so the two engines' hits cost the same.
//!
//! Measured in CPU time of the whole process, not wall time: work the check hands to another
//! thread (the decision log's writer) is counted, as it is on the sidecar's two cores, where
//! every thread's CPU is a check fewer per second.
//!
//! `cargo bench -p iamlet-server --bench check`; compare two commits with criterion's
//! `--save-baseline before` and `--baseline before`. This is the part of `bench/sidecar/run`'s
//! figures the sidecar's own code decides, measured without the gRPC stack and the load
//! generator's noise beside it.

#![allow(
    clippy::expect_used,
    reason = "benchmark set-up: a bad fixture should stop the run"
)]

mod fixture;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion};
use fixture::{Fixture, USERS};
use std::hint::black_box;
use std::time::Duration;

/// As the `iamlet` binary allocates.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU time of the process, every thread's.
struct ProcessCpu(WallTime);

fn cpu_now() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

impl Measurement for ProcessCpu {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        cpu_now()
    }
    fn end(&self, started: Duration) -> Duration {
        cpu_now().saturating_sub(started)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}

fn check(c: &mut Criterion<ProcessCpu>) {
    let fixture = Fixture::new("check");
    let mut group = c.benchmark_group("check");
    for (name, decisions) in [("hit", true), ("miss", false)] {
        let authz = fixture.warmed(decisions);
        let mut n = 0;
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    n = (n + 1) % USERS;
                    fixture.inputs[n].clone()
                },
                |i| black_box(fixture.rt.block_on(authz.check(i))),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ProcessCpu(WallTime));
    targets = check
}
criterion_main!(benches);
