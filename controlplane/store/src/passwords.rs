//! Console passwords: login profiles, the account password policy, and each user's password history.
//!
//! A password is kept only as an argon2id hash (a PHC string with its own random salt) — in the
//! login profile and in the history that reuse prevention checks — and is never logged or put in
//! an error. Every password set (`CreateLoginProfile`, `UpdateLoginProfile`, `ChangePassword`) is
//! checked by the engine's `password` module against the account's policy (AWS's default policy
//! when there is none) and, under `PasswordReusePrevention`, against the user's last N passwords.
//!
//! The hash's cost is OWASP's argon2id recommendation, 19 MiB of memory, two passes, one lane: a
//! guess costs an attacker 19 MiB and as long as it costs us, about 35 ms per hash on a development
//! machine (measured; the workspace's dev profile optimises argon2 too, which unoptimised takes
//! half a second). RFC 9106's second profile (64 MiB, three passes) would triple that for every
//! password set and every reuse check (up to 24 verifications); OWASP rates both profiles as
//! equally strong choices.

use crate::db::{db_error, Tx};
use crate::error::{ErrorCode, IamError};
use crate::model::{now, User};
use crate::names::Name;
use crate::Iam;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use iamlet_engine::password::{self, PasswordContext, PasswordPolicy};

/// How many previous passwords are kept: the most `PasswordReusePrevention` may ask for.
const HISTORY: i64 = 24;

/// argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1).
fn hasher() -> Result<argon2::Argon2<'static>, IamError> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| IamError::service(format!("argon2 parameters: {e}")))?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// A password's argon2id hash with a fresh random salt, as a PHC string.
pub(crate) fn hash(password: &str) -> Result<String, IamError> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| IamError::service("the system's random number generator failed"))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| IamError::service(format!("argon2 salt: {e}")))?;
    Ok(hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| IamError::service(format!("hashing a password failed: {e}")))?
        .to_string())
}

/// Whether a password is the one a PHC string was made from (its own parameters and salt).
pub(crate) fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Checks a `Password`-like parameter's shape (1 to 128 of tab, newlines and Latin-1) without
/// ever repeating its value.
pub fn parse_password(param: &str, value: &str) -> Result<String, IamError> {
    let len = value.chars().count();
    let ok = (1..=128).contains(&len)
        && value
            .chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'));
    if !ok {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length between 1 and 128 and satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+",
            iamlet_query::lower_first(param)
        )));
    }
    Ok(value.to_owned())
}

/// A user's login profile (never its password).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginProfile {
    /// The user's name.
    pub user_name: String,
    /// When it was created.
    pub created: i64,
    /// When the password was last set.
    pub changed: i64,
    /// Whether the user must set a new password at next sign-in.
    pub reset_required: bool,
}

/// `UpdateLoginProfile`'s parameters.
#[derive(Clone, Debug, Default)]
pub struct UpdateLoginProfile {
    /// `Password`.
    pub password: Option<String>,
    /// `PasswordResetRequired`.
    pub reset_required: Option<bool>,
}

/// AWS's words for each rule a password breaks.
fn violation(
    policy: Option<&PasswordPolicy>,
    candidate: &str,
    problems: &[password::PasswordProblem],
) -> IamError {
    let min = policy.map_or(8, |p| p.minimum_password_length.unwrap_or(6));
    let reuse = policy
        .and_then(|p| p.password_reuse_prevention)
        .unwrap_or(0);
    let words: Vec<String> = problems
        .iter()
        .map(|p| match p.code {
            "too_short" => format!("Password should have a minimum length of {min}"),
            "too_long" => format!(
                "Password should have a maximum length of {}",
                password::MAX_LENGTH
            ),
            "missing_symbol" => "Password should have at least one symbol".to_owned(),
            "missing_number" => "Password should have at least one number".to_owned(),
            "missing_uppercase" => "Password should have at least one uppercase letter".to_owned(),
            "missing_lowercase" => "Password should have at least one lowercase letter".to_owned(),
            "too_few_character_types" => {
                // AWS's default policy: three of the four types; name the ones missing.
                let kinds = [
                    (
                        candidate.chars().any(|c| c.is_ascii_uppercase()),
                        "Password should have at least one uppercase letter",
                    ),
                    (
                        candidate.chars().any(|c| c.is_ascii_lowercase()),
                        "Password should have at least one lowercase letter",
                    ),
                    (
                        candidate.chars().any(|c| c.is_ascii_digit()),
                        "Password should have at least one number",
                    ),
                    (
                        candidate.chars().any(|c| password::SYMBOLS.contains(c)),
                        "Password should have at least one symbol",
                    ),
                ];
                let present = kinds.iter().filter(|(has, _)| *has).count();
                let missing: Vec<&str> = kinds
                    .iter()
                    .filter(|(has, _)| !has)
                    .map(|(_, w)| *w)
                    .collect();
                format!(
                    "Password should meet {} more of the following requirements: {}",
                    3usize.saturating_sub(present),
                    missing.join(", ")
                )
            }
            "reused" => format!("Password should not be one of your last {reuse} passwords"),
            _ => p.message.clone(),
        })
        .collect();
    IamError::new(ErrorCode::PasswordPolicyViolation, words.join(", "))
}

type ProfileRow = (i64, i64, i64, String);

impl Iam {
    /// The account password policy, if one is set.
    pub async fn password_policy(&self, tx: &mut Tx) -> Result<Option<PasswordPolicy>, IamError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT document FROM iam_password_policy WHERE id = 1")
                .fetch_optional(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        row.map(|(doc,)| {
            serde_json::from_str(&doc)
                .map_err(|e| IamError::service(format!("the stored password policy: {e}")))
        })
        .transpose()
    }

    /// The account password policy, or `NoSuchEntity` as AWS words it.
    pub async fn get_account_password_policy(
        &self,
        tx: &mut Tx,
    ) -> Result<PasswordPolicy, IamError> {
        self.password_policy(tx)
            .await?
            .ok_or_else(|| self.no_password_policy())
    }

    fn no_password_policy(&self) -> IamError {
        IamError::no_such_entity(format!(
            "The Password Policy with domain name {} cannot be found.",
            self.account_id()
        ))
    }

    /// Sets the account password policy (every field not given takes its default, as in AWS).
    pub async fn update_account_password_policy(
        &self,
        tx: &mut Tx,
        policy: &PasswordPolicy,
    ) -> Result<(), IamError> {
        policy
            .validate()
            .map_err(|e| IamError::validation(e.to_string()))?;
        let doc = serde_json::to_string(policy)
            .map_err(|e| IamError::service(format!("the password policy: {e}")))?;
        sqlx::query("DELETE FROM iam_password_policy WHERE id = 1")
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        sqlx::query("INSERT INTO iam_password_policy (id, document) VALUES (1, $1)")
            .bind(doc)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Removes the account password policy (AWS's default applies again).
    pub async fn delete_account_password_policy(&self, tx: &mut Tx) -> Result<(), IamError> {
        let done = sqlx::query("DELETE FROM iam_password_policy WHERE id = 1")
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(self.no_password_policy());
        }
        Ok(())
    }

    /// Checks a password for a user against the policy and the user's last passwords.
    async fn check_password(
        &self,
        tx: &mut Tx,
        user_id: &str,
        candidate: &str,
    ) -> Result<(), IamError> {
        let policy = self.password_policy(tx).await?;
        let mut problems = password::check(policy.as_ref(), candidate, &PasswordContext::default());
        let reuse = policy
            .as_ref()
            .and_then(|p| p.password_reuse_prevention)
            .unwrap_or(0);
        if reuse > 0 {
            let previous: Vec<(String,)> = sqlx::query_as(
                "SELECT password_hash FROM iam_password_history WHERE user_id = $1 ORDER BY n DESC LIMIT $2",
            )
            .bind(user_id)
            .bind(i64::from(reuse))
            .fetch_all(&mut *tx.inner)
            .await
            .map_err(db_error)?;
            if previous.iter().any(|(phc,)| verify(candidate, phc)) {
                problems.push(password::PasswordProblem {
                    code: "reused",
                    message: String::new(),
                });
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(violation(policy.as_ref(), candidate, &problems))
        }
    }

    /// Hashes a checked password, records it in the user's history (the last [`HISTORY`] kept)
    /// and returns its hash.
    async fn remember(
        &self,
        tx: &mut Tx,
        user_id: &str,
        candidate: &str,
    ) -> Result<String, IamError> {
        let phc = hash(candidate)?;
        let (last,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(n) FROM iam_password_history WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        let n = last.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO iam_password_history (user_id, n, password_hash) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(n)
        .bind(&phc)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        sqlx::query("DELETE FROM iam_password_history WHERE user_id = $1 AND n <= $2")
            .bind(user_id)
            .bind(n - HISTORY)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        Ok(phc)
    }

    async fn profile_row(&self, tx: &mut Tx, user: &User) -> Result<Option<ProfileRow>, IamError> {
        sqlx::query_as(
            "SELECT created_at, changed_at, reset_required, password_hash FROM iam_login_profiles WHERE user_id = $1",
        )
        .bind(&user.id)
        .fetch_optional(&mut *tx.inner)
        .await
        .map_err(db_error)
    }

    async fn login_profile_of(
        &self,
        tx: &mut Tx,
        user: &User,
    ) -> Result<(LoginProfile, String), IamError> {
        let (created, changed, reset, phc) = self
            .profile_row(tx, user)
            .await?
            .ok_or_else(|| no_profile(user.name.as_str()))?;
        Ok((
            LoginProfile {
                user_name: user.name.as_str().to_owned(),
                created,
                changed,
                reset_required: reset != 0,
            },
            phc,
        ))
    }

    /// Gives a user a console password.
    pub async fn create_login_profile(
        &self,
        tx: &mut Tx,
        name: &Name,
        password: &str,
        reset_required: bool,
    ) -> Result<LoginProfile, IamError> {
        let user = self.user(tx, name).await?;
        if self.profile_row(tx, &user).await?.is_some() {
            return Err(IamError::already_exists(format!(
                "Login Profile for user {} already exists.",
                user.name
            )));
        }
        self.check_password(tx, &user.id, password).await?;
        let phc = self.remember(tx, &user.id, password).await?;
        let at = now();
        sqlx::query(
            "INSERT INTO iam_login_profiles (user_id, password_hash, created_at, changed_at, reset_required) VALUES ($1, $2, $3, $3, $4)",
        )
        .bind(&user.id)
        .bind(phc)
        .bind(at)
        .bind(i64::from(reset_required))
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(LoginProfile {
            user_name: user.name.as_str().to_owned(),
            created: at,
            changed: at,
            reset_required,
        })
    }

    /// A user's login profile.
    pub async fn get_login_profile(
        &self,
        tx: &mut Tx,
        name: &Name,
    ) -> Result<LoginProfile, IamError> {
        let user = self.user(tx, name).await?;
        Ok(self.login_profile_of(tx, &user).await?.0)
    }

    /// Sets a user's password and/or whether it must be reset (an administrator's change).
    pub async fn update_login_profile(
        &self,
        tx: &mut Tx,
        name: &Name,
        r: &UpdateLoginProfile,
    ) -> Result<(), IamError> {
        let user = self.user(tx, name).await?;
        let (profile, _) = self.login_profile_of(tx, &user).await?;
        if let Some(p) = &r.password {
            self.check_password(tx, &user.id, p).await?;
            let phc = self.remember(tx, &user.id, p).await?;
            sqlx::query("UPDATE iam_login_profiles SET password_hash = $1, changed_at = $2 WHERE user_id = $3")
                .bind(phc)
                .bind(now())
                .bind(&user.id)
                .execute(&mut *tx.inner)
                .await
                .map_err(db_error)?;
        }
        let reset = r.reset_required.unwrap_or(profile.reset_required);
        sqlx::query("UPDATE iam_login_profiles SET reset_required = $1 WHERE user_id = $2")
            .bind(i64::from(reset))
            .bind(&user.id)
            .execute(&mut *tx.inner)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Removes a user's console password.
    pub async fn delete_login_profile(&self, tx: &mut Tx, name: &Name) -> Result<(), IamError> {
        let user = self.user(tx, name).await?;
        let done = tx
            .exec_id(
                "DELETE FROM iam_login_profiles WHERE user_id = $1",
                &user.id,
            )
            .await?;
        if done == 0 {
            return Err(no_profile(name.as_str()));
        }
        Ok(())
    }

    /// A user changes its own password: the old one must verify; the new one is checked like any
    /// other, and clears `PasswordResetRequired`.
    pub async fn change_password(
        &self,
        tx: &mut Tx,
        name: &Name,
        old: &str,
        new: &str,
    ) -> Result<(), IamError> {
        let user = self.user(tx, name).await?;
        let (_, phc) = self.login_profile_of(tx, &user).await?;
        if !verify(old, &phc) {
            return Err(IamError::new(
                ErrorCode::AccessDenied,
                "The old password is incorrect.",
            ));
        }
        self.check_password(tx, &user.id, new).await?;
        let phc = self.remember(tx, &user.id, new).await?;
        sqlx::query(
            "UPDATE iam_login_profiles SET password_hash = $1, changed_at = $2, reset_required = 0 WHERE user_id = $3",
        )
        .bind(phc)
        .bind(now())
        .bind(&user.id)
        .execute(&mut *tx.inner)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}

/// AWS's message for a user without a console password.
fn no_profile(user: &str) -> IamError {
    IamError::no_such_entity(format!("Login Profile for User {user} cannot be found."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{name, temp_db, user};
    use crate::NameKind;

    fn strict() -> PasswordPolicy {
        PasswordPolicy {
            minimum_password_length: Some(12),
            require_symbols: true,
            require_numbers: true,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            allow_users_to_change_password: true,
            expire_passwords: true,
            max_password_age: Some(90),
            password_reuse_prevention: Some(2),
            hard_expiry: None,
        }
    }

    #[test]
    fn hashes_are_salted_argon2id_and_verify() {
        let a = hash("correct-Horse-7").unwrap();
        let b = hash("correct-Horse-7").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("correct-Horse-7"));
        assert!(verify("correct-Horse-7", &a) && verify("correct-Horse-7", &b));
        assert!(!verify("correct-Horse-8", &a));
        assert!(!verify("x", "not a phc string"));
    }

    #[test]
    fn password_parameters_never_echo_the_password() {
        let e = parse_password("Password", &"s3cret-".repeat(20)).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationError);
        assert!(!e.message.contains("s3cret"), "{e}");
        assert!(e.message.contains("'password'"), "{e}");
        assert!(parse_password("Password", "").is_err());
        assert!(parse_password("Password", "tab\tok Ünï").is_ok());
        assert!(parse_password("Password", "emoji 🙂").is_err());
    }

    #[tokio::test]
    async fn login_profiles_follow_the_policy_and_its_history() {
        let t = temp_db("passwords").await;
        let iam = &t.iam;
        let bob = name("bob", NameKind::User);
        let mut tx = iam.write().await.unwrap();
        let e = iam
            .create_login_profile(&mut tx, &bob, "Summer2026!", false)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NoSuchEntity);
        iam.create_user(&mut tx, &user("bob")).await.unwrap();
        // AWS's default policy: eight characters of three types.
        let e = iam
            .create_login_profile(&mut tx, &bob, "summer2026", false)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::PasswordPolicyViolation);
        assert_eq!(
            e.message,
            "Password should meet 1 more of the following requirements: Password should have at least one uppercase letter, Password should have at least one symbol"
        );
        assert!(!e.message.contains("summer2026"));
        assert_eq!(
            iam.get_account_password_policy(&mut tx)
                .await
                .unwrap_err()
                .message,
            "The Password Policy with domain name 111122223333 cannot be found."
        );
        iam.update_account_password_policy(&mut tx, &strict())
            .await
            .unwrap();
        let e = iam
            .create_login_profile(&mut tx, &bob, "Summer2026", true)
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "Password should have a minimum length of 12, Password should have at least one symbol"
        );
        let p = iam
            .create_login_profile(&mut tx, &bob, "Summer-2026-a", true)
            .await
            .unwrap();
        assert!(p.reset_required);
        assert_eq!(
            iam.create_login_profile(&mut tx, &bob, "Summer-2026-a", true)
                .await
                .unwrap_err()
                .code,
            ErrorCode::EntityAlreadyExists
        );
        // Stored only as a hash.
        let (stored,): (String,) = sqlx::query_as("SELECT password_hash FROM iam_login_profiles")
            .fetch_one(&mut *tx.inner)
            .await
            .unwrap();
        assert!(stored.starts_with("$argon2id$") && !stored.contains("Summer"));

        // ChangePassword: the old password must verify, the new one must not be one of the last two.
        let e = iam
            .change_password(&mut tx, &bob, "wrong", "Autumn-2026-b")
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::AccessDenied);
        let e = iam
            .change_password(&mut tx, &bob, "Summer-2026-a", "Summer-2026-a")
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                ErrorCode::PasswordPolicyViolation,
                "Password should not be one of your last 2 passwords"
            )
        );
        iam.change_password(&mut tx, &bob, "Summer-2026-a", "Autumn-2026-b")
            .await
            .unwrap();
        assert!(
            !iam.get_login_profile(&mut tx, &bob)
                .await
                .unwrap()
                .reset_required
        );
        // An administrator's update is checked too; the third password back may return.
        let update = |p: &str| UpdateLoginProfile {
            password: Some(p.to_owned()),
            reset_required: None,
        };
        assert_eq!(
            iam.update_login_profile(&mut tx, &bob, &update("Summer-2026-a"))
                .await
                .unwrap_err()
                .code,
            ErrorCode::PasswordPolicyViolation
        );
        iam.update_login_profile(&mut tx, &bob, &update("Winter-2026-c"))
            .await
            .unwrap();
        iam.update_login_profile(&mut tx, &bob, &update("Summer-2026-a"))
            .await
            .unwrap();
        iam.update_login_profile(
            &mut tx,
            &bob,
            &UpdateLoginProfile {
                password: None,
                reset_required: Some(true),
            },
        )
        .await
        .unwrap();
        assert!(
            iam.get_login_profile(&mut tx, &bob)
                .await
                .unwrap()
                .reset_required
        );

        let e = iam.delete_user(&mut tx, &bob).await.unwrap_err();
        assert_eq!(e.code, ErrorCode::DeleteConflict);
        iam.delete_login_profile(&mut tx, &bob).await.unwrap();
        let e = iam.get_login_profile(&mut tx, &bob).await.unwrap_err();
        assert_eq!(e.message, "Login Profile for User bob cannot be found.");
        iam.delete_account_password_policy(&mut tx).await.unwrap();
        assert_eq!(
            iam.delete_account_password_policy(&mut tx)
                .await
                .unwrap_err()
                .code,
            ErrorCode::NoSuchEntity
        );
        iam.delete_user(&mut tx, &bob).await.unwrap();
        let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM iam_password_history")
            .fetch_one(&mut *tx.inner)
            .await
            .unwrap();
        assert_eq!(left, 0, "a deleted user's history goes with it");
    }
}
