//! `iamlet check`: IAM Access Analyzer's custom policy checks, offline — `access-not-granted`,
//! `no-public-access`, `no-new-access` — answering as AWS does (`result`, `message`, `reasons`),
//! exit 1 on FAIL. The checks are `iamlet_reports::checks`.

use super::{write_stdout, Format};
use anyhow::Context as _;
use iamlet_engine::catalog::Catalog;
use iamlet_reports::checks::{self, AccessCheckPolicyType, CheckResponse, CheckResult};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    #[command(subcommand)]
    which: Which,
}

#[derive(Debug, clap::Subcommand)]
enum Which {
    /// CheckAccessNotGranted: FAIL when the policy might grant one of the actions (on one of the
    /// resources, when given).
    AccessNotGranted(NotGrantedArgs),
    /// CheckNoPublicAccess: FAIL when the resource policy grants public access for the type.
    NoPublicAccess(PublicArgs),
    /// CheckNoNewAccess: FAIL when NEW allows a request EXISTING did not.
    NoNewAccess(NewAccessArgs),
}

#[derive(Debug, clap::Args)]
struct NotGrantedArgs {
    /// Actions that must not be granted (`s3:PutObject`, `iam:*`…): repeat the option or separate
    /// them with commas.
    #[arg(long, value_delimiter = ',', value_name = "ACTION")]
    actions: Vec<String>,
    /// Resources they must not be granted on (ARNs; wildcards in the resource id): repeat the option
    /// or separate them with commas.
    #[arg(long, value_delimiter = ',', value_name = "ARN")]
    resources: Vec<String>,
    /// `IDENTITY_POLICY` or `RESOURCE_POLICY` (trust policies are resource policies).
    #[arg(long, default_value = "IDENTITY_POLICY")]
    policy_type: String,
    /// Output: PASS/FAIL with the reasons, or AWS's response JSON.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The policy document (`-` for standard input).
    policy: PathBuf,
}

#[derive(Debug, clap::Args)]
struct PublicArgs {
    /// AWS's resource type: `AWS::S3::Bucket`, `AWS::KMS::Key`, `AWS::SQS::Queue`,
    /// `AWS::IAM::AssumeRolePolicyDocument`… (every `AccessCheckResourceType`).
    #[arg(long)]
    resource_type: String,
    /// Output: PASS/FAIL with the reasons, or AWS's response JSON.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The resource policy (`-` for standard input).
    policy: PathBuf,
}

#[derive(Debug, clap::Args)]
struct NewAccessArgs {
    /// `IDENTITY_POLICY` or `RESOURCE_POLICY` (trust policies are resource policies).
    #[arg(long, default_value = "IDENTITY_POLICY")]
    policy_type: String,
    /// Output: PASS/FAIL with the reasons, or AWS's response JSON.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// The existing policy.
    existing: PathBuf,
    /// The new policy.
    new: PathBuf,
}

fn read(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        return Ok(s);
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn print(response: &CheckResponse, format: Format) -> anyhow::Result<ExitCode> {
    let out = match format {
        Format::Json => serde_json::to_string_pretty(response)? + "\n",
        Format::Text => {
            let mut s = String::new();
            let result = match response.result {
                CheckResult::Pass => "PASS",
                CheckResult::Fail => "FAIL",
            };
            let _ = writeln!(s, "{result}: {}", response.message);
            for r in &response.reasons {
                let _ = writeln!(s, "  - {}", r.description);
            }
            s
        }
    };
    write_stdout(&out)?;
    Ok(match response.result {
        CheckResult::Pass => ExitCode::SUCCESS,
        CheckResult::Fail => ExitCode::from(1),
    })
}

pub(crate) fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    match args.which {
        Which::AccessNotGranted(a) => {
            let ty: AccessCheckPolicyType = a.policy_type.parse()?;
            let doc = read(&a.policy)?;
            let r = checks::access_not_granted(&doc, ty, &a.actions, &a.resources)
                .with_context(|| a.policy.display().to_string())?;
            print(&r, a.format)
        }
        Which::NoPublicAccess(a) => {
            let ty: checks::ResourceType = a.resource_type.parse()?;
            let doc = read(&a.policy)?;
            let r = checks::no_public_access(&doc, ty)
                .with_context(|| a.policy.display().to_string())?;
            print(&r, a.format)
        }
        Which::NoNewAccess(a) => {
            let ty: AccessCheckPolicyType = a.policy_type.parse()?;
            let existing = read(&a.existing)?;
            let new = read(&a.new)?;
            let r = checks::no_new_access(&existing, &new, ty, Catalog::embedded())?;
            print(&r, a.format)
        }
    }
}
