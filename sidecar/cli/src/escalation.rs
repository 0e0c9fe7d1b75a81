//! `iamlet report escalation`: who can become an administrator (or reach given actions), and how.
//! The analysis is `iamlet_reports::escalation`; this reads its inputs.

use super::account::{read_exports, runtime};
use super::{write_stdout, Format};
use anyhow::Context as _;
use iamlet_account::export::AccountDetails;
use iamlet_account::organization::Organization;
use iamlet_iam_store::{DatabaseUrl, Iam, Quotas};
use iamlet_reports::escalation::{self, Options, Target};
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct EscalationArgs {
    /// The account: the JSON of `aws iam get-account-authorization-details` (or `iamlet iam
    /// export`) in a file or a directory of them; `database` for Iamlet's IAM database
    /// (`--database`); `iam-api` for `GetAccountAuthorizationDetails` over the IAM API
    /// (credentials, region and `AWS_ENDPOINT_URL` as for the AWS CLI).
    #[arg(long, value_name = "FILE|DIR|database|iam-api")]
    account: String,
    /// With `--account database`: `sqlite:PATH` or `postgres://…`.
    #[arg(long)]
    database: Option<String>,
    /// SCPs, RCPs and resource-based policies (see `examples/organization.json`).
    #[arg(long, value_name = "FILE")]
    organization: Option<String>,
    /// Only this principal (a user or role ARN).
    #[arg(long, value_name = "ARN")]
    principal: Option<String>,
    /// What to reach: `admin` (`*` on `*`, the default) or actions, each `service:Action` (on
    /// `*`) or `service:Action=RESOURCE-ARN`; all of them must be reached (repeat the option or separate
    /// them with commas).
    #[arg(long, value_name = "admin|ACTION", value_delimiter = ',')]
    target: Vec<String>,
    /// Paths shown per principal, shortest first.
    #[arg(long, default_value_t = 5)]
    max_paths: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// The account's documents from the source `--account` names.
fn load(args: &EscalationArgs) -> anyhow::Result<Vec<(String, AccountDetails)>> {
    match args.account.as_str() {
        "database" => {
            let db = args
                .database
                .as_deref()
                .context("--account database needs --database sqlite:PATH or postgres://…")?;
            let url = DatabaseUrl::parse(db, Path::new("."))
                .map_err(|e| anyhow::anyhow!("--database: {}", e.message))?;
            let details = runtime()?.block_on(async {
                let iam = Iam::open(&url, Quotas::default())
                    .await
                    .map_err(|e| anyhow::anyhow!("{url}: {}", e.message))?;
                let mut tx = iam.read().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                let details = iam
                    .all_details(&mut tx)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                anyhow::Ok(details.to_json())
            })?;
            let name = url.to_string();
            let text = serde_json::to_string(&details)?;
            Ok(vec![(
                name.clone(),
                iamlet_account::export::parse_export(&name, &text)?,
            )])
        }
        "iam-api" | "iam:snapshot" => {
            use iamlet_store::iam_api::{IamApiConfig, IamApiMode, IamApiSnapshotLoader};
            // The SDK's chains read credentials, region and `AWS_ENDPOINT_URL`, as for `--account
            // iam:snapshot` elsewhere.
            let config = IamApiConfig {
                mode: IamApiMode::AccountSnapshot,
                ..IamApiConfig::default()
            };
            let details = runtime()?.block_on(async {
                let loader = IamApiSnapshotLoader::new(&config).await?;
                loader.fetch_details().await
            })?;
            Ok(vec![("IAM API".to_owned(), details)])
        }
        file => {
            let path = Path::new(file);
            let exports = read_exports(path)?;
            Ok(exports
                .into_iter()
                .map(|d| (path.display().to_string(), d))
                .collect())
        }
    }
}

pub(crate) fn run(args: EscalationArgs) -> anyhow::Result<ExitCode> {
    if args.database.is_some() && args.account != "database" {
        anyhow::bail!("--database is read only with --account database");
    }
    let target = Target::parse(&args.target)?;
    let exports = load(&args)?;
    let org = match &args.organization {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {p}"))?;
            Some(Organization::parse(p, &text)?)
        }
        None => None,
    };
    let options = Options {
        principal: args.principal.clone(),
        target: target.clone(),
        max_paths: args.max_paths.max(1),
        ..Options::default()
    };
    let findings = escalation::analyze(&exports, org.as_ref(), &options)?;
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&findings)? + "\n",
        Format::Text => escalation::render_text(&findings, &target),
    };
    write_stdout(&out)?;
    Ok(if escalation::any_escalation(&findings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
