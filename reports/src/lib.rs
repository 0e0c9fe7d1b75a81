//! Reports built from what the sidecar recorded and what the account holds: access advisor (what
//! each principal used against what its policies grant) and AWS's credential report. Pure functions
//! over parsed inputs; `iamlet report` reads the files.

pub mod access_advisor;
pub mod credentials;
