//! `iamlet keys create|list|activate|deactivate|delete`: IAM users' access keys in the credentials
//! file. Output is the JSON of the matching `aws iam` commands; the secret is printed only at creation.

use super::account::{open, runtime, AccountArgs};
use anyhow::{anyhow, bail};
use iamlet_auth::{AccessKey, Credentials, KeyStatus};
use iamlet_engine::Arn;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// Create an access key for a user of the account export (at most two per user); prints the
    /// secret once.
    Create(OwnerArgs),
    /// List access keys (never their secrets).
    List(ListArgs),
    /// Let a key sign requests again.
    Activate(KeyArgs),
    /// Refuse requests signed with a key (`InvalidAccessKeyId`) without deleting it.
    Deactivate(KeyArgs),
    /// Delete a key.
    Delete(KeyArgs),
}

#[derive(Debug, clap::Args)]
pub(super) struct FileArg {
    /// The credentials file (created with mode 0600 if missing).
    #[arg(long, value_name = "FILE")]
    pub(super) credentials: PathBuf,
}

/// The credentials file and a user of the account export: what `create` commands need.
#[derive(Debug, clap::Args)]
pub(super) struct OwnerArgs {
    #[command(flatten)]
    pub(super) file: FileArg,
    #[command(flatten)]
    pub(super) user: UserArgs,
}

/// A user of the account export, by name.
#[derive(Debug, clap::Args)]
pub(super) struct UserArgs {
    /// The user's name.
    #[arg(long)]
    pub(super) user: String,
    #[command(flatten)]
    account: AccountArgs,
    /// The user's account, when the export holds several with a user of that name.
    #[arg(long, value_name = "ID")]
    account_id: Option<String>,
}

/// What `list` reads: the credentials file, and optionally one user.
#[derive(Debug, clap::Args)]
pub(super) struct ListArgs {
    #[command(flatten)]
    pub(super) file: FileArg,
    /// Only this user's entries.
    #[arg(long)]
    pub(super) user: Option<String>,
}

#[derive(Debug, clap::Args)]
struct KeyArgs {
    #[command(flatten)]
    file: FileArg,
    /// The key's owner.
    #[arg(long)]
    user: String,
    /// The key (`AKIA…`).
    #[arg(long, value_name = "AKIA…")]
    access_key_id: String,
}

/// `aws iam list-access-keys`' shape.
fn metadata(k: &AccessKey) -> serde_json::Value {
    serde_json::json!({
        "UserName": k.user_name(),
        "AccessKeyId": k.access_key_id,
        "Status": k.status.to_string(),
        "CreateDate": k.create_date,
    })
}

pub(super) fn print(value: &serde_json::Value) -> anyhow::Result<ExitCode> {
    super::write_stdout(&(serde_json::to_string_pretty(value)? + "\n"))?;
    Ok(ExitCode::SUCCESS)
}

/// The ARN of the named user in the export.
pub(super) fn find_user(args: &UserArgs) -> anyhow::Result<String> {
    let (user, account_id) = (args.user.as_str(), args.account_id.as_deref());
    let Some(config) = args.account.config() else {
        bail!("finding user `{user}` needs --account (the account export)");
    };
    runtime()?.block_on(async {
        let store = open(config).await?;
        let snapshot = store.snapshot().ok_or_else(|| {
            anyhow!("finding a user needs an export (a file, directory, URL or iam:snapshot)")
        })?;
        let found: Vec<String> = snapshot
            .principals()
            .into_iter()
            .filter(|arn| {
                Arn::parse(arn).is_some_and(|a| {
                    a.resource.starts_with("user/")
                        && iamlet_auth::user_name(a.resource) == user
                        && account_id.is_none_or(|id| id == a.account)
                })
            })
            .collect();
        match found.as_slice() {
            [arn] => Ok(arn.clone()),
            [] => Err(anyhow!("no user `{user}` in the export")),
            _ => Err(anyhow!(
                "user `{user}` is in several accounts ({}): pick one with --account-id",
                found.join(", ")
            )),
        }
    })
}

pub(crate) fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        KeysCommand::Create(a) => {
            let arn = find_user(&a.user)?;
            let key = Credentials::update(&a.file.credentials, |c| {
                c.create_key(&arn, chrono::Utc::now())
            })??;
            let mut out = metadata(&key);
            if let Some(o) = out.as_object_mut() {
                o.insert(
                    "SecretAccessKey".into(),
                    key.secret_access_key.expose().into(),
                );
            }
            print(&serde_json::json!({ "AccessKey": out }))
        }
        KeysCommand::List(a) => {
            let credentials = Credentials::load(&a.file.credentials)?;
            let keys: Vec<_> = credentials
                .keys_of(a.user.as_deref())
                .map(metadata)
                .collect();
            print(&serde_json::json!({ "AccessKeyMetadata": keys }))
        }
        KeysCommand::Activate(a) => set_status(a, KeyStatus::Active),
        KeysCommand::Deactivate(a) => set_status(a, KeyStatus::Inactive),
        KeysCommand::Delete(a) => {
            Credentials::update(&a.file.credentials, |c| c.delete(&a.user, &a.access_key_id))??;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn set_status(a: KeyArgs, status: KeyStatus) -> anyhow::Result<ExitCode> {
    Credentials::update(&a.file.credentials, |c| {
        c.set_status(&a.user, &a.access_key_id, status)
    })??;
    Ok(ExitCode::SUCCESS)
}
