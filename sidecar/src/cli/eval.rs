//! `iamlet eval`: one request against policy files.

use super::Format;
use anyhow::{anyhow, Context as _};
use iamlet_engine::{ContextMap, ContextValue, Policy, PolicySet, PolicyType, Request};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct EvalArgs {
    /// Identity-based policy files (the principal's inline and managed policies).
    #[arg(long = "policy", value_name = "FILE")]
    policies: Vec<PathBuf>,
    /// The resource's resource-based policy (a role trust policy is recognised by having no
    /// `Resource`).
    #[arg(long, value_name = "FILE")]
    resource_policy: Option<PathBuf>,
    /// A permissions boundary (each given must allow).
    #[arg(long = "boundary", value_name = "FILE")]
    boundaries: Vec<PathBuf>,
    /// Service control policies: each occurrence is one organization level, root first; several
    /// policies of one level are separated by commas.
    #[arg(long = "scp", value_name = "FILE[,FILE…]")]
    scps: Vec<String>,
    /// Resource control policies, one organization level per occurrence, as for `--scp`.
    #[arg(long = "rcp", value_name = "FILE[,FILE…]")]
    rcps: Vec<String>,
    /// Session policies.
    #[arg(long = "session-policy", value_name = "FILE")]
    session_policies: Vec<PathBuf>,
    /// The principal: a user, role, assumed-role session or federated user ARN, an account id, or a
    /// service principal.
    #[arg(long)]
    principal: String,
    /// The action, `service:Action`.
    #[arg(long)]
    action: String,
    /// The resource ARN.
    #[arg(long)]
    resource: String,
    /// The account owning the resource, for ARNs without one (S3).
    #[arg(long)]
    resource_account: Option<String>,
    /// A condition key: `key=value`, or `key=[v1,v2]` for a multivalued key. `aws:CurrentTime` and
    /// `aws:EpochTime` default to now.
    #[arg(long = "context", value_name = "KEY=VALUE")]
    context: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

fn load(path: &Path, policy_type: PolicyType) -> anyhow::Result<Policy> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Policy::parse_named(&name, &text, policy_type).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Parses `key=value` / `key=[a,b]` arguments.
pub(crate) fn parse_context(args: &[String]) -> anyhow::Result<ContextMap> {
    let mut ctx = ContextMap::new();
    for a in args {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| anyhow!("--context `{a}`: expected KEY=VALUE"))?;
        let value = match v.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            Some(inner) if inner.trim().is_empty() => ContextValue::multi(Vec::new()),
            Some(inner) => {
                ContextValue::multi(inner.split(',').map(|s| s.trim().to_owned()).collect())
            }
            None => ContextValue::single(v),
        };
        ctx.insert(k, value);
    }
    let now = chrono::Utc::now();
    if !ctx.contains("aws:CurrentTime") {
        ctx.insert(
            "aws:CurrentTime",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
    }
    if !ctx.contains("aws:EpochTime") {
        ctx.insert("aws:EpochTime", now.timestamp().to_string());
    }
    Ok(ctx)
}

pub(crate) fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let mut set = PolicySet::new();
    for p in &args.policies {
        set.add(load(p, PolicyType::Identity)?);
    }
    if let Some(p) = &args.resource_policy {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let kind = if text.contains("\"Resource\"") || text.contains("\"NotResource\"") {
            PolicyType::Resource
        } else {
            PolicyType::Trust
        };
        set.add(load(p, kind)?);
    }
    for p in &args.boundaries {
        set.add(load(p, PolicyType::Boundary)?);
    }
    for p in &args.session_policies {
        set.add(load(p, PolicyType::Session)?);
    }
    for level in &args.scps {
        let ps = level
            .split(',')
            .map(|f| load(Path::new(f), PolicyType::Scp))
            .collect::<anyhow::Result<Vec<_>>>()?;
        set.add_scp_level(ps);
    }
    for level in &args.rcps {
        let ps = level
            .split(',')
            .map(|f| load(Path::new(f), PolicyType::Rcp))
            .collect::<anyhow::Result<Vec<_>>>()?;
        set.add_rcp_level(ps);
    }
    let mut req = Request::new(&args.principal, &args.action, &args.resource)?
        .with_context(parse_context(&args.context)?);
    if let Some(a) = &args.resource_account {
        req = req.with_resource_account(a.clone());
    }
    let explanation = set.explain(&req);
    match args.format {
        Format::Text => print!("{explanation}"),
        Format::Json => println!("{}", serde_json::to_string_pretty(&explanation)?),
    }
    Ok(ExitCode::SUCCESS)
}
