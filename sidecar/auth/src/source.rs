//! Where the credentials come from: the credentials file ([`WatchedCredentials`]) or the IAM
//! database (`iamlet-iam-store`). A source keeps the keys, devices and session key in memory, so a
//! signature is verified with no I/O; what must be durable at once (an MFA code used, a device
//! locked) goes through the source, under its lock or in its transaction.
//!
//! [`WatchedCredentials`]: crate::WatchedCredentials

use crate::{Credentials, CredentialsError, MfaError};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One use of a long-term access key, for `GetAccessKeyLastUsed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUse {
    /// The key.
    pub access_key_id: String,
    /// The service its signature's scope names (`iam`, `s3`, `execute-api`).
    pub service: String,
    /// The region its signature's scope names.
    pub region: String,
    /// When (Unix seconds).
    pub at: i64,
}

/// Where keys, MFA devices and the STS session key come from.
pub trait CredentialSource: Send + Sync + fmt::Debug {
    /// The credentials now: what signatures are verified with.
    fn current(&self) -> Arc<Credentials>;

    /// Verifies a code from the user's enabled device `serial` and records the attempt durably (the
    /// step used, or one more refused code towards the device's lock), so a code is good once
    /// across restarts and replicas. The outer error is the source's own failure.
    fn verify_mfa_code<'a>(
        &'a self,
        user_arn: &'a str,
        serial: &'a str,
        code: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Result<(), MfaError>, CredentialsError>>;

    /// A long-term key verified a signature. Sources that report last use record it (batched: a
    /// verification never waits for it); the file does not.
    fn key_used(&self, _use: KeyUse) {}

    /// What it is, for messages.
    fn describe(&self) -> String;
}

impl CredentialSource for crate::WatchedCredentials {
    fn current(&self) -> Arc<Credentials> {
        crate::WatchedCredentials::current(self)
    }

    fn verify_mfa_code<'a>(
        &'a self,
        user_arn: &'a str,
        serial: &'a str,
        code: &'a str,
        now: i64,
    ) -> BoxFuture<'a, Result<Result<(), MfaError>, CredentialsError>> {
        Box::pin(async move {
            Credentials::update(self.path(), |c| {
                c.verify_mfa_code(user_arn, serial, code, now)
            })
        })
    }

    fn describe(&self) -> String {
        format!("the credentials file {}", self.path().display())
    }
}
