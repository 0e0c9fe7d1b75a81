//! The credentials store's errors. None of them carries a secret access key.

use std::path::PathBuf;

/// Why the credentials file could not be read, written or changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The file could not be read or written.
    #[error("credentials file `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Group or other users may read or write the file (as `ssh` refuses a loose private key).
    #[error("credentials file `{path}` has mode {mode:o}: it holds secrets, so group and other must have no access (chmod 600)")]
    LoosePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a credentials document.
    #[error("credentials file `{path}`: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// The JSON path and what is wrong.
        message: String,
    },
    /// The user already holds two access keys (AWS's limit).
    #[error("user `{user}` already has 2 access keys: delete one first")]
    KeyLimit {
        /// The user's ARN.
        user: String,
    },
    /// No key with this id belongs to the user.
    #[error("no access key `{access_key_id}` for user `{user}`")]
    NoSuchKey {
        /// The access key id.
        access_key_id: String,
        /// The user's name.
        user: String,
    },
    /// An MFA device could not be created, found or enabled.
    #[error("{0}")]
    Mfa(String),
    /// The stored session key is unusable.
    #[error("credentials file: {0} (run `iamlet sts rotate-key` to make a new one)")]
    SessionKey(String),
    /// A session could not be sealed into a token.
    #[error("sealing the session token failed")]
    Seal,
    /// A thread panicked while holding the reload lock.
    #[error("the credentials reload lock is poisoned")]
    Poisoned,
    /// The system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}
