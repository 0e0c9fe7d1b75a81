//! `iamlet simulate` and `iamlet test`.

use anyhow::Context as _;
use iamlet_engine::simulate::{parse_cases, run_case, Case};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct SimulateArgs {
    /// A JSON file holding an array of cases.
    #[arg(long)]
    cases: PathBuf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct TestArgs {
    /// JSON files of cases, each case with an `expected` decision.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print only failures and the summary.
    #[arg(long, short)]
    quiet: bool,
}

fn read_cases(path: &PathBuf) -> anyhow::Result<Vec<Case>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_cases(&text).with_context(|| format!("{}", path.display()))
}

pub(crate) fn run_simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let cases = read_cases(&args.cases)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for case in &cases {
        let result = run_case(case);
        serde_json::to_writer(&mut out, &result)?;
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn run_test(args: TestArgs) -> anyhow::Result<ExitCode> {
    let (mut passed, mut failed) = (0usize, 0usize);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for file in &args.files {
        let cases = read_cases(file)?;
        for case in &cases {
            let result = run_case(case);
            if result.passes(case) {
                passed += 1;
                if !args.quiet {
                    writeln!(out, "pass {}", case.id)?;
                }
                continue;
            }
            failed += 1;
            let expected = case
                .expected
                .map(|d| d.to_string())
                .unwrap_or_else(|| "(no expected decision)".into());
            match (&result.error, &result.explanation) {
                (Some(e), _) => writeln!(
                    out,
                    "FAIL {}: expected {expected}, got an error: {e}",
                    case.id
                )?,
                (None, Some(x)) => writeln!(
                    out,
                    "FAIL {}: expected {expected}, got {}: {}",
                    case.id, x.decision, x.summary
                )?,
                (None, None) => writeln!(out, "FAIL {}: expected {expected}", case.id)?,
            }
        }
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
