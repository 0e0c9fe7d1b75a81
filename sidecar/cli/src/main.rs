//! `iamlet`: evaluate, simulate, lint, diff and test IAM policies; report on what was used; manage
//! credentials; run the sidecar. Argument parsing and printing: each command reads its files and
//! calls the library that does the work (the engine, `iamlet-store`, `iamlet-auth`,
//! `iamlet-reports`, `iamlet-server`).

#![forbid(unsafe_code)]

mod account;
mod check;
mod diff;
mod escalation;
mod eval;
mod iam;
mod keys;
mod lint;
mod mfa;
mod password;
mod principals;
mod report;
mod serve;
mod simulate;
mod sts;

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
    /// List the principals of an account export and what applies to each.
    Principals(principals::PrincipalsArgs),
    /// Manage IAM users' access keys in a credentials file.
    Keys(keys::KeysArgs),
    /// Manage IAM users' virtual MFA devices (TOTP) in a credentials file.
    Mfa(mfa::MfaArgs),
    /// The IAM database: create an account, import an export, export it.
    Iam(iam::IamArgs),
    /// STS: rotate the key session tokens are sealed with.
    Sts(sts::StsArgs),
    /// Check policy files: errors, security warnings and suggestions, each with its JSON path and a
    /// fix; exit 1 if any error.
    Lint(lint::LintArgs),
    /// Compare two versions of a policy: what the new one newly allows and no longer allows, each
    /// with the statement responsible; exit 1 if it grants new access.
    Diff(diff::DiffArgs),
    /// Reports: access advisor (used against granted, per principal and service) and AWS's
    /// credential report.
    Report(report::ReportArgs),
    /// IAM Access Analyzer's custom policy checks (CheckAccessNotGranted, CheckNoPublicAccess,
    /// CheckNoNewAccess), offline: PASS/FAIL and AWS's response JSON, exit 1 on FAIL.
    Check(check::CheckArgs),
    /// Check a password against the account password policy (or AWS's default one).
    Password(password::PasswordArgs),
    /// List the actions of the catalog that action patterns match, with their access levels.
    Actions(lint::ActionsArgs),
    /// Run the Envoy ext_authz sidecar (gRPC and HTTP modes, admin server).
    Serve(serve::ServeArgs),
    /// Check a sidecar configuration and its route map; exit 64 if unusable.
    CheckConfig(serve::CheckConfigArgs),
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// For people.
    Text,
    /// One JSON document.
    Json,
}

/// Writes to stdout; a reader that went away (`iamlet eval … | head`) is not an error.
/// The first `max` items joined by commas, then how many more there are (`a, b and 3 more`).
pub(crate) fn first_of<S: AsRef<str>>(items: &[S], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(AsRef::as_ref).collect();
    match items.len().saturating_sub(max) {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

pub(crate) fn write_stdout(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

// The sidecar's check path allocates many small, short-lived objects on two runtime threads;
// mimalloc's thread-local free lists serve them with far less work than glibc's malloc (measured in
// BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Parses the command line, runs the command, and returns the process exit code.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval(a) => eval::run(*a),
        Command::Simulate(a) => simulate::run_simulate(a),
        Command::Test(a) => simulate::run_test(a),
        Command::Principals(a) => principals::run(a),
        Command::Keys(a) => keys::run(a),
        Command::Mfa(a) => mfa::run(a),
        Command::Iam(a) => iam::run(a),
        Command::Sts(a) => sts::run(a),
        Command::Lint(a) => lint::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Report(a) => report::run(a),
        Command::Check(a) => check::run(a),
        Command::Password(a) => password::run(a),
        Command::Actions(a) => lint::run_actions(a),
        Command::Serve(a) => serve::run_serve(a),
        Command::CheckConfig(a) => serve::run_check(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    /// clap checks a command line's definition only when a command is run (argument and group ids
    /// unique, defaults valid): check every command's at once.
    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
