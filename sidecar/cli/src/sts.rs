//! `iamlet sts rotate-key`: the key STS session tokens are sealed with.

use super::keys::FileArg;
use iamlet_auth::Credentials;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct StsArgs {
    #[command(subcommand)]
    command: StsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum StsCommand {
    /// Make a new key for sealing STS session tokens: every session issued so far stops working
    /// (sidecars pick the file up within their poll interval).
    RotateKey(FileArg),
}

pub(crate) fn run(args: StsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        StsCommand::RotateKey(file) => {
            Credentials::update(&file.credentials, Credentials::rotate_session_key)??;
            Ok(ExitCode::SUCCESS)
        }
    }
}
