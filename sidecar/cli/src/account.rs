//! Opening the identity store from the command line: `--account FILE|DIR|URL|iam|iam:snapshot` and
//! `--organization FILE|URL`.

use anyhow::Context as _;
use iamlet_store::{AccountSource, OrganizationSource, Store, StoreConfig};
use std::path::{Path, PathBuf};

/// The store's sources.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct AccountArgs {
    /// The principals' IAM data: the JSON of `aws iam get-account-authorization-details` in a file, a
    /// directory of such files (one per account) or at an http(s) URL; or `iam` for the live IAM API
    /// (per principal) and `iam:snapshot` for the whole account through
    /// `GetAccountAuthorizationDetails` (credentials, region and `AWS_ENDPOINT_URL` as for the AWS CLI).
    /// `iam-api` is another name for `iam`, as the sidecar's configuration writes it.
    #[arg(long, value_name = "FILE|DIR|URL|iam|iam:snapshot")]
    pub(crate) account: Option<String>,
    /// SCPs, RCPs and resource-based policies: an organization file (see
    /// `examples/organization.json`) or its URL.
    #[arg(long, value_name = "FILE|URL", requires = "account")]
    pub(crate) organization: Option<String>,
}

impl AccountArgs {
    /// The store's configuration, or `None` without `--account`. Sources read as the sidecar's
    /// configuration reads them ([`AccountSource::parse`]).
    pub(crate) fn config(&self) -> Option<StoreConfig> {
        let here = Path::new("");
        let accounts = AccountSource::parse(self.account.as_deref()?, here);
        let organization = self
            .organization
            .as_deref()
            .map(|o| OrganizationSource::parse(o, here));
        Some(StoreConfig {
            accounts,
            organization,
            poll_interval: None,
            cache: Default::default(),
        })
    }
}

/// A runtime for the command line: one thread is plenty.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Opens the store (loading every source once; no watching).
pub(crate) async fn open(config: StoreConfig) -> anyhow::Result<Store> {
    Store::open(config).await.map_err(anyhow::Error::new)
}

/// Reads account exports from a file, or every `*.json` of a directory (sorted), without the store:
/// for commands that need the documents themselves.
pub(crate) fn read_exports(
    path: &Path,
) -> anyhow::Result<Vec<iamlet_account::export::AccountDetails>> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_owned()]
    };
    files
        .iter()
        .map(|f| {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            iamlet_account::export::parse_export(&f.display().to_string(), &text)
                .map_err(anyhow::Error::new)
        })
        .collect()
}
