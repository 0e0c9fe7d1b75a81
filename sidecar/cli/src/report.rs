//! `iamlet report access-advisor` and `iamlet report credentials`.

use super::account::{open, read_exports, runtime, AccountArgs};
use super::{first_of, write_stdout, Format};
use anyhow::Context as _;
use chrono::{DateTime, Utc};
use iamlet_auth::Credentials;
use iamlet_decision_log::{self as decision_log, LoggedDecision};
use iamlet_engine::catalog::Catalog;
use iamlet_reports::{access_advisor, credential_report as credentials};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    #[command(subcommand)]
    which: Which,
}

#[derive(Debug, clap::Subcommand)]
enum Which {
    /// Per principal and service, when it was last accessed and which actions were used, from the
    /// sidecar's decision log; with `--account`, also what the policies grant that was never used.
    AccessAdvisor(AccessAdvisorArgs),
    /// AWS's credential report (CSV, AWS's columns) from an account export, the credentials file and
    /// the decision log.
    Credentials(CredentialsArgs),
    /// Privilege-escalation paths: which principals can become an administrator (or reach given
    /// actions), step by step; exits 1 when a principal that is not one already can.
    Escalation(crate::escalation::EscalationArgs),
    /// Every role trust policy and resource-based policy that lets a principal outside the account
    /// (with --organization, outside the organization) in, and what it grants; exits 1 when any does.
    ExternalAccess(ExternalAccessArgs),
}

#[derive(Debug, clap::Args)]
struct ExternalAccessArgs {
    /// The JSON of `aws iam get-account-authorization-details` (or `iamlet iam export`): a file, or
    /// a directory of them.
    #[arg(long, value_name = "FILE|DIR")]
    account: PathBuf,
    /// The organization file: its accounts and id are the zone of trust, and its
    /// `ResourcePolicies` are checked too.
    #[arg(long, value_name = "FILE")]
    organization: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct AccessAdvisorArgs {
    /// Decision logs: JSON lines as `iamlet serve` writes them, in Iamlet's format or CloudTrail's
    /// (`[decision_log] format`), or CloudTrail's own log files (`{"Records": [...]}`).
    #[arg(long = "log", value_name = "FILE", required = true)]
    logs: Vec<PathBuf>,
    #[command(flatten)]
    account: AccountArgs,
    /// Only this principal (a role's session counts as the role).
    #[arg(long)]
    principal: Option<String>,
    /// The window: decisions at or after this time (RFC 3339) or this long ago (`90d`, `12h`, `30m`).
    #[arg(long)]
    since: Option<String>,
    /// Print, per principal, a least-privilege policy covering what was allowed.
    #[arg(long)]
    suggest: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, clap::Args)]
struct CredentialsArgs {
    /// The JSON of `aws iam get-account-authorization-details`: a file, or a directory of them.
    #[arg(long, value_name = "FILE|DIR")]
    account: PathBuf,
    /// The access keys (`iamlet keys`' credentials file).
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// Decision logs (either format, or CloudTrail's log files), for each key's last use.
    #[arg(long = "log", value_name = "FILE")]
    logs: Vec<PathBuf>,
}

pub(crate) fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    match args.which {
        Which::AccessAdvisor(a) => access_advisor(a),
        Which::Credentials(a) => credential_report(a),
        Which::Escalation(a) => crate::escalation::run(a),
        Which::ExternalAccess(a) => external_access(a),
    }
}

fn read_logs(paths: &[PathBuf]) -> anyhow::Result<Vec<LoggedDecision>> {
    let mut out = Vec::new();
    for p in paths {
        out.extend(decision_log::read(p)?);
    }
    Ok(out)
}

/// `2026-08-25T00:00:00Z`, or a duration back from `now` (`90d`, `12h`, `30m`, as the
/// configuration writes durations).
fn since(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let back = iamlet_server::config::parse_duration(text)
        .ok()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .with_context(|| {
            format!(
                "--since `{text}`: expected an RFC 3339 time or a duration such as 90d, 12h or 30m"
            )
        })?;
    now.checked_sub_signed(back)
        .with_context(|| format!("--since `{text}`: too long ago"))
}

fn access_advisor(args: AccessAdvisorArgs) -> anyhow::Result<ExitCode> {
    let records = read_logs(&args.logs)?;
    let window = args
        .since
        .as_deref()
        .map(|s| since(s, Utc::now()))
        .transpose()?;
    let catalog = Catalog::embedded();
    let report = match args.account.config() {
        None => access_advisor::build(&records, window, args.principal.as_deref(), &mut |_| None),
        Some(config) => runtime()?.block_on(async {
            let store = open(config).await?;
            // Resolve every principal first (async), then aggregate.
            let mut grants = std::collections::HashMap::new();
            let logged: BTreeSet<&str> = records
                .iter()
                .filter_map(|r| r.principal.as_deref())
                .collect();
            for p in logged {
                if let Ok(resolved) = store.resolve(p, None).await {
                    // What the account says of the principal (tags…) fills `${aws:PrincipalTag/…}`.
                    let context = resolved.principal_context(p).unwrap_or_default();
                    let granted =
                        iamlet_engine::access::granted(resolved.policy_set(), p, &context, catalog)
                            .map(|g| g.into_iter().map(|g| g.action).collect::<BTreeSet<_>>())
                            .ok();
                    grants.insert(p.to_owned(), granted);
                }
            }
            anyhow::Ok(access_advisor::build(
                &records,
                window,
                args.principal.as_deref(),
                &mut |p| grants.get(p).cloned().flatten(),
            ))
        })?,
    };
    let out = match (args.format, args.suggest) {
        (Format::Json, false) => serde_json::to_string_pretty(&report)? + "\n",
        (Format::Json, true) => {
            let policies: Vec<serde_json::Value> = report
                .iter()
                .map(|p| serde_json::json!({ "principal": p.principal, "policy": access_advisor::suggest(p) }))
                .collect();
            serde_json::to_string_pretty(&policies)? + "\n"
        }
        (Format::Text, suggest) => text(&report, window, suggest)?,
    };
    write_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

fn list(actions: &BTreeSet<String>, max: usize) -> String {
    first_of(&actions.iter().collect::<Vec<_>>(), max)
}

fn text(
    report: &[access_advisor::PrincipalUse],
    window: Option<DateTime<Utc>>,
    suggest: bool,
) -> anyhow::Result<String> {
    let mut s = String::new();
    if report.is_empty() {
        s.push_str("no decided requests in the log(s)\n");
    }
    for p in report {
        let used = p.services.iter().filter(|s| s.requests > 0).count();
        let _ = writeln!(
            s,
            "{} ({used} service(s) accessed{})",
            p.principal,
            window.map_or(String::new(), |w| format!(
                " since {}",
                w.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))
        );
        for svc in &p.services {
            let accessed = svc.last_accessed.map_or("not accessed".to_owned(), |t| {
                format!(
                    "last accessed {}, {} request(s), {} allowed",
                    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    svc.requests,
                    svc.allowed
                )
            });
            let _ = write!(s, "  {:<12} {accessed}", svc.service);
            if !svc.actions_used.is_empty() {
                let _ = write!(s, "; used: {}", list(&svc.actions_used, 6));
            }
            if let Some(unused) = svc.granted_unused.as_ref().filter(|u| !u.is_empty()) {
                let _ = write!(
                    s,
                    "; granted, never used ({}): {}",
                    unused.len(),
                    list(unused, 6)
                );
            }
            s.push('\n');
        }
        if suggest {
            let _ = writeln!(
                s,
                "  suggested policy:\n{}",
                serde_json::to_string_pretty(&access_advisor::suggest(p))?
            );
        }
    }
    Ok(s)
}

fn credential_report(args: CredentialsArgs) -> anyhow::Result<ExitCode> {
    let exports = read_exports(&args.account)?;
    let file = args
        .credentials
        .as_deref()
        .map(Credentials::load)
        .transpose()?;
    let records = read_logs(&args.logs)?;
    let rows = credentials::rows(&exports, file.as_ref(), &records);
    write_stdout(&credentials::csv(&rows)?)?;
    Ok(ExitCode::SUCCESS)
}

fn external_access(args: ExternalAccessArgs) -> anyhow::Result<ExitCode> {
    let exports = read_exports(&args.account)?;
    let org = match &args.organization {
        Some(p) => {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {name}"))?;
            // Compiled first so that a broken file is refused with its errors, as everywhere else.
            iamlet_account::organization::Organization::parse(&name, &text)?;
            Some(iamlet_account::export::parse_json::<
                iamlet_account::organization::OrganizationFile,
            >(&name, &text)?)
        }
        None => None,
    };
    let findings = iamlet_reports::checks::external_access(&exports, org.as_ref());
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&findings)? + "\n",
        Format::Text => {
            let mut s = String::new();
            let zone = if org.is_some() {
                "the organization"
            } else {
                "the account"
            };
            if findings.is_empty() {
                let _ = writeln!(s, "No policy lets a principal outside {zone} in.");
            }
            for f in &findings {
                let sid = f
                    .statement_id
                    .as_ref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "{} {} [{}] Statement[{}]{sid}: {} may {}",
                    if f.is_public { "PUBLIC" } else { "EXTERNAL" },
                    f.resource,
                    f.resource_type,
                    f.statement_index,
                    f.principals.join(", "),
                    f.actions.join(", ")
                );
                for c in &f.conditions {
                    let _ = writeln!(s, "  when {c}");
                }
            }
            s
        }
    };
    write_stdout(&out)?;
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
