//! `iamlet-loadgen`: drives an Envoy ext_authz gRPC server (`Authorization/Check`) the way Envoy
//! does, for a bounded time, and reports checks per second and latency percentiles.
//!
//! Two shapes of load:
//! - closed loop (`--concurrency C`, no `--rate`): C callers each send a check as soon as the last
//!   one is answered — the most the server (and this client, on the same machine) can do;
//! - open loop (`--rate R`): checks are sent on a fixed schedule whether or not earlier ones were
//!   answered, and each latency is measured from the time it was *due*, so a stall counts against
//!   every check it delayed (no coordinated omission).
//!
//! Principals and paths are formats in which `{n}` is replaced by a principal's index (0 to
//! `--principals`−1, taken round-robin), so one run can cycle through many principals.

use anyhow::Context as _;
use clap::Parser;
use envoy_types::pb::envoy::config::core::v3::address::Address;
use envoy_types::pb::envoy::config::core::v3::{Address as CoreAddress, SocketAddress};
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{
    HttpRequest, Peer, Request as AttrRequest,
};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, CheckRequest};
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};

// On the same cores as the sidecar, every cycle the generator spends is one the sidecar lacks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "iamlet-loadgen", about)]
struct Args {
    /// The ext_authz gRPC address.
    #[arg(long, default_value = "http://127.0.0.1:9191")]
    target: String,
    /// How long to measure, in seconds (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Warm-up before measuring, in seconds (same load, not recorded).
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Open loop: checks per second on a fixed schedule. Without it: closed loop.
    #[arg(long)]
    rate: Option<f64>,
    /// Closed loop: callers, each with one check in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// HTTP/2 connections the checks are spread over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Open loop: at most this many checks in flight; a due check beyond it is counted as not sent.
    #[arg(long, default_value_t = 20_000)]
    max_in_flight: u64,
    /// The principal ARN format (`{n}`: the principal's index).
    #[arg(long, default_value = "arn:aws:iam::111122223333:user/alice")]
    principal: String,
    /// How many principals `{n}` runs through.
    #[arg(long, default_value_t = 1)]
    principals: u64,
    /// The header carrying the principal (the sidecar's `trusted_header`).
    #[arg(long, default_value = "x-iamlet-principal")]
    principal_header: String,
    /// The request's method.
    #[arg(long, default_value = "GET")]
    method: String,
    /// The request's path format (`{n}` as in `--principal`).
    #[arg(
        long,
        default_value = "/buckets/amzn-s3-demo-bucket/objects/home/alice/notes.txt"
    )]
    path: String,
    /// The request's host.
    #[arg(long, default_value = "storage.example.com")]
    host: String,
    /// Of every 100 checks, how many are new to a decision cache: in those `{u}` in `--path`
    /// becomes `-` and the check's number (another object), in the others nothing.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=100))]
    fresh_percent: u64,
    /// Go through every principal exactly once in order, then stop (fills a cache).
    #[arg(long)]
    once: bool,
    /// Print the summary as one JSON object too.
    #[arg(long)]
    json: bool,
}

/// Outcome counters shared by the callers.
#[derive(Debug, Default)]
struct Counts {
    allowed: AtomicU64,
    denied: AtomicU64,
    errors: AtomicU64,
    not_sent: AtomicU64,
}

/// Builds the `i`-th check, by principal `n`, as Envoy would describe it.
fn request(args: &Args, i: u64, n: u64) -> CheckRequest {
    let idx = n.to_string();
    let principal = args.principal.replace("{n}", &idx);
    // Spread the fresh checks over the run (a multiplicative hash of the check's number).
    let fresh = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % 100 < args.fresh_percent;
    let unique = if fresh {
        format!("-{i}")
    } else {
        String::new()
    };
    let path = args.path.replace("{n}", &idx).replace("{u}", &unique);
    let headers = [
        (":method", args.method.as_str()),
        (":path", path.as_str()),
        (":authority", args.host.as_str()),
        (":scheme", "https"),
        ("user-agent", "iamlet-loadgen"),
        (args.principal_header.as_str(), principal.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    CheckRequest {
        attributes: Some(AttributeContext {
            source: Some(Peer {
                address: Some(CoreAddress {
                    address: Some(Address::SocketAddress(SocketAddress {
                        address: "10.1.2.3".into(),
                        ..SocketAddress::default()
                    })),
                }),
                ..Peer::default()
            }),
            request: Some(AttrRequest {
                http: Some(HttpRequest {
                    method: args.method.clone(),
                    host: args.host.clone(),
                    path,
                    scheme: "https".into(),
                    protocol: "HTTP/1.1".into(),
                    headers,
                    ..HttpRequest::default()
                }),
                ..AttrRequest::default()
            }),
            ..AttributeContext::default()
        }),
    }
}

async fn check(client: &mut AuthorizationClient<Channel>, req: CheckRequest, counts: &Counts) {
    match client.check(req).await {
        Ok(resp) => {
            let ok = resp.get_ref().status.as_ref().is_some_and(|s| s.code == 0);
            let c = if ok { &counts.allowed } else { &counts.denied };
            c.fetch_add(1, Ordering::Relaxed);
        }
        Err(_) => {
            counts.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn histogram() -> anyhow::Result<Histogram<u64>> {
    // 1 µs to 60 s, 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).context("histogram bounds")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// Closed loop: `concurrency` callers until `end`; latencies recorded after `record_from`.
async fn closed_loop(
    args: Arc<Args>,
    channels: Vec<Channel>,
    counts: Arc<Counts>,
    record_from: Instant,
    end: Instant,
) -> anyhow::Result<Histogram<u64>> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..args.concurrency {
        let mut client = AuthorizationClient::new(channels[w % channels.len()].clone());
        let (args, counts, next) = (args.clone(), counts.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = histogram()?;
            let principals = args.principals.max(1);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if args.once && i >= principals {
                    break;
                }
                let started = Instant::now();
                if started >= end && !args.once {
                    break;
                }
                let req = request(&args, i, i % principals);
                if started < record_from {
                    check(&mut client, req, &Counts::default()).await;
                    continue;
                }
                check(&mut client, req, &counts).await;
                h.record(micros(started.elapsed()))?;
            }
            anyhow::Ok(h)
        }));
    }
    let mut all = histogram()?;
    for t in tasks {
        all.add(t.await.context("a caller panicked")??)?;
    }
    Ok(all)
}

/// Sends each check's index and due time on a fixed schedule from a thread of its own: tokio's timer
/// wakes on whole milliseconds, which at 5,000/s would send checks in bursts of five and charge up
/// to a millisecond of the generator's own lateness to the server. `std::thread::sleep` wakes within
/// the kernel's timer slack (about 50 µs).
fn pace(
    start: Instant,
    period: Duration,
    end: Instant,
) -> tokio::sync::mpsc::UnboundedReceiver<(u64, Instant)> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for i in 0u64.. {
            let due = start + period.mul_f64(i as f64);
            if due >= end {
                break;
            }
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if tx.send((i, due)).is_err() {
                break;
            }
        }
    });
    rx
}

/// Open loop at `rate` checks/s until `end`; each latency counted from when its check was due.
async fn open_loop(
    args: Arc<Args>,
    rate: f64,
    channels: Vec<Channel>,
    counts: Arc<Counts>,
    record_from: Instant,
    end: Instant,
) -> anyhow::Result<Histogram<u64>> {
    let hist = Arc::new(Mutex::new(histogram()?));
    let in_flight = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let period = Duration::from_secs_f64(1.0 / rate);
    let principals = args.principals.max(1);
    let mut tasks = tokio::task::JoinSet::new();
    let mut schedule = pace(start, period, end);
    while let Some((i, due)) = schedule.recv().await {
        if in_flight.load(Ordering::Relaxed) >= args.max_in_flight {
            counts.not_sent.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let mut client = AuthorizationClient::new(channels[(i as usize) % channels.len()].clone());
        let req = request(&args, i, i % principals);
        let (counts, hist, in_flight) = (counts.clone(), hist.clone(), in_flight.clone());
        tasks.spawn(async move {
            let recorded = due >= record_from;
            let sink = Counts::default();
            check(&mut client, req, if recorded { &counts } else { &sink }).await;
            if recorded {
                let mut h = hist.lock().unwrap_or_else(PoisonError::into_inner);
                // Saturates at the histogram's bound rather than failing the run.
                h.saturating_record(micros(due.elapsed()));
            }
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
        // Reap finished tasks as we go so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let h = hist.lock().unwrap_or_else(PoisonError::into_inner).clone();
    Ok(h)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    let mut channels = Vec::new();
    for _ in 0..args.connections.max(1) {
        // One HTTP/2 connection per channel.
        let ch = Endpoint::from_shared(args.target.clone())
            .context("the --target address")?
            .tcp_nodelay(true)
            .connect()
            .await
            .with_context(|| format!("connecting to {}", args.target))?;
        channels.push(ch);
    }
    let counts = Arc::new(Counts::default());
    let warmup = if args.once {
        Duration::ZERO
    } else {
        Duration::from_secs_f64(args.warmup)
    };
    let begin = Instant::now();
    let record_from = begin + warmup;
    let end = record_from + Duration::from_secs_f64(args.seconds);
    let hist = match args.rate {
        Some(rate) if rate > 0.0 => {
            open_loop(
                args.clone(),
                rate,
                channels,
                counts.clone(),
                record_from,
                end,
            )
            .await?
        }
        Some(rate) => anyhow::bail!("--rate must be positive, not {rate}"),
        None => closed_loop(args.clone(), channels, counts.clone(), record_from, end).await?,
    };
    let measured = Instant::now().saturating_duration_since(record_from);
    let done = hist.len();
    let secs = measured.as_secs_f64().max(1e-9);
    let q = |p: f64| hist.value_at_quantile(p);
    let shape = match args.rate {
        Some(r) => format!("open loop at {r}/s"),
        None => format!("closed loop, {} callers", args.concurrency),
    };
    println!(
        "{shape} over {} connections, {} principals, {:.1} s: {done} checks, {:.0} checks/s\n\
         allowed {} denied {} errors {} not sent {}\n\
         latency µs: p50 {} p90 {} p99 {} p99.9 {} max {}",
        args.connections,
        args.principals,
        secs,
        done as f64 / secs,
        counts.allowed.load(Ordering::Relaxed),
        counts.denied.load(Ordering::Relaxed),
        counts.errors.load(Ordering::Relaxed),
        counts.not_sent.load(Ordering::Relaxed),
        q(0.5),
        q(0.9),
        q(0.99),
        q(0.999),
        hist.max(),
    );
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "shape": shape,
                "rate": args.rate,
                "concurrency": args.concurrency,
                "connections": args.connections,
                "principals": args.principals,
                "seconds": secs,
                "checks": done,
                "checksPerSecond": done as f64 / secs,
                "allowed": counts.allowed.load(Ordering::Relaxed),
                "denied": counts.denied.load(Ordering::Relaxed),
                "errors": counts.errors.load(Ordering::Relaxed),
                "notSent": counts.not_sent.load(Ordering::Relaxed),
                "p50us": q(0.5),
                "p90us": q(0.9),
                "p99us": q(0.99),
                "p999us": q(0.999),
                "maxUs": hist.max(),
            })
        );
    }
    Ok(())
}
