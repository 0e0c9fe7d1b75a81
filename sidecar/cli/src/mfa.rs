//! `iamlet mfa create|enable|list|code|delete`: users' virtual MFA devices in the credentials file,
//! as `aws iam create-virtual-mfa-device` / `enable-mfa-device` / `list-mfa-devices` /
//! `delete-virtual-mfa-device` (output in their JSON shapes).

use super::keys::{self, find_user, print, FileArg, ListArgs};
use iamlet_auth::{Credentials, MfaStatus};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct MfaArgs {
    #[command(subcommand)]
    command: MfaCommand,
}

#[derive(Debug, clap::Subcommand)]
enum MfaCommand {
    /// Create a pending virtual MFA device for a user of the account export; prints its seed and
    /// otpauth:// URI once, for an authenticator app.
    Create(CreateArgs),
    /// Enable a pending device with two consecutive codes from the app.
    Enable(EnableArgs),
    /// List MFA devices (never their seeds).
    List(ListArgs),
    /// Print a device's current code (what the app shows), for scripts.
    Code(CodeArgs),
    /// Delete a device.
    Delete(DeviceArgs),
}

#[derive(Debug, clap::Args)]
struct CreateArgs {
    #[command(flatten)]
    owner: keys::OwnerArgs,
    /// The device's name (its serial number is `arn:aws:iam::ACCOUNT:mfa/NAME`); the user's name by
    /// default.
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, clap::Args)]
struct DeviceArgs {
    #[command(flatten)]
    file: FileArg,
    /// The device's owner.
    #[arg(long)]
    user: String,
    /// The device (`arn:aws:iam::ACCOUNT:mfa/NAME`).
    #[arg(long, value_name = "ARN")]
    serial_number: String,
}

#[derive(Debug, clap::Args)]
struct EnableArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// A code from the app.
    #[arg(long, value_name = "CODE")]
    authentication_code1: String,
    /// The code the app shows next.
    #[arg(long, value_name = "CODE")]
    authentication_code2: String,
}

#[derive(Debug, clap::Args)]
struct CodeArgs {
    #[command(flatten)]
    file: FileArg,
    /// The device.
    #[arg(long, value_name = "ARN")]
    serial_number: String,
}

pub(crate) fn run(args: MfaArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        MfaCommand::Create(a) => {
            let arn = find_user(&a.owner.user)?;
            let name = a.name.as_deref().unwrap_or(&a.owner.user.user);
            let device = Credentials::update(&a.owner.file.credentials, |c| {
                c.create_mfa_device(&arn, name)
            })??;
            print(&serde_json::json!({ "VirtualMFADevice": {
                "SerialNumber": device.serial_number,
                "Base32StringSeed": device.seed.expose(),
                "OtpauthUri": device.otpauth_uri(),
                "Status": "Pending",
            }}))
        }
        MfaCommand::Enable(a) => {
            Credentials::update(&a.device.file.credentials, |c| {
                c.mfa_device_mut(&a.device.user, &a.device.serial_number)
                    .map_err(anyhow::Error::from)?
                    .enable(
                        &a.authentication_code1,
                        &a.authentication_code2,
                        chrono::Utc::now(),
                    )
                    .map_err(anyhow::Error::from)
            })??;
            Ok(ExitCode::SUCCESS)
        }
        MfaCommand::List(a) => {
            let credentials = Credentials::load(&a.file.credentials)?;
            let devices: Vec<_> = credentials
                .mfa_devices
                .iter()
                .filter(|d| {
                    a.user
                        .as_deref()
                        .is_none_or(|u| iamlet_auth::user_name(&d.user_arn) == u)
                })
                .map(|d| {
                    serde_json::json!({
                        "UserName": iamlet_auth::user_name(&d.user_arn),
                        "SerialNumber": d.serial_number,
                        "EnableDate": d.enable_date,
                        "Status": match d.status { MfaStatus::Enabled => "Enabled", MfaStatus::Pending => "Pending" },
                    })
                })
                .collect();
            print(&serde_json::json!({ "MFADevices": devices }))
        }
        MfaCommand::Code(a) => {
            let credentials = Credentials::load(&a.file.credentials)?;
            let device = credentials
                .mfa_devices
                .iter()
                .find(|d| d.serial_number == a.serial_number)
                .ok_or_else(|| anyhow::anyhow!("no MFA device `{}`", a.serial_number))?;
            let code = device
                .code_at(chrono::Utc::now().timestamp())
                .ok_or_else(|| anyhow::anyhow!("the device's seed is not base32"))?;
            super::write_stdout(&(code + "\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        MfaCommand::Delete(a) => {
            Credentials::update(&a.file.credentials, |c| {
                c.delete_mfa_device(&a.user, &a.serial_number)
            })??;
            Ok(ExitCode::SUCCESS)
        }
    }
}
