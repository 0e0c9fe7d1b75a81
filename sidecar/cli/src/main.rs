//! `iamlet`: evaluate, simulate and test IAM policies from the command line.

use std::process::ExitCode;

// The sidecar's check path allocates many small, short-lived objects on two runtime threads;
// mimalloc's thread-local free lists serve them with far less work than glibc's malloc (measured in
// BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    iamlet::cli::run()
}
