//! `GetSessionToken`: an IAM user's long-term key exchanged for temporary credentials, with MFA
//! when a code is given; and the MFA check `AssumeRole` shares.

use super::request::{GetSessionToken, MfaCode};
use super::response::StsError;
use super::{Answer, Authenticated, Sts, SESSION_TOKEN_DEFAULT_SECONDS};
use iamlet_auth::session::Session;
use iamlet_auth::{Caller, Secret};
use iamlet_authz::metrics::KindLabels;

impl Sts {
    pub(super) async fn get_session_token(
        &self,
        caller: &Authenticated,
        p: GetSessionToken,
    ) -> Answer {
        let Caller::User(user_arn) = &caller.caller else {
            return Err(StsError::access_denied(
                "Cannot call GetSessionToken with session credentials",
            ));
        };
        let now = chrono::Utc::now();
        let mfa_at = match &p.mfa {
            Some(code) => Some(
                self.verify_mfa(&caller.access_key_id, user_arn, code, now)
                    .await?,
            ),
            None => None,
        };
        let duration = p.duration.unwrap_or(SESSION_TOKEN_DEFAULT_SECONDS);
        let session = Session {
            arn: user_arn.clone(),
            role_arn: None,
            user_arn: Some(user_arn.clone()),
            issued_at: now.timestamp(),
            expires_at: now.timestamp() + duration,
            mfa_authenticated_at: mfa_at,
            policy: None,
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            source_identity: None,
            federated_provider: None,
            secret: Secret::default(),
        };
        self.issue(session)
    }

    /// Verifies a TOTP code from the user's device; the time it was verified. The attempt is
    /// recorded durably by the credential source (the file under its lock, or the database) (the step used, or one more refused code
    /// towards the device's lock), so a code is good once across restarts and replicas; an access
    /// key refused too often in a minute is throttled before the file is touched.
    pub(super) async fn verify_mfa(
        &self,
        access_key_id: &str,
        user_arn: &str,
        code: &MfaCode,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<i64, StsError> {
        let count = |kind: &'static str| {
            self.authz
                .metrics()
                .mfa_attempts
                .get_or_create(&KindLabels { kind })
                .inc();
        };
        let unix = now.timestamp();
        if !self.mfa_limiter.allows(access_key_id, unix) {
            count("throttled");
            return Err(StsError::new(400, "Throttling", "Rate exceeded"));
        }
        let authenticator = self.authz.authenticator().ok_or_else(|| {
            StsError::new(500, "InternalFailure", "no credentials are configured")
        })?;
        let verified = authenticator
            .source()
            .verify_mfa_code(user_arn, &code.serial_number, &code.token_code, unix)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "recording an MFA attempt failed");
                StsError::new(
                    503,
                    "ServiceUnavailable",
                    "the MFA attempt could not be recorded",
                )
            })?;
        match verified {
            Ok(()) => {
                count("ok");
                Ok(unix)
            }
            Err(e) => {
                count(e.kind());
                self.mfa_limiter.refused(access_key_id, unix);
                tracing::warn!(
                    user = user_arn,
                    access_key_id,
                    serial_number = %code.serial_number,
                    outcome = e.kind(),
                    "MFA code refused"
                );
                Err(StsError::access_denied(e.to_string()))
            }
        }
    }
}
