//! `iamlet`: evaluate, simulate and test IAM policies from the command line.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}
