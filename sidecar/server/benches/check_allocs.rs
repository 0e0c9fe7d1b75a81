//! Heap allocations per check, in process: `Authorizer::check` on the same configuration, account
//! and checks as `benches/check.rs` (`hit`: every decision in the decision cache; `miss`: the cache
//! off). Counted by dhat's allocator, not timed: the figure is exact and the same on every machine,
//! and each allocation is memory a loaded sidecar's two cores pass around (mimalloc's allocation
//! and free were 7–9% of its CPU under the closed loop, BENCHMARKS.md).
//!
//! `cargo bench -p iamlet-server --bench check_allocs`

#![allow(
    clippy::expect_used,
    reason = "benchmark set-up: a bad fixture should stop the run"
)]

mod fixture;

use fixture::{Fixture, USERS};
use std::hint::black_box;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() {
    // `cargo test --benches` runs this too (without `--bench`): a few checks then, unoptimized.
    let checks = if std::env::args().any(|a| a == "--bench") {
        USERS
    } else {
        20
    };
    let fixture = Fixture::new("check-allocs");
    let modes = [
        ("hit", fixture.warmed(true)),
        ("miss", fixture.warmed(false)),
    ];
    // Started once the fixture is built: only what follows is counted (and has its backtrace
    // taken). Testing mode: the figures are read here, and no profile file is written.
    let _profiler = dhat::Profiler::builder().testing().build();
    for (name, authz) in &modes {
        // Cloned beforehand: the request as a front end hands it over is not the check's doing.
        let inputs: Vec<_> = fixture.inputs.iter().take(checks).cloned().collect();
        let before = dhat::HeapStats::get();
        for i in inputs {
            black_box(fixture.rt.block_on(authz.check(i)));
        }
        let after = dhat::HeapStats::get();
        let n = checks as f64;
        println!(
            "check/{name}: {:.1} allocations, {:.0} bytes allocated per check ({checks} checks)",
            (after.total_blocks - before.total_blocks) as f64 / n,
            (after.total_bytes - before.total_bytes) as f64 / n,
        );
    }
}
