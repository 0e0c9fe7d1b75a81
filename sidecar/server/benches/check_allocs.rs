//! Heap allocations per check, in process: `Authorizer::check` on the same configuration, account
//! and checks as `benches/check.rs` (`hit`: every decision in the decision cache; `miss`: the cache
//! off). Counted by dhat's allocator, not timed: the figure is exact and the same on every machine,
//! and each allocation is memory a loaded sidecar's two cores pass around (mimalloc's allocation
//! and free were 7–9% of its CPU under the closed loop, BENCHMARKS.md).
//!
//! `cargo bench -p iamlet-server --bench check_allocs [-- hit|miss]`; with `DHAT_PROFILE=FILE`, dhat's
//! profile of the checks is written there too, each allocation site with its backtrace (open it in
//! dhat's viewer, `dh_view.html`).

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
    // A name given after `--` picks the mode (as criterion's filter does).
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let fixture = Fixture::new("check-allocs");
    let modes: Vec<_> = [("hit", true), ("miss", false)]
        .into_iter()
        .filter(|(name, _)| name.contains(filter.as_str()))
        .map(|(name, cached)| (name, fixture.warmed(cached)))
        .collect();
    // Started once the fixture is built: only what follows is counted (and has its backtrace
    // taken). Testing mode unless a profile is asked for: the figures are read here.
    let _profiler = match std::env::var_os("DHAT_PROFILE") {
        Some(file) => dhat::Profiler::builder()
            .file_name(file)
            .trim_backtraces(Some(32))
            .build(),
        None => dhat::Profiler::builder().testing().build(),
    };
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
