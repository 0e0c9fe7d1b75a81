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

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion};
use iamlet_authz::{Authorizer, CheckInput};
use iamlet_server::config::{Config, EngineKind};
use iamlet_server::start::Sidecar;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// As the `iamlet` binary allocates.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USERS: usize = 1000;

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

/// The example account with `USERS` users shaped like alice, as `bench/sidecar/accounts.py` writes
/// it.
fn account(root: &Path, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root.join("examples/account.json")).expect("account.json");
    let mut export: serde_json::Value = serde_json::from_str(&text).expect("account.json is JSON");
    let users = export["UserDetailList"]
        .as_array_mut()
        .expect("UserDetailList");
    let alice = users
        .iter()
        .find(|u| u["UserName"] == "alice")
        .expect("alice")
        .clone();
    for n in 0..USERS {
        let mut u = alice.clone();
        u["UserName"] = format!("user{n}").into();
        u["UserId"] = format!("AIDA{n:016}").into();
        u["Arn"] = format!("arn:aws:iam::111122223333:user/user{n}").into();
        u["Tags"] = serde_json::json!([
            {"Key": "team", "Value": format!("team{}", n % 50)},
            {"Key": "cost-center", "Value": format!("cc-{}", n % 997)},
        ]);
        users.push(u);
    }
    let path = dir.join("account.json");
    std::fs::write(&path, export.to_string()).expect("writing the account");
    path
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example configuration with the account at `accounts`, the decision log in `dir`, and the
/// decision cache on or off.
fn authorizer(
    rt: &tokio::runtime::Runtime,
    accounts: &Path,
    dir: &Path,
    decisions: bool,
) -> Arc<Authorizer> {
    let config_path = root().join("sidecar/examples/iamlet.toml");
    let log = dir.join(format!("decisions-{decisions}.jsonl"));
    let mut text = std::fs::read_to_string(&config_path).expect("the example configuration");
    for (from, to) in [
        (
            "accounts = \"../../examples/account.json\"",
            format!("accounts = {:?}", accounts.display().to_string()),
        ),
        (
            "path = \"-\" ",
            format!("path = {:?} ", log.display().to_string()),
        ),
        ("decisions = true", format!("decisions = {decisions}")),
    ] {
        assert!(
            text.contains(from),
            "the example configuration has no `{from}`"
        );
        text = text.replacen(from, &to, 1);
    }
    let checked = Config::parse(&text, &config_path).expect("the configuration");
    rt.block_on(Sidecar::build(checked, Some(EngineKind::Native)))
        .expect("building the sidecar")
        .authz
}

/// The load generator's `n`-th principal's check.
fn input(n: usize) -> CheckInput {
    let principal = format!("arn:aws:iam::111122223333:user/user{n}");
    let path = format!("/buckets/amzn-s3-demo-bucket/objects/home/user{n}/notes.txt");
    let headers = [
        (":method", "GET"),
        (":path", path.as_str()),
        (":authority", "storage.example.com"),
        (":scheme", "https"),
        ("user-agent", "iamlet-loadgen"),
        ("x-iamlet-principal", principal.as_str()),
    ];
    CheckInput {
        protocol: "grpc",
        source_address: Some("10.1.2.3".into()),
        method: "GET".into(),
        scheme: "https".into(),
        host: "storage.example.com".into(),
        path: path.clone(),
        headers: headers
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ..CheckInput::default()
    }
}

fn check(c: &mut Criterion<ProcessCpu>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = std::env::temp_dir().join(format!("iamlet-bench-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let accounts = account(&root(), &dir);
    let inputs: Vec<CheckInput> = (0..USERS).map(input).collect();
    let mut group = c.benchmark_group("check");
    for (name, decisions) in [("hit", true), ("miss", false)] {
        let authz = authorizer(&rt, &accounts, &dir, decisions);
        // Every principal loaded and, with the cache on, every decision stored.
        for i in &inputs {
            let out = rt.block_on(authz.check(i.clone()));
            assert!(out.allowed, "{}", out.body);
        }
        let mut n = 0;
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    n = (n + 1) % USERS;
                    inputs[n].clone()
                },
                |i| black_box(rt.block_on(authz.check(i))),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ProcessCpu(WallTime));
    targets = check
}
criterion_main!(benches);
