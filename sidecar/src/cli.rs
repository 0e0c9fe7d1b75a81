//! The command line: argument parsing and the commands that read files and print results. The
//! decisions themselves are the engine's.

mod eval;
mod simulate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// AWS IAM policy evaluation, exact to AWS's semantics, with an explanation of every decision.
#[derive(Debug, Parser)]
#[command(name = "iamlet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate one request against policy files and explain the decision.
    Eval(Box<eval::EvalArgs>),
    /// Evaluate a JSON array of cases; print one JSON line per case.
    Simulate(simulate::SimulateArgs),
    /// Run cases that carry an `expected` decision; exit non-zero if any fails.
    Test(simulate::TestArgs),
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// For people.
    Text,
    /// One JSON document.
    Json,
}

/// Parses the command line, runs the command, and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval(a) => eval::run(*a),
        Command::Simulate(a) => simulate::run_simulate(a),
        Command::Test(a) => simulate::run_test(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
