//! `iamlet lint`: policy validation findings for policy files, and `iamlet actions`: the catalog's
//! expansion of action patterns.

use super::{write_stdout, Format};
use anyhow::Context as _;
use iamlet_engine::catalog::Catalog;
use iamlet_engine::lint::{lint, Finding, Severity};
use iamlet_engine::PolicyType;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

/// `--type`: a policy type by the engine's names (`identity`, `resource`, `trust`, `boundary`, `scp`,
/// `rcp`, `session`), offered as clap's possible values.
pub(crate) fn policy_type_parser() -> impl clap::builder::TypedValueParser<Value = PolicyType> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(PolicyType::ALL.map(PolicyType::as_str))
        .try_map(|s| s.parse::<PolicyType>())
}

#[derive(Debug, clap::Args)]
pub(crate) struct LintArgs {
    /// Policy documents (JSON files).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// What kind of policy the files are.
    #[arg(long = "type", default_value = "identity", value_parser = policy_type_parser())]
    policy_type: PolicyType,
    /// Output format: one line per finding, or one JSON array of `{file, findings}`.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Serialize)]
struct FileFindings<'a> {
    file: String,
    findings: &'a [Finding],
}

/// Exit status 1 when any file has an error finding, 0 otherwise (warnings and suggestions do not
/// fail the command).
pub(crate) fn run(args: LintArgs) -> anyhow::Result<ExitCode> {
    let mut results = Vec::with_capacity(args.files.len());
    for file in &args.files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        results.push((file.display().to_string(), lint(&text, args.policy_type)));
    }
    let errors = results
        .iter()
        .flat_map(|(_, f)| f)
        .filter(|f| f.severity == Severity::Error)
        .count();
    let out = match args.format {
        Format::Json => {
            let docs: Vec<FileFindings<'_>> = results
                .iter()
                .map(|(file, findings)| FileFindings {
                    file: file.clone(),
                    findings,
                })
                .collect();
            serde_json::to_string_pretty(&docs)? + "\n"
        }
        Format::Text => {
            let mut s = String::new();
            let mut total = 0;
            for (file, findings) in &results {
                for f in findings {
                    s.push_str(&format!("{file}:{f}\n"));
                }
                total += findings.len();
            }
            s.push_str(&format!(
                "{} file(s), {total} finding(s), {errors} error(s)\n",
                results.len()
            ));
            s
        }
    };
    write_stdout(&out)?;
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Debug, clap::Args)]
pub(crate) struct ActionsArgs {
    /// Action patterns (`s3:Get*`, `iam:PassRole`, `*`).
    #[arg(required = true)]
    patterns: Vec<String>,
}

/// Prints each matched action with its access level, one a line; exit 1 when a pattern matches none.
pub(crate) fn run_actions(args: ActionsArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::embedded();
    let mut out = String::new();
    let mut unmatched = false;
    for p in &args.patterns {
        let actions = catalog.actions_matching(p);
        if actions.is_empty() {
            unmatched = true;
            eprintln!("`{p}` matches no action in the catalog");
        }
        for a in actions {
            out.push_str(&format!("{}\t{}\n", a.action, a.level.label()));
        }
    }
    write_stdout(&out)?;
    Ok(if unmatched {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
