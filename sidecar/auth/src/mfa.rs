//! Virtual MFA devices: a TOTP seed per device (RFC 6238: HMAC-SHA1, 30-second steps, six digits, as
//! AWS's virtual MFA and every authenticator app use), kept in the credentials file beside the
//! access keys. A device is created pending and enabled by two consecutive codes, as
//! `aws iam enable-mfa-device` requires; only enabled devices authenticate. A code is accepted one
//! step either side of now (clock drift) and, as AWS does, not twice.

use super::{random_bytes, CredentialsError, Secret};
use iamlet_engine::Arn;
use lru::LruCache;
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

/// Seconds per TOTP step.
pub const STEP_SECONDS: i64 = 30;
/// Seed length in bytes (160 bits, RFC 4226's recommendation and AWS's).
const SEED_BYTES: usize = 20;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Whether a device authenticates yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum MfaStatus {
    /// Created; waiting for two consecutive codes.
    Pending,
    /// Codes from it authenticate its user.
    Enabled,
}

/// One virtual MFA device.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MfaDevice {
    /// `arn:aws:iam::ACCOUNT:mfa/NAME`, what `--serial-number` names.
    pub serial_number: String,
    /// The owner's ARN.
    pub user_arn: String,
    /// The TOTP seed, base32 (what authenticator apps read).
    pub seed: Secret,
    /// Pending or Enabled.
    pub status: MfaStatus,
    /// When it was enabled, RFC 3339 in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_date: Option<String>,
    /// The last TOTP step a code was accepted for: no code of that step or an earlier one is
    /// accepted again — across restarts, and across every replica sharing this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_step: Option<i64>,
    /// Codes refused in a row (reset by an accepted one).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_attempts: u32,
    /// Until when (Unix seconds) the device accepts no code at all, after too many refused ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<i64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Codes refused in a row before a device locks.
pub const MAX_FAILED_ATTEMPTS: u32 = 5;
/// The first lock's length; each further run of refused codes doubles it, up to [`MAX_LOCK_SECONDS`].
pub const FIRST_LOCK_SECONDS: i64 = 5 * 60;
/// The longest a device stays locked.
pub const MAX_LOCK_SECONDS: i64 = 3600;

/// Why a code was refused. The messages are AWS's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MfaError {
    /// No enabled device with this serial number belongs to the user.
    #[error("MultiFactorAuthentication failed: no enabled MFA device `{serial}` for this user")]
    NoDevice {
        /// The serial number asked for.
        serial: String,
    },
    /// The code is not six digits or does not match.
    #[error("MultiFactorAuthentication failed with invalid MFA one time pass code")]
    InvalidCode,
    /// The code was already used.
    #[error("MultiFactorAuthentication failed: the one time pass code was already used")]
    Reused,
    /// Too many codes were refused: the device accepts none until the lock ends.
    #[error("MultiFactorAuthentication failed: too many invalid codes; the MFA device is locked until {}", rfc3339(*until))]
    Locked {
        /// The end of the lock, Unix seconds.
        until: i64,
    },
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl MfaError {
    /// A short name for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            MfaError::NoDevice { .. } => "no_device",
            MfaError::InvalidCode => "invalid",
            MfaError::Reused => "reused",
            MfaError::Locked { .. } => "locked",
        }
    }
}

impl MfaDevice {
    /// A new pending device for a user, with a fresh random seed.
    pub fn create(user_arn: &str, name: &str) -> Result<MfaDevice, CredentialsError> {
        let (partition, account) =
            Arn::parse(user_arn).map_or(("aws", ""), |a| (a.partition, a.account));
        Ok(MfaDevice {
            serial_number: format!("arn:{partition}:iam::{account}:mfa/{name}"),
            user_arn: user_arn.to_owned(),
            seed: new_seed()?,
            status: MfaStatus::Pending,
            enable_date: None,
            last_used_step: None,
            failed_attempts: 0,
            locked_until: None,
        })
    }

    /// Checks a code from this (enabled) device at `now` and records the attempt: an accepted code
    /// marks its step used and clears the failures; a refused one counts, and the
    /// [`MAX_FAILED_ATTEMPTS`]th in a row locks the device (five minutes, doubling with each
    /// further run, up to an hour). A locked device refuses every code without looking at it.
    pub fn attempt(&mut self, code: &str, now: i64) -> Result<(), MfaError> {
        if let Some(until) = self.locked_until.filter(|u| *u > now) {
            return Err(MfaError::Locked { until });
        }
        let refused = match self.matching_step(code, now) {
            None => MfaError::InvalidCode,
            Some(step) if self.last_used_step.is_some_and(|last| step <= last) => MfaError::Reused,
            Some(step) => {
                self.last_used_step = Some(step);
                self.failed_attempts = 0;
                self.locked_until = None;
                return Ok(());
            }
        };
        self.failed_attempts = self.failed_attempts.saturating_add(1);
        if self.failed_attempts.is_multiple_of(MAX_FAILED_ATTEMPTS) {
            let runs = self.failed_attempts / MAX_FAILED_ATTEMPTS;
            let seconds = FIRST_LOCK_SECONDS
                .saturating_mul(1 << (runs - 1).min(8))
                .min(MAX_LOCK_SECONDS);
            self.locked_until = Some(now + seconds);
        }
        Err(refused)
    }

    /// The `otpauth://` URI authenticator apps import (as a QR code or pasted).
    pub fn otpauth_uri(&self) -> String {
        let name = self.serial_number.rsplit('/').next().unwrap_or_default();
        let account = Arn::parse(&self.serial_number).map_or("", |a| a.account);
        format!(
            "otpauth://totp/Iamlet:{name}@{account}?secret={}&issuer=Iamlet",
            self.seed.expose()
        )
    }

    /// The code for a time (what an authenticator app shows).
    pub fn code_at(&self, unix: i64) -> Option<String> {
        let seed = base32_decode(self.seed.expose())?;
        Some(format!("{:06}", totp(&seed, unix.div_euclid(STEP_SECONDS))))
    }

    /// The step a code belongs to, looking one step either side of `unix`; `None` if it matches none.
    pub fn matching_step(&self, code: &str, unix: i64) -> Option<i64> {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let want: u32 = code.parse().ok()?;
        let seed = base32_decode(self.seed.expose())?;
        let now = unix.div_euclid(STEP_SECONDS);
        // Compare every candidate so the time taken does not tell which step matched.
        let mut found = None;
        for step in [now - 1, now, now + 1] {
            if totp(&seed, step) == want && found.is_none() {
                found = Some(step);
            }
        }
        found
    }

    /// Enables a pending device with two consecutive codes.
    pub fn enable(
        &mut self,
        code1: &str,
        code2: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), MfaError> {
        // The two codes may be a few steps old (typed one after the other): look back ten minutes.
        let seed = base32_decode(self.seed.expose()).ok_or(MfaError::InvalidCode)?;
        let current = now.timestamp().div_euclid(STEP_SECONDS);
        let format_ok = |c: &str| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit());
        if !format_ok(code1) || !format_ok(code2) {
            return Err(MfaError::InvalidCode);
        }
        let consecutive = (current - 20..=current).any(|step| {
            format!("{:06}", totp(&seed, step)) == code1
                && format!("{:06}", totp(&seed, step + 1)) == code2
        });
        if !consecutive {
            return Err(MfaError::InvalidCode);
        }
        self.status = MfaStatus::Enabled;
        self.enable_date = Some(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        Ok(())
    }
}

/// A new random TOTP seed (160 bits), base32 as authenticator apps read it.
pub fn new_seed() -> Result<Secret, CredentialsError> {
    Ok(Secret(base32_encode(&random_bytes(SEED_BYTES)?)))
}

/// RFC 6238 TOTP with HMAC-SHA1 and six digits (RFC 4226's dynamic truncation).
fn totp(seed: &[u8], step: i64) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed);
    let mac = hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let word = mac
        .get(offset..offset + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    (word & 0x7fff_ffff) % 1_000_000
}

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// RFC 4648 base32, case-insensitive, padding and spaces ignored (as apps display seeds).
fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let v = BASE32.iter().position(|a| *a == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | v as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
        buffer &= (1 << bits) - 1;
    }
    Some(out)
}

/// Refused MFA codes per access key in fixed one-minute windows: past [`MAX_REFUSED_PER_KEY`] a key is
/// throttled before any code is looked at, whichever of its user's devices it names. Kept in memory
/// per process; the device's lock, in the file, is what holds across restarts and replicas.
#[derive(Debug)]
pub struct AttemptLimiter(Mutex<LruCache<String, (i64, u32)>>);

/// Refused codes per access key and minute before the key is throttled.
pub const MAX_REFUSED_PER_KEY: u32 = 10;
const LIMITER_WINDOW_SECONDS: i64 = 60;
/// Keys tracked at once (the least recently refused are forgotten first).
const LIMITER_KEYS: usize = 10_000;

impl Default for AttemptLimiter {
    fn default() -> Self {
        AttemptLimiter(Mutex::new(LruCache::new(
            NonZeroUsize::new(LIMITER_KEYS).unwrap_or(NonZeroUsize::MIN),
        )))
    }
}

impl AttemptLimiter {
    /// Whether `key` may try a code at `now`.
    pub fn allows(&self, key: &str, now: i64) -> bool {
        let mut windows = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.get(key) {
            Some((start, refused)) if now - start < LIMITER_WINDOW_SECONDS => {
                *refused < MAX_REFUSED_PER_KEY
            }
            _ => true,
        }
    }

    /// Counts a refused code of `key` at `now`.
    pub fn refused(&self, key: &str, now: i64) {
        let mut windows = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.get_mut(key) {
            Some((start, refused)) if now - *start < LIMITER_WINDOW_SECONDS => {
                *refused = refused.saturating_add(1);
            }
            _ => {
                windows.put(key.to_owned(), (now, 1));
            }
        }
    }
}

impl super::Credentials {
    /// Verifies a code from the user's enabled device `serial` and records the attempt in the
    /// device (see [`MfaDevice::attempt`]); run it inside [`Credentials::update`] so that the
    /// record reaches the file, for every replica.
    ///
    /// [`Credentials::update`]: super::Credentials::update
    pub fn verify_mfa_code(
        &mut self,
        user_arn: &str,
        serial: &str,
        code: &str,
        now: i64,
    ) -> Result<(), MfaError> {
        let device = self
            .mfa_devices
            .iter_mut()
            .find(|d| {
                d.serial_number == serial
                    && d.user_arn == user_arn
                    && d.status == MfaStatus::Enabled
            })
            .ok_or_else(|| MfaError::NoDevice {
                serial: serial.to_owned(),
            })?;
        device.attempt(code, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: i64) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(unix, 0).unwrap()
    }

    fn device(seed: &[u8]) -> MfaDevice {
        MfaDevice {
            serial_number: "arn:aws:iam::111122223333:mfa/bob".into(),
            user_arn: "arn:aws:iam::111122223333:user/bob".into(),
            seed: Secret(base32_encode(seed)),
            status: MfaStatus::Enabled,
            enable_date: None,
            last_used_step: None,
            failed_attempts: 0,
            locked_until: None,
        }
    }

    fn credentials(d: &MfaDevice) -> crate::Credentials {
        crate::Credentials {
            mfa_devices: vec![d.clone()],
            ..Default::default()
        }
    }

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B (SHA1 seed "12345678901234567890"), last six digits.
        let d = device(b"12345678901234567890");
        for (t, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(d.code_at(t).unwrap(), code, "t = {t}");
        }
    }

    #[test]
    fn base32_round_trips_and_reads_what_apps_show() {
        for len in 0..=21 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base32_decode(&base32_encode(&bytes)).unwrap(), bytes);
        }
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert!(base32_decode("MZ1W").is_none());
    }

    #[test]
    fn codes_match_one_step_either_side_and_not_twice() {
        let d = device(b"12345678901234567890");
        let t = 1_111_111_111;
        let code = d.code_at(t).unwrap();
        assert!(d.matching_step(&code, t + 29).is_some());
        assert!(d.matching_step(&code, t - 31).is_some());
        assert!(d.matching_step(&code, t + 95).is_none());
        assert!(d.matching_step("12345", t).is_none());
        assert!(d.matching_step("abcdef", t).is_none());

        let mut c = credentials(&d);
        c.verify_mfa_code(&d.user_arn, &d.serial_number, &code, t)
            .unwrap();
        assert_eq!(
            c.verify_mfa_code(&d.user_arn, &d.serial_number, &code, t),
            Err(MfaError::Reused)
        );
        let next = d.code_at(t + 30).unwrap();
        c.verify_mfa_code(&d.user_arn, &d.serial_number, &next, t + 30)
            .unwrap();
        let e = c
            .verify_mfa_code(
                "arn:aws:iam::111122223333:user/alice",
                &d.serial_number,
                &next,
                t + 30,
            )
            .unwrap_err();
        assert!(matches!(e, MfaError::NoDevice { .. }), "{e}");
    }

    /// Found by the security review: wrong codes were answered without limit (2,000 in under five
    /// seconds). Five refused codes in a row lock the device; the lock doubles with each further
    /// run; a right code during a lock is refused without being looked at; after the lock a right
    /// code works and clears the count.
    #[test]
    fn refused_codes_lock_the_device() {
        let mut d = device(b"12345678901234567890");
        let t = 1_700_000_000;
        let right = d.code_at(t).unwrap();
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        for i in 1..MAX_FAILED_ATTEMPTS {
            assert_eq!(d.attempt(wrong, t), Err(MfaError::InvalidCode), "{i}");
            assert_eq!(d.locked_until, None);
        }
        assert_eq!(d.attempt(wrong, t), Err(MfaError::InvalidCode));
        assert_eq!(d.locked_until, Some(t + FIRST_LOCK_SECONDS));
        assert_eq!(
            d.attempt(&right, t + 10),
            Err(MfaError::Locked {
                until: t + FIRST_LOCK_SECONDS
            })
        );
        // The next run of refusals locks twice as long.
        let later = t + FIRST_LOCK_SECONDS;
        for _ in 0..MAX_FAILED_ATTEMPTS {
            let _ = d.attempt(wrong, later);
        }
        assert_eq!(d.locked_until, Some(later + 2 * FIRST_LOCK_SECONDS));
        // Never more than an hour.
        let mut now = later;
        for _ in 0..10 {
            now = d.locked_until.unwrap();
            for _ in 0..MAX_FAILED_ATTEMPTS {
                let _ = d.attempt(wrong, now);
            }
        }
        assert_eq!(d.locked_until, Some(now + MAX_LOCK_SECONDS));
        let after = d.locked_until.unwrap();
        let code = d.code_at(after).unwrap();
        d.attempt(&code, after).unwrap();
        assert_eq!((d.failed_attempts, d.locked_until), (0, None));
    }

    #[test]
    fn a_key_is_throttled_after_ten_refused_codes_a_minute() {
        let limiter = AttemptLimiter::default();
        for _ in 0..MAX_REFUSED_PER_KEY {
            assert!(limiter.allows("AKIA1", 100));
            limiter.refused("AKIA1", 100);
        }
        assert!(!limiter.allows("AKIA1", 159));
        assert!(limiter.allows("AKIA2", 159), "per key");
        assert!(limiter.allows("AKIA1", 160), "a new window");
    }

    /// Found by the security review: used codes were remembered per process, so a restart or a
    /// second replica accepted a code again. The step is recorded in the device, in the file.
    #[test]
    fn a_used_code_stays_used_through_the_file() {
        let d = device(b"12345678901234567890");
        let dir = std::env::temp_dir().join(format!("iamlet-mfa-file-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials.json");
        credentials(&d).save(&path).unwrap();
        let t = chrono::Utc::now().timestamp();
        let code = d.code_at(t).unwrap();
        let verify = || {
            crate::Credentials::update(&path, |c| {
                c.verify_mfa_code(&d.user_arn, &d.serial_number, &code, t)
            })
            .unwrap()
        };
        verify().unwrap();
        // Another process (a fresh read of the file) refuses the same code.
        assert_eq!(verify(), Err(MfaError::Reused));
        let stored = crate::Credentials::load(&path).unwrap();
        assert_eq!(stored.mfa_devices[0].failed_attempts, 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_device_is_enabled_by_two_consecutive_codes_only() {
        let mut d = MfaDevice::create("arn:aws:iam::111122223333:user/bob", "bob").unwrap();
        assert_eq!(d.serial_number, "arn:aws:iam::111122223333:mfa/bob");
        assert_eq!(d.status, MfaStatus::Pending);
        assert_eq!(base32_decode(d.seed.expose()).unwrap().len(), SEED_BYTES);
        assert!(d
            .otpauth_uri()
            .starts_with("otpauth://totp/Iamlet:bob@111122223333?secret="));
        let t = 1_800_000_000;
        let (c1, c2, c3) = (
            d.code_at(t - 60).unwrap(),
            d.code_at(t - 30).unwrap(),
            d.code_at(t).unwrap(),
        );
        assert_eq!(d.enable(&c1, &c3, at(t)), Err(MfaError::InvalidCode));
        assert_eq!(d.status, MfaStatus::Pending);
        d.enable(&c1, &c2, at(t)).unwrap();
        assert_eq!(d.status, MfaStatus::Enabled);
        assert_eq!(d.enable_date.as_deref(), Some("2027-01-15T08:00:00Z"));
    }

    #[test]
    fn pending_devices_do_not_authenticate() {
        let mut d = device(b"12345678901234567890");
        d.status = MfaStatus::Pending;
        let code = d.code_at(1_000).unwrap();
        let e = credentials(&d)
            .verify_mfa_code(&d.user_arn, &d.serial_number, &code, 1_000)
            .unwrap_err();
        assert!(matches!(e, MfaError::NoDevice { .. }));
    }
}
