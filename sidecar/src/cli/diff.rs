//! `iamlet diff OLD NEW`: does a change to a policy grant new access? The engine's `diff` decides
//! probes built from both versions; this prints what the new version newly allows and newly denies,
//! grouped by resource, condition keys and responsible statement.

use super::lint::TypeArg;
use super::{write_stdout, Format};
use anyhow::Context as _;
use iamlet_engine::catalog::Catalog;
use iamlet_engine::diff::{diff, Change, PolicyDiff};
use iamlet_engine::{Policy, PolicyType, StatementRef};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    /// The policy as it is (a JSON file).
    old: PathBuf,
    /// The policy as proposed.
    new: PathBuf,
    /// What kind of policy both files are (trust policies are not compared).
    #[arg(long = "type", value_enum, default_value = "identity")]
    policy_type: TypeArg,
    /// The principal whose requests are probed (its name fills `${aws:username}`); for session
    /// policies, use a role session (`arn:aws:sts::…:assumed-role/ROLE/SESSION`).
    #[arg(long, default_value = "arn:aws:iam::111122223333:user/iamlet-diff")]
    principal: String,
    /// Output format: grouped lines, or the full JSON (`granted`, `revoked`, `probes`).
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Most actions listed per group in text output (the JSON has all).
    #[arg(long, default_value_t = 8)]
    max_actions: usize,
}

fn read(path: &PathBuf, policy_type: PolicyType) -> anyhow::Result<Policy> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path.display().to_string();
    Policy::parse_named(&name, &text, policy_type).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Exit status 1 when the new version grants access the old one did not, 0 otherwise (revocations
/// alone do not fail it), 2 on errors.
pub(crate) fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let policy_type = args.policy_type.into();
    let old = read(&args.old, policy_type)?;
    let new = read(&args.new, policy_type)?;
    let d = diff(&old, &new, &args.principal, Catalog::embedded())?;
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&d)? + "\n",
        Format::Text => text(&d, args.max_actions),
    };
    write_stdout(&out)?;
    Ok(if d.granted.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn describe(because: &[StatementRef]) -> String {
    let parts: Vec<String> = because
        .iter()
        .map(|r| {
            let sid = r
                .sid
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            format!("{} Statement[{}]{sid}", r.policy, r.statement)
        })
        .collect();
    if parts.is_empty() {
        "no statement".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Changes grouped by (resource, context, responsible statements), each group's actions sorted.
fn grouped(changes: &[Change]) -> BTreeMap<(String, String, String), Vec<&str>> {
    let mut groups: BTreeMap<(String, String, String), Vec<&str>> = BTreeMap::new();
    for c in changes {
        let context = c
            .context
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        groups
            .entry((c.resource.clone(), context, describe(&c.because)))
            .or_default()
            .push(&c.action);
    }
    groups
}

fn text(d: &PolicyDiff, max_actions: usize) -> String {
    let mut s = String::new();
    for (sign, verb, changes) in [
        ('+', "newly allowed", &d.granted),
        ('-', "no longer allowed", &d.revoked),
    ] {
        for ((resource, context, because), actions) in grouped(changes) {
            let shown = actions
                .iter()
                .take(max_actions)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            let more = actions.len().saturating_sub(max_actions);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            let when = if context.is_empty() {
                String::new()
            } else {
                format!(" when {context}")
            };
            let _ = writeln!(
                s,
                "{sign} {verb}: {shown}{more} on {resource}{when} (by {because})"
            );
        }
    }
    let _ = writeln!(
        s,
        "{} request(s) newly allowed, {} no longer allowed, of {} probed",
        d.granted.len(),
        d.revoked.len(),
        d.probes
    );
    s
}
