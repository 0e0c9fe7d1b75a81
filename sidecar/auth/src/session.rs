//! Temporary credentials (STS `AssumeRole`, `GetSessionToken`): an `ASIA…` access key id, a secret
//! and a session token, valid until they expire.
//!
//! The session token *is* the session: its principal, expiry, MFA time, session policy and tags and
//! its secret, sealed with ChaCha20-Poly1305 under the credentials file's session key, the access
//! key id bound in as associated data. So the sidecar keeps no session table, every replica sharing
//! the credentials file accepts every session, and a token cannot be altered or moved to another
//! key id without the seal failing. Rotating the session key (`iamlet sts rotate-key`) ends every
//! session.

use super::{random_bytes, random_key_chars, CredentialsError, Secret, BASE32, BASE64};
use base64::Engine as _;
use ring::aead;
use serde::{Deserialize, Serialize};

/// What session access key ids begin with, as AWS's temporary ones do.
pub const ACCESS_KEY_PREFIX: &str = "ASIA";
/// The format byte at the start of every token.
const VERSION: u8 = 1;
const KEY_BYTES: usize = 32;

/// What a session is, sealed in its token.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Session {
    /// The principal: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, or the IAM user's ARN for a
    /// `GetSessionToken` session.
    pub arn: String,
    /// The role with its path, for role sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The long-term IAM user behind the session (`GetSessionToken`), for MFA devices and chaining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_arn: Option<String>,
    /// Issued at, Unix seconds.
    pub issued_at: i64,
    /// Expires at, Unix seconds.
    pub expires_at: i64,
    /// When an MFA code was verified for this session (or the one it was created from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_authenticated_at: Option<i64>,
    /// The inline session policy (JSON), if one was passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Session tags, in the order given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// The tag keys that pass on to sessions this one creates (role chaining).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    /// `SourceIdentity`, set once and carried through role chaining.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// The identity provider that federated the session (`AssumeRoleWithWebIdentity`): its ARN,
    /// `aws:FederatedProvider` of the session's requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated_provider: Option<String>,
    /// The session's secret access key.
    pub secret: Secret,
}

/// Temporary credentials as STS returns them.
#[derive(Clone, Debug)]
pub struct Issued {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The session's secret access key.
    pub secret_access_key: Secret,
    /// The sealed session.
    pub session_token: Secret,
}

/// Why a session token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token sealed with this key for this access key id (also: the key was rotated).
    #[error("the security token included in the request is invalid")]
    Invalid,
    /// Past its expiry.
    #[error("the security token included in the request is expired")]
    Expired,
}

/// The key sessions are sealed with.
pub struct SessionKey(aead::LessSafeKey);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(…)")
    }
}

impl SessionKey {
    /// A fresh random key, base64 (what the credentials file stores).
    pub fn generate() -> Result<Secret, CredentialsError> {
        Ok(Secret(
            base64::engine::general_purpose::STANDARD.encode(random_bytes(KEY_BYTES)?),
        ))
    }

    /// The key stored in the credentials file.
    pub fn from_secret(secret: &Secret) -> Result<SessionKey, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(secret.expose())
            .map_err(|e| format!("sessionKey is not base64: {e}"))?;
        let key = aead::UnboundKey::new(&aead::CHACHA20_POLY1305, &bytes)
            .map_err(|_| format!("sessionKey must be {KEY_BYTES} bytes, not {}", bytes.len()))?;
        Ok(SessionKey(aead::LessSafeKey::new(key)))
    }

    /// Creates credentials for a session: a new access key id and secret, and the sealed token.
    /// `session.secret` is replaced by the new secret.
    pub fn issue(&self, mut session: Session) -> Result<(Issued, Session), CredentialsError> {
        let access_key_id = format!("{ACCESS_KEY_PREFIX}{}", random_key_chars(BASE32, 16)?);
        session.secret = Secret(random_key_chars(BASE64, 40)?);
        let plain = serde_json::to_vec(&session).map_err(|_| CredentialsError::Seal)?;
        let nonce_bytes: [u8; aead::NONCE_LEN] = random_bytes(aead::NONCE_LEN)?
            .try_into()
            .map_err(|_| CredentialsError::Random)?;
        let mut sealed = plain;
        self.0
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce_bytes),
                aead::Aad::from(access_key_id.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| CredentialsError::Seal)?;
        let mut token = Vec::with_capacity(1 + aead::NONCE_LEN + sealed.len());
        token.push(VERSION);
        token.extend_from_slice(&nonce_bytes);
        token.extend_from_slice(&sealed);
        let issued = Issued {
            access_key_id,
            secret_access_key: session.secret.clone(),
            session_token: Secret(base64::engine::general_purpose::STANDARD.encode(token)),
        };
        Ok((issued, session))
    }

    /// Opens a token presented with `access_key_id`, checking that it has not expired at `now`.
    pub fn open(&self, access_key_id: &str, token: &str, now: i64) -> Result<Session, TokenError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(token.trim())
            .map_err(|_| TokenError::Invalid)?;
        let (&version, rest) = bytes.split_first().ok_or(TokenError::Invalid)?;
        if version != VERSION || rest.len() < aead::NONCE_LEN {
            return Err(TokenError::Invalid);
        }
        let (nonce, sealed) = rest.split_at(aead::NONCE_LEN);
        let nonce =
            aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| TokenError::Invalid)?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .0
            .open_in_place(
                nonce,
                aead::Aad::from(access_key_id.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| TokenError::Invalid)?;
        let session: Session = serde_json::from_slice(plain).map_err(|_| TokenError::Invalid)?;
        if now >= session.expires_at {
            return Err(TokenError::Expired);
        }
        Ok(session)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            arn: "arn:aws:sts::111122223333:assumed-role/break-glass/oncall".into(),
            role_arn: Some("arn:aws:iam::111122223333:role/break-glass".into()),
            user_arn: None,
            issued_at: 1_000,
            expires_at: 4_600,
            mfa_authenticated_at: Some(990),
            policy: Some(r#"{"Version":"2012-10-17","Statement":[]}"#.into()),
            tags: vec![("team".into(), "platform".into())],
            transitive_tag_keys: vec!["team".into()],
            source_identity: Some("bob".into()),
            federated_provider: None,
            secret: Secret(String::new()),
        }
    }

    fn key() -> SessionKey {
        SessionKey::from_secret(&SessionKey::generate().unwrap()).unwrap()
    }

    #[test]
    fn a_token_opens_to_its_session_until_it_expires() {
        let k = key();
        let (issued, sealed) = k.issue(session()).unwrap();
        assert!(issued.access_key_id.starts_with("ASIA"));
        assert_eq!(issued.access_key_id.len(), 20);
        assert_eq!(issued.secret_access_key.expose().len(), 40);
        let token = issued.session_token.expose();
        let opened = k.open(&issued.access_key_id, token, 4_599).unwrap();
        assert_eq!(opened, sealed);
        assert_eq!(opened.secret, issued.secret_access_key);
        assert_eq!(
            k.open(&issued.access_key_id, token, 4_600),
            Err(TokenError::Expired)
        );
        // The secret is sealed, not readable from the token.
        assert!(!token.contains(issued.secret_access_key.expose()));
    }

    #[test]
    fn tokens_cannot_be_altered_moved_or_opened_with_another_key() {
        let k = key();
        let (issued, _) = k.issue(session()).unwrap();
        let (other, _) = k.issue(session()).unwrap();
        let token = issued.session_token.expose();
        assert_eq!(
            k.open(&other.access_key_id, token, 2_000),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            key().open(&issued.access_key_id, token, 2_000),
            Err(TokenError::Invalid)
        );
        let mut bytes = base64::engine::general_purpose::STANDARD
            .decode(token)
            .unwrap();
        let last = bytes.len() - 20;
        bytes[last] ^= 1;
        let altered = base64::engine::general_purpose::STANDARD.encode(&bytes);
        assert_eq!(
            k.open(&issued.access_key_id, &altered, 2_000),
            Err(TokenError::Invalid)
        );
        for junk in ["", "not base64!", "AQ==", "AgAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
            assert_eq!(
                k.open(&issued.access_key_id, junk, 2_000),
                Err(TokenError::Invalid),
                "{junk}"
            );
        }
    }

    #[test]
    fn stored_keys_must_be_32_bytes_of_base64() {
        assert!(SessionKey::from_secret(&Secret("AAAA".into())).is_err());
        assert!(SessionKey::from_secret(&Secret("***".into())).is_err());
        assert!(format!("{:?}", key()).contains('…'));
    }
}
