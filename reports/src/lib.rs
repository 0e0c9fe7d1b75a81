//! Reports built from what the sidecar recorded and what the account holds: access advisor (what
//! each principal used against what its policies grant) and AWS's credential report. Pure functions
//! over parsed inputs; `iamlet report` reads the files.
//!
//! What this crate must not do: run anything beside a workload (it reads logs after the fact), or
//! write anything but its reports.

#![forbid(unsafe_code)]

pub mod access_advisor;
pub mod checks;
pub mod credential_report;
pub mod escalation;
