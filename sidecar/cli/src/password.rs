//! `iamlet password check`: a candidate password against the account password policy.

use super::{write_stdout, Format};
use anyhow::Context as _;
use iamlet_engine::password::{check, PasswordContext, PasswordPolicy};
use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct PasswordArgs {
    #[command(subcommand)]
    which: Which,
}

#[derive(Debug, clap::Subcommand)]
enum Which {
    /// Checks the password on the first line of standard input (never an argument: it would reach
    /// the shell's history); exit 1 if it breaks a rule.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The account password policy: `aws iam get-account-password-policy` output. Without it, AWS's
    /// default policy applies.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The user's previous passwords, one a line, most recent first (for `PasswordReusePrevention`).
    #[arg(long, value_name = "FILE")]
    previous: Option<PathBuf>,
    /// The account's name or email address (the default policy forbids them); repeatable.
    #[arg(long = "account-name", value_name = "NAME")]
    account_names: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub(crate) fn run(args: PasswordArgs) -> anyhow::Result<ExitCode> {
    let Which::Check(args) = args.which;
    let policy = args
        .policy
        .as_ref()
        .map(|p| {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            PasswordPolicy::from_json(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
        })
        .transpose()?;
    let previous = match &args.previous {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("reading {}", p.display()))?
            .lines()
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    let problems = check(
        policy.as_ref(),
        password,
        &PasswordContext {
            previous,
            account_names: args.account_names,
        },
    );
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&problems)? + "\n",
        Format::Text if problems.is_empty() => format!(
            "ok: the password meets {}\n",
            if policy.is_some() {
                "the account password policy"
            } else {
                "AWS's default password policy"
            }
        ),
        Format::Text => problems
            .iter()
            .map(|p| format!("{}: {}\n", p.code, p.message))
            .collect(),
    };
    write_stdout(&out)?;
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
