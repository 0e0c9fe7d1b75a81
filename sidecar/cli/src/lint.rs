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

/// The policy type as the command line names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TypeArg {
    Identity,
    Resource,
    Trust,
    Boundary,
    Scp,
    Rcp,
    Session,
}

impl From<TypeArg> for PolicyType {
    fn from(t: TypeArg) -> Self {
        match t {
            TypeArg::Identity => PolicyType::Identity,
            TypeArg::Resource => PolicyType::Resource,
            TypeArg::Trust => PolicyType::Trust,
            TypeArg::Boundary => PolicyType::Boundary,
            TypeArg::Scp => PolicyType::Scp,
            TypeArg::Rcp => PolicyType::Rcp,
            TypeArg::Session => PolicyType::Session,
        }
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct LintArgs {
    /// Policy documents (JSON files).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// What kind of policy the files are.
    #[arg(long = "type", value_enum, default_value = "identity")]
    policy_type: TypeArg,
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
        results.push((
            file.display().to_string(),
            lint(&text, args.policy_type.into()),
        ));
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
        let actions = catalog.expand(p);
        if actions.is_empty() {
            unmatched = true;
            eprintln!("`{p}` matches no action in the catalog");
        }
        for a in actions {
            let l = a
                .split_once(':')
                .and_then(|(s, n)| catalog.service(s)?.action(n))
                .map_or("", |x| x.level().label());
            out.push_str(&format!("{a}\t{l}\n"));
        }
    }
    write_stdout(&out)?;
    Ok(if unmatched {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
