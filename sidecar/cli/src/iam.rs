//! `iamlet iam`: the IAM database: `init` creates the account (and prints the root user's access
//! key once), `import` loads an account export and credentials file, `export` writes the account as
//! `aws iam get-account-authorization-details` prints it.

use anyhow::Context as _;
use iamlet_iam_store::{DatabaseUrl, Iam, Quotas};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct IamArgs {
    #[command(subcommand)]
    command: IamCommand,
}

#[derive(Debug, clap::Subcommand)]
enum IamCommand {
    /// Create the account in a database (created if missing) and print the root user's access key
    /// once, as JSON: keep it safe, create an administrator, and put the root key away.
    Init(InitArgs),
    /// Load an account export (`aws iam get-account-authorization-details` JSON, or `iamlet iam
    /// export`'s) and optionally a credentials file into the database, in one transaction, with
    /// the IAM API's rules; creates the account (printing its root key once) when there is none.
    Import(ImportArgs),
    /// Write the account as `aws iam get-account-authorization-details` prints it: the format the
    /// file store reads, to the same decisions.
    Export(ExportArgs),
}

/// `--database`.
#[derive(Debug, clap::Args)]
pub(crate) struct DatabaseArg {
    /// The database: `sqlite:PATH` (relative to the working directory) or `postgres://…`.
    #[arg(long)]
    database: String,
}

impl DatabaseArg {
    fn url(&self) -> anyhow::Result<DatabaseUrl> {
        DatabaseUrl::parse(&self.database, Path::new("."))
            .map_err(|e| anyhow::anyhow!("--database: {}", e.message))
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    #[command(flatten)]
    db: DatabaseArg,
    /// The account's twelve-digit id.
    #[arg(long)]
    account_id: String,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    db: DatabaseArg,
    /// Where to write (standard output when absent).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub(crate) fn run(args: IamArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async move {
        match args.command {
            IamCommand::Init(a) => init(a).await,
            IamCommand::Import(a) => import(a).await,
            IamCommand::Export(a) => export(a).await,
        }
    })
}

fn print_root_key(account: &str, key: &iamlet_iam_store::RootKey) -> anyhow::Result<()> {
    let out = serde_json::json!({
        "AccountId": account,
        "AccessKeyId": key.access_key_id,
        "SecretAccessKey": key.secret_access_key.expose(),
    });
    crate::write_stdout(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    Ok(())
}

async fn init(a: InitArgs) -> anyhow::Result<ExitCode> {
    let url = a.db.url()?;
    let (iam, key) = Iam::init(&url, &a.account_id, Quotas::default())
        .await
        .map_err(|e| anyhow::anyhow!("{url}: {}", e.message))?;
    print_root_key(iam.account_id(), &key)?;
    eprintln!(
        "created account {} in {url}: the root user's access key above is shown once",
        iam.account_id()
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    #[command(flatten)]
    db: DatabaseArg,
    /// The account export (JSON).
    #[arg(long)]
    account: PathBuf,
    /// A credentials file (`iamlet keys` / `iamlet mfa`): access keys, MFA devices, session key.
    #[arg(long)]
    credentials: Option<PathBuf>,
}

async fn import(a: ImportArgs) -> anyhow::Result<ExitCode> {
    let url = a.db.url()?;
    let text = std::fs::read_to_string(&a.account)
        .with_context(|| format!("reading {}", a.account.display()))?;
    let name = a.account.display().to_string();
    let details = iamlet_account::export::parse_export(&name, &text)?;
    let credentials = match &a.credentials {
        Some(p) => Some(iamlet_auth::Credentials::load(p)?),
        None => None,
    };
    let outcome = iamlet_iam_store::import::import(&url, &name, &details, credentials.as_ref())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(key) = &outcome.root_key {
        print_root_key(&outcome.account, key)?;
    }
    eprintln!("{}", outcome.summary);
    Ok(ExitCode::SUCCESS)
}

async fn export(a: ExportArgs) -> anyhow::Result<ExitCode> {
    let url = a.db.url()?;
    let iam = Iam::open(&url, Quotas::default())
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let mut tx = iam.read().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let details = iam
        .all_details(&mut tx)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let providers = iam
        .list_oidc_providers(&mut tx)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let saml = iam
        .list_saml_providers(&mut tx)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut json = details.to_json();
    // Iamlet's addition to the export's shape: the sidecar's STS reads the providers from it.
    if !providers.is_empty() {
        let list: Vec<_> = providers.iter().map(|p| p.to_detail()).collect();
        json["OpenIDConnectProviderList"] = serde_json::to_value(list)?;
    }
    if !saml.is_empty() {
        let list: Vec<_> = saml.iter().map(|p| p.to_detail()).collect();
        json["SAMLProviderList"] = serde_json::to_value(list)?;
    }
    let text = format!("{}\n", serde_json::to_string_pretty(&json)?);
    match &a.output {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display()))?,
        None => crate::write_stdout(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
