//! `iamlet eval`: one request against policy files.

use super::account::AccountArgs;
use super::Format;
use anyhow::{anyhow, Context as _};
use iamlet_engine::{
    ContextMap, ContextValue, Explanation, Policy, PolicySet, PolicyType, Request,
};
use iamlet_store::Query;
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
    /// Resource control policies, one organization level per occurrence, as for `--scp`. RCPs only
    /// deny: their `Deny` statements apply, and an `Allow` in them neither grants nor withholds.
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
    /// Resolve the principal's policies (its own and its groups', boundary, tags, and with
    /// `--organization` its SCPs, RCPs and the resource's policy) from an account export, as
    /// `aws iam simulate-principal-policy` does; `--policy` and the other files are added to them.
    #[command(flatten)]
    account: AccountArgs,
    /// For a federated user session resolved with `--account`: the IAM user that called
    /// `GetFederationToken`.
    #[arg(long, value_name = "ARN", requires = "account")]
    session_issuer: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// The policies given as files.
#[derive(Debug, Default)]
struct Files {
    /// Identity-based, resource-based (or trust), boundaries and session policies.
    policies: Vec<Policy>,
    scps: Vec<Vec<Policy>>,
    rcps: Vec<Vec<Policy>>,
}

impl Files {
    fn is_empty(&self) -> bool {
        self.policies.is_empty() && self.scps.is_empty() && self.rcps.is_empty()
    }

    fn into_set(self) -> PolicySet {
        let mut set = PolicySet::new();
        for p in self.policies {
            set.add(p);
        }
        for l in self.scps {
            set.add_scp_level(l);
        }
        for l in self.rcps {
            set.add_rcp_level(l);
        }
        set
    }
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
    ctx.insert_time(chrono::Utc::now());
    Ok(ctx)
}

fn load_files(args: &EvalArgs) -> anyhow::Result<Files> {
    let mut files = Files::default();
    for p in &args.policies {
        files.policies.push(load(p, PolicyType::Identity)?);
    }
    if let Some(p) = &args.resource_policy {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let kind = if text.contains("\"Resource\"") || text.contains("\"NotResource\"") {
            PolicyType::Resource
        } else {
            PolicyType::Trust
        };
        files.policies.push(load(p, kind)?);
    }
    for p in &args.boundaries {
        files.policies.push(load(p, PolicyType::Boundary)?);
    }
    for p in &args.session_policies {
        files.policies.push(load(p, PolicyType::Session)?);
    }
    for level in &args.scps {
        let ps = level
            .split(',')
            .map(|f| load(Path::new(f), PolicyType::Scp))
            .collect::<anyhow::Result<Vec<_>>>()?;
        files.scps.push(ps);
    }
    for level in &args.rcps {
        let ps = level
            .split(',')
            .map(|f| load(Path::new(f), PolicyType::Rcp))
            .collect::<anyhow::Result<Vec<_>>>()?;
        files.rcps.push(ps);
    }
    Ok(files)
}

pub(crate) fn run(args: EvalArgs) -> anyhow::Result<ExitCode> {
    let files = load_files(&args)?;
    let context = parse_context(&args.context)?;
    let explanation = match args.account.config() {
        None => {
            let mut req =
                Request::new(&args.principal, &args.action, &args.resource)?.with_context(context);
            if let Some(a) = &args.resource_account {
                req = req.with_resource_account(a.clone());
            }
            files.into_set().explain(&req)
        }
        Some(config) => {
            let source = args.account.account.clone().unwrap_or_default();
            super::account::runtime()?.block_on(async {
                let store = super::account::open(config).await?;
                let query = Query {
                    principal: args.principal.clone(),
                    session_issuer: args.session_issuer.clone(),
                    action: args.action.clone(),
                    resource: args.resource.clone(),
                    resource_account: args.resource_account.clone(),
                    context,
                };
                let mut prepared = store.prepare(query).await?;
                if args.format == Format::Text {
                    super::write_stdout(&super::principals::describe(
                        &args.principal,
                        prepared.resolved().summary(),
                        &source,
                    ))?;
                }
                if !files.is_empty() {
                    prepared = prepared
                        .with_policies(files.policies)
                        .with_org_levels(files.scps, files.rcps);
                }
                Ok::<Explanation, anyhow::Error>(prepared.explain())
            })?
        }
    };
    match args.format {
        Format::Text => super::write_stdout(&explanation.to_string())?,
        Format::Json => super::write_stdout(&format!(
            "{}\n",
            serde_json::to_string_pretty(&explanation)?
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}
