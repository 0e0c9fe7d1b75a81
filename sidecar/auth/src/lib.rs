//! Credentials, as IAM keeps them for the people and programs that sign requests: IAM users' access
//! keys (`AKIA…` + a 40-character secret, at most two per user), virtual MFA devices (RFC 6238
//! TOTP), and temporary credentials as sealed STS sessions; and the verification of AWS Signature
//! Version 4 with them.
//!
//! The credentials file (`{"accessKeys": [...], "mfaDevices": [...], "sessionKey": …}`) is kept apart
//! from the account export because it holds secrets: written with mode 0600, refused when group or
//! other may access it, changed only under a lock ([`Credentials::update`]). Ids and secrets have
//! AWS's shapes and come from the system's random number generator.
//!
//! What this crate must not do: run an async runtime, open sockets, or decide access. Its only I/O is
//! the credentials file at the path a caller hands it (read, and written atomically under its lock);
//! a request's signature is checked against what the caller says the request is.

#![forbid(unsafe_code)]

mod authenticator;
mod error;
mod file;
pub mod mfa;
pub mod session;
pub mod sigv4;
mod source;
mod watch;

pub use authenticator::{Authenticator, Caller, OpenedSession};
pub use error::CredentialsError;
pub use mfa::{new_seed, AttemptLimiter, MfaDevice, MfaError, MfaStatus};
pub use session::{Session, SessionKey, TokenError};
pub use source::{BoxFuture, CredentialSource, KeyUse};
pub use watch::WatchedCredentials;

use ring::rand::{SecureRandom as _, SystemRandom};
use serde::{Deserialize, Serialize};
use std::fmt;

/// AWS's limit of access keys per user.
pub const MAX_KEYS_PER_USER: usize = 2;
/// AWS's limit of MFA devices per user.
pub const MAX_MFA_DEVICES_PER_USER: usize = 8;

/// Whether a key may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum KeyStatus {
    /// Requests signed with it are accepted.
    Active,
    /// Requests signed with it are denied (`InvalidAccessKeyId`), as AWS does.
    Inactive,
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        })
    }
}

/// A secret access key. Its `Debug` does not show it, so it cannot reach a log by accident.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret from its text.
    pub fn new(text: String) -> Self {
        Secret(text)
    }

    /// The secret itself, for signing and for printing once at creation.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// One access key of an IAM user.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessKey {
    /// `AKIA…`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// The owner's ARN, path included (`arn:aws:iam::111122223333:user/division/alice`).
    pub user_arn: String,
    /// Active or Inactive.
    pub status: KeyStatus,
    /// When it was created, RFC 3339 in UTC (`2026-11-23T08:30:00Z`).
    pub create_date: String,
}

impl AccessKey {
    /// The owner's name: the last segment of its ARN.
    pub fn user_name(&self) -> &str {
        user_name(&self.user_arn)
    }
}

/// The user name in a user ARN (`arn:aws:iam::1:user/path/alice` → `alice`).
pub fn user_name(user_arn: &str) -> &str {
    user_arn.rsplit('/').next().unwrap_or(user_arn)
}

/// The credentials file's document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Credentials {
    /// Every user's access keys.
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
    /// Every user's virtual MFA devices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mfa_devices: Vec<MfaDevice>,
    /// The key STS session tokens are sealed with (base64 of 32 random bytes); created by the first
    /// `iamlet sts rotate-key` or by `serve` when `[sts]` is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<Secret>,
}

impl Credentials {
    /// The key with this id, whatever its status.
    pub fn key(&self, access_key_id: &str) -> Option<&AccessKey> {
        self.access_keys
            .iter()
            .find(|k| k.access_key_id == access_key_id)
    }

    /// The keys of the users with this name (every user when `None`).
    pub fn keys_of<'a>(&'a self, user: Option<&'a str>) -> impl Iterator<Item = &'a AccessKey> {
        self.access_keys
            .iter()
            .filter(move |k| user.is_none_or(|u| k.user_name() == u))
    }

    /// Creates an active key for the user, unless it already holds two.
    pub fn create_key(
        &mut self,
        user_arn: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<AccessKey, CredentialsError> {
        let held = self
            .access_keys
            .iter()
            .filter(|k| k.user_arn == user_arn)
            .count();
        if held >= MAX_KEYS_PER_USER {
            return Err(CredentialsError::KeyLimit {
                user: user_arn.to_owned(),
            });
        }
        let (access_key_id, secret_access_key) = loop {
            let (id, secret) = new_key_pair()?;
            if self.key(&id).is_none() {
                break (id, secret);
            }
        };
        let key = AccessKey {
            access_key_id,
            secret_access_key,
            user_arn: user_arn.to_owned(),
            status: KeyStatus::Active,
            create_date: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        self.access_keys.push(key.clone());
        Ok(key)
    }

    /// Sets the status of one of the user's keys.
    pub fn set_status(
        &mut self,
        user: &str,
        access_key_id: &str,
        status: KeyStatus,
    ) -> Result<(), CredentialsError> {
        let key = self
            .access_keys
            .iter_mut()
            .find(|k| k.access_key_id == access_key_id && k.user_name() == user)
            .ok_or_else(|| no_such_key(user, access_key_id))?;
        key.status = status;
        Ok(())
    }

    /// Creates a pending virtual MFA device for the user (AWS allows eight per user).
    pub fn create_mfa_device(
        &mut self,
        user_arn: &str,
        name: &str,
    ) -> Result<MfaDevice, CredentialsError> {
        if name.is_empty()
            || name.len() > 128
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
        {
            return Err(CredentialsError::Mfa(format!(
                "device name `{name}` must be 1 to 128 letters, digits or +=,.@_-"
            )));
        }
        let device = MfaDevice::create(user_arn, name)?;
        if self
            .mfa_devices
            .iter()
            .any(|d| d.serial_number == device.serial_number)
        {
            return Err(CredentialsError::Mfa(format!(
                "an MFA device `{}` already exists",
                device.serial_number
            )));
        }
        if self
            .mfa_devices
            .iter()
            .filter(|d| d.user_arn == user_arn)
            .count()
            >= MAX_MFA_DEVICES_PER_USER
        {
            return Err(CredentialsError::Mfa(format!(
                "user `{user_arn}` already has {MAX_MFA_DEVICES_PER_USER} MFA devices"
            )));
        }
        self.mfa_devices.push(device.clone());
        Ok(device)
    }

    /// The user's device with this serial number.
    pub fn mfa_device_mut(
        &mut self,
        user: &str,
        serial: &str,
    ) -> Result<&mut MfaDevice, CredentialsError> {
        self.mfa_devices
            .iter_mut()
            .find(|d| d.serial_number == serial && user_name(&d.user_arn) == user)
            .ok_or_else(|| {
                CredentialsError::Mfa(format!("no MFA device `{serial}` for user `{user}`"))
            })
    }

    /// Deletes one of the user's MFA devices.
    pub fn delete_mfa_device(&mut self, user: &str, serial: &str) -> Result<(), CredentialsError> {
        self.mfa_device_mut(user, serial)?;
        self.mfa_devices
            .retain(|d| !(d.serial_number == serial && user_name(&d.user_arn) == user));
        Ok(())
    }

    /// The key STS sessions are sealed with, if the file has one.
    pub fn session_key(&self) -> Result<Option<SessionKey>, CredentialsError> {
        self.session_key
            .as_ref()
            .map(|s| SessionKey::from_secret(s).map_err(CredentialsError::SessionKey))
            .transpose()
    }

    /// Replaces the session key with a new random one: every session issued so far stops working.
    pub fn rotate_session_key(&mut self) -> Result<(), CredentialsError> {
        self.session_key = Some(SessionKey::generate()?);
        Ok(())
    }

    /// Deletes one of the user's keys.
    pub fn delete(&mut self, user: &str, access_key_id: &str) -> Result<(), CredentialsError> {
        let before = self.access_keys.len();
        self.access_keys
            .retain(|k| !(k.access_key_id == access_key_id && k.user_name() == user));
        if self.access_keys.len() == before {
            return Err(no_such_key(user, access_key_id));
        }
        Ok(())
    }
}

/// A new access key id (`AKIA` and 16 base32 characters) and secret (40 base64 characters), from
/// the system's random number generator: AWS's shapes.
pub fn new_key_pair() -> Result<(String, Secret), CredentialsError> {
    let rng = SystemRandom::new();
    Ok((
        format!("AKIA{}", random_chars(&rng, BASE32, 16)?),
        Secret(random_chars(&rng, BASE64, 40)?),
    ))
}

/// A new unique id of IAM's shape: a four-letter prefix (`AIDA` users, `AGPA` groups, `AROA` roles,
/// `ANPA` policies, `AIPA` instance profiles) and 17 base32 characters.
pub fn new_unique_id(prefix: &str) -> Result<String, CredentialsError> {
    Ok(format!(
        "{prefix}{}",
        random_chars(&SystemRandom::new(), BASE32, 17)?
    ))
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `n` bytes from the system's random number generator.
fn random_bytes(n: usize) -> Result<Vec<u8>, CredentialsError> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CredentialsError::Random)?;
    Ok(bytes)
}

/// [`random_chars`] with a generator of its own.
fn random_key_chars<const N: usize>(
    alphabet: &[u8; N],
    n: usize,
) -> Result<String, CredentialsError> {
    random_chars(&SystemRandom::new(), alphabet, n)
}

/// `n` characters drawn uniformly from an alphabet of 32 or 64 (a power of two, so masking a random
/// byte is unbiased).
fn random_chars<const N: usize>(
    rng: &SystemRandom,
    alphabet: &[u8; N],
    n: usize,
) -> Result<String, CredentialsError> {
    let mut bytes = vec![0u8; n];
    rng.fill(&mut bytes).map_err(|_| CredentialsError::Random)?;
    Ok(bytes
        .iter()
        .filter_map(|b| alphabet.get(usize::from(*b) % N).map(|c| char::from(*c)))
        .collect())
}

fn no_such_key(user: &str, access_key_id: &str) -> CredentialsError {
    CredentialsError::NoSuchKey {
        access_key_id: access_key_id.to_owned(),
        user: user.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
    const BOB: &str = "arn:aws:iam::111122223333:user/ops/bob";

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-11-23T08:30:00Z")
            .unwrap()
            .to_utc()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("iamlet-cred-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn keys_have_aws_shapes_and_differ() {
        let mut c = Credentials::default();
        let a = c.create_key(ALICE, now()).unwrap();
        let b = c.create_key(ALICE, now()).unwrap();
        for k in [&a, &b] {
            assert_eq!(k.access_key_id.len(), 20);
            assert!(k.access_key_id.starts_with("AKIA"));
            assert!(k.access_key_id[4..]
                .bytes()
                .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c)));
            let s = k.secret_access_key.expose();
            assert_eq!(s.len(), 40);
            assert!(s
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/'));
            assert_eq!(k.status, KeyStatus::Active);
            assert_eq!(k.create_date, "2026-11-23T08:30:00Z");
            assert_eq!(k.user_name(), "alice");
        }
        assert_ne!(a.access_key_id, b.access_key_id);
        assert_ne!(a.secret_access_key, b.secret_access_key);
    }

    #[test]
    fn at_most_two_keys_per_user() {
        let mut c = Credentials::default();
        c.create_key(ALICE, now()).unwrap();
        let second = c.create_key(ALICE, now()).unwrap();
        let e = c.create_key(ALICE, now()).unwrap_err();
        assert!(matches!(e, CredentialsError::KeyLimit { .. }), "{e}");
        c.create_key(BOB, now()).unwrap();
        c.delete("alice", &second.access_key_id).unwrap();
        c.create_key(ALICE, now()).unwrap();
    }

    #[test]
    fn deactivate_and_delete_need_the_owner() {
        let mut c = Credentials::default();
        let k = c.create_key(BOB, now()).unwrap();
        let e = c
            .set_status("alice", &k.access_key_id, KeyStatus::Inactive)
            .unwrap_err();
        assert!(matches!(e, CredentialsError::NoSuchKey { .. }), "{e}");
        c.set_status("bob", &k.access_key_id, KeyStatus::Inactive)
            .unwrap();
        assert_eq!(c.key(&k.access_key_id).unwrap().status, KeyStatus::Inactive);
        assert!(c.delete("alice", &k.access_key_id).is_err());
        c.delete("bob", &k.access_key_id).unwrap();
        assert!(c.key(&k.access_key_id).is_none());
        assert_eq!(c.keys_of(None).count(), 0);
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let mut c = Credentials::default();
        let k = c.create_key(ALICE, now()).unwrap();
        let debug = format!("{c:?}");
        assert!(!debug.contains(k.secret_access_key.expose()), "{debug}");
        assert!(debug.contains(&k.access_key_id));
    }

    #[cfg(unix)]
    #[test]
    fn saved_with_mode_0600_and_loose_files_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = temp_dir("mode");
        let path = dir.join("credentials.json");
        assert_eq!(Credentials::load(&path).unwrap(), Credentials::default());
        let mut c = Credentials::default();
        c.create_key(ALICE, now()).unwrap();
        c.save(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(Credentials::load(&path).unwrap(), c);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Credentials::load(&path).unwrap_err();
        assert!(
            matches!(e, CredentialsError::LoosePermissions { mode: 0o644, .. }),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_broken_file_names_the_field() {
        let dir = temp_dir("format");
        let path = dir.join("credentials.json");
        let mut c = Credentials::default();
        c.create_key(ALICE, now()).unwrap();
        c.save(&path).unwrap();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"Active\"", "\"Enabled\"");
        std::fs::write(&path, text).unwrap();
        let e = Credentials::load(&path).unwrap_err().to_string();
        assert!(e.contains("accessKeys[0].status"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
