//! `iamlet`: evaluate, simulate and test IAM policies from the command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    iamlet::cli::run()
}
