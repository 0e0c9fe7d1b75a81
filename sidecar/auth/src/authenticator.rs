//! Who signed a request: an IAM user's long-term access key (`AKIA…`) from the credentials file, or
//! temporary credentials (`ASIA…` with `x-amz-security-token`) whose sealed session opens with the
//! file's session key. Opened sessions (their session policy compiled) are kept in a small LRU keyed
//! by a digest of the session key, access key id and token, so a session's requests after its first
//! neither open nor parse anything, and rotating the session key misses every entry.

use super::session::{Session, TokenError, ACCESS_KEY_PREFIX};
use super::sigv4::{self, HttpRequest, KeyRef, SigV4Error, SigV4ErrorCode, Signer, Verified};
use super::{CredentialSource, Credentials, KeyUse};
use iamlet_engine::{Policy, PolicyType};
use lru::LruCache;
use ring::digest;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

/// Sessions kept opened.
const OPENED_SESSIONS: usize = 4096;

/// A session whose token verified, its policy compiled.
#[derive(Debug)]
pub struct OpenedSession {
    /// The session.
    pub session: Session,
    /// The session policy, compiled (named after the access key id).
    pub policy: Option<Policy>,
}

/// Who holds the key a request was signed with.
#[derive(Clone, Debug)]
pub enum Caller {
    /// An IAM user's long-term key: the user's ARN.
    User(String),
    /// Temporary credentials.
    Session(Arc<OpenedSession>),
}

impl Caller {
    /// The principal ARN requests are evaluated for.
    pub fn principal(&self) -> &str {
        match self {
            Caller::User(arn) => arn,
            Caller::Session(s) => &s.session.arn,
        }
    }

    /// The IAM user behind the caller: the key's owner, or a `GetSessionToken` session's user.
    pub fn user_arn(&self) -> Option<&str> {
        match self {
            Caller::User(arn) => Some(arn),
            Caller::Session(s) => s.session.user_arn.as_deref(),
        }
    }

    /// The session, for temporary credentials.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Caller::User(_) => None,
            Caller::Session(s) => Some(&s.session),
        }
    }
}

/// Verifies signatures with the credentials file's keys and sessions.
#[derive(Debug)]
pub struct Authenticator {
    source: Arc<dyn CredentialSource>,
    opened: Mutex<LruCache<[u8; 32], Arc<OpenedSession>>>,
}

fn invalid_token(message: &str) -> SigV4Error {
    SigV4Error::new(SigV4ErrorCode::InvalidClientTokenId, message)
}

impl Authenticator {
    /// Authenticates with the credentials of a source (the file, reloaded as it changes, or the
    /// IAM database).
    pub fn new(source: Arc<dyn CredentialSource>) -> Self {
        Authenticator {
            source,
            opened: Mutex::new(LruCache::new(
                NonZeroUsize::new(OPENED_SESSIONS).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    /// The credentials as they are now.
    pub fn credentials(&self) -> Arc<Credentials> {
        self.source.current()
    }

    /// Where they come from: for what must be recorded durably (MFA attempts).
    pub fn source(&self) -> &Arc<dyn CredentialSource> {
        &self.source
    }

    /// Verifies the request's SigV4 signature; `Ok(None)` when it carries none.
    pub fn verify(
        &self,
        req: &HttpRequest<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Verified<Caller>>, SigV4Error> {
        let credentials = self.credentials();
        let verified = sigv4::verify(req, |key| self.signer(&credentials, key, now), now)?;
        if let Some(v) = &verified {
            if matches!(v.holder, Caller::User(_)) {
                self.source.key_used(KeyUse {
                    access_key_id: v.access_key_id.clone(),
                    service: v.service.clone(),
                    region: v.region.clone(),
                    at: now.timestamp(),
                });
            }
        }
        Ok(verified)
    }

    fn signer(
        &self,
        credentials: &Credentials,
        key: KeyRef<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Signer<Caller>, SigV4Error> {
        if !key.access_key_id.starts_with(ACCESS_KEY_PREFIX) {
            return sigv4::long_term_key(key.access_key_id, credentials.key(key.access_key_id))
                .map(|s| Signer {
                    secret: s.secret,
                    holder: Caller::User(s.holder),
                });
        }
        let token = key.security_token.ok_or_else(|| {
            invalid_token("temporary credentials need their session token (x-amz-security-token)")
        })?;
        let session_key = credentials.session_key.as_ref().ok_or_else(|| {
            invalid_token("the security token included in the request is invalid")
        })?;
        let mut ctx = digest::Context::new(&digest::SHA256);
        for part in [session_key.expose(), key.access_key_id, token] {
            ctx.update(part.as_bytes());
            ctx.update(&[0]);
        }
        let mut id = [0u8; 32];
        id.copy_from_slice(ctx.finish().as_ref());

        let cached = self
            .opened
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned();
        let opened = match cached {
            Some(o) => o,
            None => {
                let sealing = credentials
                    .session_key()
                    .map_err(|e| invalid_token(&e.to_string()))?
                    .ok_or_else(|| invalid_token("no session key"))?;
                let session = sealing
                    .open(key.access_key_id, token, now.timestamp())
                    .map_err(token_error)?;
                let policy = match &session.policy {
                    Some(text) => Some(
                        Policy::parse_named(
                            &format!("session policy ({})", key.access_key_id),
                            text,
                            PolicyType::Session,
                        )
                        .map_err(|_| invalid_token("the session's policy no longer parses"))?,
                    ),
                    None => None,
                };
                let opened = Arc::new(OpenedSession { session, policy });
                self.opened
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .put(id, opened.clone());
                opened
            }
        };
        if now.timestamp() >= opened.session.expires_at {
            return Err(token_error(TokenError::Expired));
        }
        Ok(Signer {
            secret: opened.session.secret.clone(),
            holder: Caller::Session(opened),
        })
    }
}

fn token_error(e: TokenError) -> SigV4Error {
    let code = match e {
        TokenError::Invalid => SigV4ErrorCode::InvalidClientTokenId,
        TokenError::Expired => SigV4ErrorCode::ExpiredToken,
    };
    SigV4Error::new(code, e.to_string())
}
