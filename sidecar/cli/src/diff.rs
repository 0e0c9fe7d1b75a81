//! `iamlet diff OLD NEW`: does a change to a policy grant new access? The engine's `diff` decides
//! probes built from both versions; this prints what the new version newly allows and newly denies,
//! grouped by resource, condition keys and responsible statement. With `--exports`, OLD and NEW are
//! account exports and the comparison is of a principal's whole policy set in each.

use super::account::read_exports;
use super::lint::policy_type_parser;
use super::{first_of, write_stdout, Format};
use anyhow::Context as _;
use iamlet_account::organization::Organization;
use iamlet_account::{PrincipalKey, Snapshot};
use iamlet_engine::catalog::Catalog;
use iamlet_engine::diff::{diff, diff_sets, Change, PolicyDiff};
use iamlet_engine::{ContextMap, Decision, Policy, PolicySet, PolicyType, StatementRef};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct DiffArgs {
    /// The policy as it is (a JSON file); with --exports, the account export as it is (a file or a
    /// directory).
    old: PathBuf,
    /// The policy as proposed; with --exports, the account export as proposed.
    new: PathBuf,
    /// OLD and NEW are account exports (`aws iam get-account-authorization-details`): compare the
    /// whole policy set of `--principal` in each (its own, its groups', its boundary).
    #[arg(long)]
    exports: bool,
    /// With --exports: SCPs, RCPs and resource-based policies for both (an organization file).
    #[arg(long, value_name = "FILE", requires = "exports")]
    organization: Option<PathBuf>,
    /// What kind of policy both files are (trust policies are not compared).
    #[arg(long = "type", default_value = "identity", value_parser = policy_type_parser())]
    policy_type: PolicyType,
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

/// The principal's resolved policy set in an export (and the organization file, if any), and what the
/// export says of it as condition keys (tags, user id).
fn resolve(
    export: &Path,
    organization: Option<&Organization>,
    principal: &str,
) -> anyhow::Result<(PolicySet, ContextMap)> {
    let exports: Vec<(String, _)> = read_exports(export)?
        .into_iter()
        .map(|d| (export.display().to_string(), d))
        .collect();
    let snapshot = Snapshot::build(&exports, &export.display().to_string())?;
    let key = PrincipalKey::for_principal(principal, None)?;
    let parts = snapshot
        .parts(&key)
        .map_err(|e| anyhow::anyhow!("{}: {e}", export.display()))?;
    let resolved = parts.assemble(organization);
    let context = resolved.principal_context(principal)?;
    Ok((resolved.policy_set().clone(), context))
}

/// Exit status 1 when the new version grants access the old one did not, 0 otherwise (revocations
/// alone do not fail it), 2 on errors.
pub(crate) fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::embedded();
    let (d, versions) = if args.exports {
        let organization = args
            .organization
            .as_ref()
            .map(|p| {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                Organization::parse(&p.display().to_string(), &text).map_err(anyhow::Error::new)
            })
            .transpose()?;
        let (old, context) = resolve(&args.old, organization.as_ref(), &args.principal)?;
        let (new, _) = resolve(&args.new, organization.as_ref(), &args.principal)?;
        let d = diff_sets(&old, &new, &args.principal, &context, catalog)?;
        (
            d,
            Some((
                args.old.display().to_string(),
                args.new.display().to_string(),
            )),
        )
    } else {
        let policy_type = args.policy_type;
        let old = read(&args.old, policy_type)?;
        let new = read(&args.new, policy_type)?;
        (diff(&old, &new, &args.principal, catalog)?, None)
    };
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&d)? + "\n",
        Format::Text => text(&d, args.max_actions, versions.as_ref()),
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
fn grouped<'a>(
    changes: &'a [Change],
    versions: Option<&(String, String)>,
) -> BTreeMap<(String, String, String), Vec<&'a str>> {
    let mut groups: BTreeMap<(String, String, String), Vec<&str>> = BTreeMap::new();
    for c in changes {
        // Both exports name their policies alike: say which version's statement it is (the new one
        // grants or denies; an allow that no longer applies is the old one's).
        let whose = versions.map_or(String::new(), |(old, new)| {
            let in_new = c.after == Decision::Allow || c.after == Decision::ExplicitDeny;
            format!(" in {}", if in_new { new } else { old })
        });
        let context = c
            .context
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        groups
            .entry((c.resource.clone(), context, describe(&c.because) + &whose))
            .or_default()
            .push(&c.action);
    }
    groups
}

fn text(d: &PolicyDiff, max_actions: usize, versions: Option<&(String, String)>) -> String {
    let mut s = String::new();
    for (sign, verb, changes) in [
        ('+', "newly allowed", &d.granted),
        ('-', "no longer allowed", &d.revoked),
    ] {
        for ((resource, context, because), actions) in grouped(changes, versions) {
            let shown = first_of(&actions, max_actions);
            let when = if context.is_empty() {
                String::new()
            } else {
                format!(" when {context}")
            };
            let _ = writeln!(
                s,
                "{sign} {verb}: {shown} on {resource}{when} (by {because})"
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
