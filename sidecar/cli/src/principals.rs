//! `iamlet principals`: every user and role of an export, and what applies to each.

use super::account::{open, runtime, AccountArgs};
use super::Format;
use anyhow::anyhow;
use iamlet_engine::PrincipalKind;
use iamlet_store::{LevelSummary, Summary};
use std::fmt::Write as _;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct PrincipalsArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

fn kind_label(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "user",
        PrincipalKind::Role => "role",
        PrincipalKind::AssumedRole => "role session",
        PrincipalKind::FederatedUser => "federated user",
        PrincipalKind::Root => "root user",
        PrincipalKind::Service => "service",
        PrincipalKind::WebIdentity => "web identity",
        PrincipalKind::Anonymous => "anonymous",
    }
}

fn levels(levels: &[LevelSummary]) -> String {
    levels
        .iter()
        .map(|l| format!("{}: {}", l.level, l.policies.join(", ")))
        .collect::<Vec<_>>()
        .join("  >  ")
}

/// What applies to a principal, for people: groups, policies, boundary, organization levels, tags.
pub(crate) fn describe(principal: &str, s: &Summary, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Principal: {principal} ({}, from {source})",
        kind_label(s.kind)
    );
    if s.entity != principal {
        let _ = writeln!(out, "  resolved through: {}", s.entity);
    }
    if !s.groups.is_empty() {
        let _ = writeln!(out, "  groups: {}", s.groups.join(", "));
    }
    if s.policies.is_empty() {
        let _ = writeln!(out, "  identity-based policies: (none)");
    } else {
        let _ = writeln!(out, "  identity-based policies:");
        for p in &s.policies {
            let _ = writeln!(out, "    - {p}");
        }
    }
    if let Some(b) = &s.boundary {
        let _ = writeln!(out, "  permissions boundary: {b}");
    }
    if !s.scp_levels.is_empty() {
        let _ = writeln!(out, "  SCPs (root first): {}", levels(&s.scp_levels));
    }
    if !s.rcp_levels.is_empty() {
        let _ = writeln!(out, "  RCPs (root first): {}", levels(&s.rcp_levels));
    }
    if !s.tags.is_empty() {
        let tags: Vec<String> = s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "  tags: {}", tags.join(", "));
    }
    out
}

pub(crate) fn run(args: PrincipalsArgs) -> anyhow::Result<ExitCode> {
    let Some(config) = args.account.config() else {
        return Err(anyhow!("`iamlet principals` needs --account"));
    };
    let source = args.account.account.clone().unwrap_or_default();
    runtime()?.block_on(async {
        let store = open(config).await?;
        let snapshot = store.snapshot().ok_or_else(|| {
            anyhow!("listing principals needs an export (a file, directory, URL or iam:snapshot), not the per-principal IAM API")
        })?;
        let mut json = Vec::new();
        let mut text = String::new();
        for arn in snapshot.principals() {
            let resolved = store.resolve(&arn, None).await?;
            match args.format {
                Format::Text => {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(&describe(&arn, resolved.summary(), &source));
                    if resolved.trust_policy().is_some() {
                        let role = arn.rsplit('/').next().unwrap_or_default();
                        text.push_str(&format!("  trust policy: role/{role}:trust\n"));
                    }
                }
                Format::Json => json.push(serde_json::json!({
                    "principal": arn,
                    "summary": resolved.summary(),
                    "has_trust_policy": resolved.trust_policy().is_some(),
                })),
            }
        }
        if args.format == Format::Json {
            text = serde_json::to_string_pretty(&json)? + "\n";
        }
        // A reader that stops early (`| head`) is not an error.
        super::write_stdout(&text)?;
        Ok(ExitCode::SUCCESS)
    })
}
