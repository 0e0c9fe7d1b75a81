//! Reports built from what the account holds and what the sidecar recorded: privilege-escalation
//! paths ([`escalation`]), IAM Access Analyzer's custom checks and external access ([`checks`]),
//! access advisor (what each principal used against what its policies grant) and AWS's credential
//! report (feature `logs`). Pure functions over parsed inputs; `iamlet report` and `iamlet check`
//! read the files.
//!
//! What this crate must not do: run anything beside a workload (it reads logs after the fact), or
//! write anything but its reports.

#![forbid(unsafe_code)]

#[cfg(feature = "logs")]
pub mod access_advisor;
pub mod checks;
#[cfg(feature = "logs")]
pub mod credential_report;
pub mod escalation;
