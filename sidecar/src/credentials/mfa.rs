//! Virtual MFA devices: a TOTP seed per device (RFC 6238: HMAC-SHA1, 30-second steps, six digits, as
//! AWS's virtual MFA and every authenticator app use), kept in the credentials file beside the
//! access keys. A device is created pending and enabled by two consecutive codes, as
//! `aws iam enable-mfa-device` requires; only enabled devices authenticate. A code is accepted one
//! step either side of now (clock drift) and, as AWS does, not twice.

use super::{random_bytes, CredentialsError, Secret};
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;

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
}

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
}

impl MfaDevice {
    /// A new pending device for a user, with a fresh random seed.
    pub fn create(user_arn: &str, name: &str) -> Result<MfaDevice, CredentialsError> {
        let account = user_arn.split(':').nth(4).unwrap_or_default();
        Ok(MfaDevice {
            serial_number: format!("arn:aws:iam::{account}:mfa/{name}"),
            user_arn: user_arn.to_owned(),
            seed: Secret(base32_encode(&random_bytes(SEED_BYTES)?)),
            status: MfaStatus::Pending,
            enable_date: None,
        })
    }

    /// The `otpauth://` URI authenticator apps import (as a QR code or pasted).
    pub fn otpauth_uri(&self) -> String {
        let name = self.serial_number.rsplit('/').next().unwrap_or_default();
        let account = self.serial_number.split(':').nth(4).unwrap_or_default();
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

/// The last step each device's code was accepted for, so a code cannot be replayed. Kept in memory:
/// a restart forgets it, and a code is only ever valid for about 90 seconds.
#[derive(Debug, Default)]
pub struct UsedCodes(Mutex<HashMap<String, i64>>);

impl UsedCodes {
    /// Verifies `code` from the user's enabled device `serial` and records its step.
    pub fn verify(
        &self,
        devices: &[MfaDevice],
        user_arn: &str,
        serial: &str,
        code: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), MfaError> {
        let device = devices
            .iter()
            .find(|d| {
                d.serial_number == serial
                    && d.user_arn == user_arn
                    && d.status == MfaStatus::Enabled
            })
            .ok_or_else(|| MfaError::NoDevice {
                serial: serial.to_owned(),
            })?;
        let step = device
            .matching_step(code, now.timestamp())
            .ok_or(MfaError::InvalidCode)?;
        let mut used = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match used.get(serial) {
            Some(last) if *last >= step => Err(MfaError::Reused),
            _ => {
                used.insert(serial.to_owned(), step);
                Ok(())
            }
        }
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

        let used = UsedCodes::default();
        let devices = [d.clone()];
        used.verify(&devices, &d.user_arn, &d.serial_number, &code, at(t))
            .unwrap();
        assert_eq!(
            used.verify(&devices, &d.user_arn, &d.serial_number, &code, at(t)),
            Err(MfaError::Reused)
        );
        let next = d.code_at(t + 30).unwrap();
        used.verify(&devices, &d.user_arn, &d.serial_number, &next, at(t + 30))
            .unwrap();
        let e = used
            .verify(
                &devices,
                "arn:aws:iam::111122223333:user/alice",
                &d.serial_number,
                &next,
                at(t + 30),
            )
            .unwrap_err();
        assert!(matches!(e, MfaError::NoDevice { .. }), "{e}");
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
        let e = UsedCodes::default()
            .verify(
                &[d.clone()],
                &d.user_arn,
                &d.serial_number,
                &code,
                at(1_000),
            )
            .unwrap_err();
        assert!(matches!(e, MfaError::NoDevice { .. }));
    }
}
