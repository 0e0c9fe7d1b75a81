//! IAM's account password policy, checked against a candidate password: the rules of a custom policy
//! (AWS's `GetAccountPasswordPolicy` shape), or AWS's default policy when the account has none, and
//! reuse of the user's previous passwords.
//!
//! Sources: the IAM User Guide's "Set an account password policy for IAM users" and the
//! `UpdateAccountPasswordPolicy` API reference. The default policy: 8 to 128 characters, at least
//! three of uppercase letters, lowercase letters, numbers and the symbols
//! `! @ # $ % ^ & * ( ) _ + - = [ ] { } | '`, and not the account's name or email address. A custom
//! policy sets its own minimum (6 to 128; 6 when unset) and which character types are each required;
//! `PasswordReusePrevention` (1 to 24) forbids that many previous passwords.

use serde::{Deserialize, Serialize};

/// The account password policy, as `aws iam get-account-password-policy` prints it (the object under
/// `PasswordPolicy`). Unset fields take AWS's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct PasswordPolicy {
    /// The fewest characters a password may have (6 to 128; 6 when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub minimum_password_length: Option<u32>,
    /// At least one of `! @ # $ % ^ & * ( ) _ + - = [ ] { } | '`.
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub require_symbols: bool,
    /// At least one digit, 0 to 9.
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub require_numbers: bool,
    /// At least one uppercase letter, A to Z.
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub require_uppercase_characters: bool,
    /// At least one lowercase letter, a to z.
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub require_lowercase_characters: bool,
    /// Whether users may change their own password.
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub allow_users_to_change_password: bool,
    /// Whether passwords expire (`MaxPasswordAge` > 0).
    #[serde(default)]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub expire_passwords: bool,
    /// Days a password is valid (1 to 1095).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub max_password_age: Option<u32>,
    /// How many previous passwords cannot be reused (1 to 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub password_reuse_prevention: Option<u32>,
    /// Whether an expired password can only be reset by an administrator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "wasm", tsify(optional))]
    pub hard_expiry: Option<bool>,
}

/// The symbols AWS counts as symbols in passwords.
pub const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

/// The longest password IAM accepts.
pub const MAX_LENGTH: usize = 128;

/// One rule a password breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "wasm", derive(tsify::Tsify))]
pub struct PasswordProblem {
    /// A stable identifier: `too_short`, `too_long`, `missing_symbol`, `missing_number`,
    /// `missing_uppercase`, `missing_lowercase`, `too_few_character_types`, `account_name`, `reused`.
    pub code: &'static str,
    /// The rule, in words.
    pub message: String,
}

/// A policy value outside what AWS accepts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be between {min} and {max}, not {value}")]
pub struct PasswordPolicyError {
    /// The field, e.g. `MinimumPasswordLength`.
    pub field: &'static str,
    /// Its value.
    pub value: u32,
    /// The smallest value AWS accepts.
    pub min: u32,
    /// The largest.
    pub max: u32,
}

impl PasswordPolicy {
    /// Reads `aws iam get-account-password-policy` output (`{"PasswordPolicy": {…}}`) or the policy
    /// object itself, and checks its ranges.
    pub fn from_json(text: &str) -> Result<PasswordPolicy, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let inner = match value.get("PasswordPolicy") {
            Some(p) => p.clone(),
            None => value,
        };
        if !inner.is_object() {
            return Err(
                "a password policy is a JSON object (or `{\"PasswordPolicy\": {…}}`)".to_owned(),
            );
        }
        let policy: PasswordPolicy = serde_json::from_value(inner).map_err(|e| e.to_string())?;
        policy.validate().map_err(|e| e.to_string())?;
        Ok(policy)
    }

    /// Checks the values against AWS's ranges.
    pub fn validate(&self) -> Result<(), PasswordPolicyError> {
        for (field, value, min, max) in [
            (
                "MinimumPasswordLength",
                self.minimum_password_length,
                6,
                128,
            ),
            ("MaxPasswordAge", self.max_password_age, 1, 1095),
            (
                "PasswordReusePrevention",
                self.password_reuse_prevention,
                1,
                24,
            ),
        ] {
            if let Some(v) = value.filter(|v| !(min..=max).contains(v)) {
                return Err(PasswordPolicyError {
                    field,
                    value: v,
                    min,
                    max,
                });
            }
        }
        Ok(())
    }
}

/// What a password is checked against beyond its policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PasswordContext {
    /// The user's previous passwords, most recent first (only the last `PasswordReusePrevention`
    /// count).
    #[serde(default)]
    pub previous: Vec<String>,
    /// The account's name and email address (the default policy forbids both as passwords).
    #[serde(default)]
    pub account_names: Vec<String>,
}

/// Every rule `password` breaks under `policy` (AWS's default policy when `None`); empty when it is
/// acceptable.
pub fn check(
    policy: Option<&PasswordPolicy>,
    password: &str,
    context: &PasswordContext,
) -> Vec<PasswordProblem> {
    let mut out = Vec::new();
    let mut problem = |code, message: String| out.push(PasswordProblem { code, message });
    let length = password.chars().count();
    let min = policy.map_or(8, |p| p.minimum_password_length.unwrap_or(6) as usize);
    if length < min {
        problem(
            "too_short",
            format!("it has {length} characters; the policy requires at least {min}"),
        );
    }
    if length > MAX_LENGTH {
        problem(
            "too_long",
            format!("it has {length} characters; IAM allows at most {MAX_LENGTH}"),
        );
    }
    let symbol = password.chars().any(|c| SYMBOLS.contains(c));
    let number = password.chars().any(|c| c.is_ascii_digit());
    let upper = password.chars().any(|c| c.is_ascii_uppercase());
    let lower = password.chars().any(|c| c.is_ascii_lowercase());
    match policy {
        Some(p) => {
            for (required, present, code, what) in [
                (
                    p.require_symbols,
                    symbol,
                    "missing_symbol",
                    format!("symbol ({})", spaced(SYMBOLS)),
                ),
                (
                    p.require_numbers,
                    number,
                    "missing_number",
                    "number (0 to 9)".to_owned(),
                ),
                (
                    p.require_uppercase_characters,
                    upper,
                    "missing_uppercase",
                    "uppercase letter (A to Z)".to_owned(),
                ),
                (
                    p.require_lowercase_characters,
                    lower,
                    "missing_lowercase",
                    "lowercase letter (a to z)".to_owned(),
                ),
            ] {
                if required && !present {
                    problem(code, format!("the policy requires at least one {what}"));
                }
            }
        }
        None => {
            let types = [symbol, number, upper, lower]
                .iter()
                .filter(|t| **t)
                .count();
            if types < 3 {
                problem(
                    "too_few_character_types",
                    format!("it mixes {types} of the four character types (uppercase, lowercase, numbers, symbols); AWS's default policy requires three"),
                );
            }
            if context
                .account_names
                .iter()
                .any(|n| !n.is_empty() && n == password)
            {
                problem(
                    "account_name",
                    "AWS's default policy forbids the account's name or email address".to_owned(),
                );
            }
        }
    }
    let reuse = policy
        .and_then(|p| p.password_reuse_prevention)
        .unwrap_or(0) as usize;
    if let Some(i) = context
        .previous
        .iter()
        .take(reuse)
        .position(|p| p == password)
    {
        problem(
            "reused",
            format!(
                "it is the user's previous password number {} and the policy forbids reusing the last {reuse}",
                i + 1
            ),
        );
    }
    out
}

fn spaced(s: &str) -> String {
    s.chars().map(String::from).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(
        policy: Option<&PasswordPolicy>,
        pw: &str,
        ctx: &PasswordContext,
    ) -> Vec<&'static str> {
        check(policy, pw, ctx).into_iter().map(|p| p.code).collect()
    }

    #[test]
    fn the_default_policy_wants_eight_characters_of_three_types() {
        let none = PasswordContext::default();
        assert_eq!(codes(None, "Summer2026", &none), Vec::<&str>::new());
        assert_eq!(
            codes(None, "summer2026", &none),
            vec!["too_few_character_types"]
        );
        assert_eq!(codes(None, "Ab1!", &none), vec!["too_short"]);
        assert_eq!(codes(None, &"Aa1".repeat(43), &none), vec!["too_long"]);
        let ctx = PasswordContext {
            account_names: vec!["Ops@Example1.com".into()],
            ..PasswordContext::default()
        };
        assert_eq!(codes(None, "Ops@Example1.com", &ctx), vec!["account_name"]);
    }

    #[test]
    fn a_custom_policy_requires_each_type_it_names_and_forbids_reuse() {
        let policy = PasswordPolicy::from_json(
            r#"{"PasswordPolicy": {"MinimumPasswordLength": 14, "RequireSymbols": true,
                "RequireNumbers": true, "RequireUppercaseCharacters": true,
                "RequireLowercaseCharacters": true, "PasswordReusePrevention": 2,
                "AllowUsersToChangePassword": true, "ExpirePasswords": true, "MaxPasswordAge": 90}}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let none = PasswordContext::default();
        assert_eq!(
            codes(Some(&policy), "correct-Horse-7-battery", &none),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes(Some(&policy), "correcthorse", &none),
            vec![
                "too_short",
                "missing_symbol",
                "missing_number",
                "missing_uppercase"
            ]
        );
        let ctx = PasswordContext {
            previous: vec![
                "old-Password-1".into(),
                "correct-Horse-7-battery".into(),
                "x".into(),
            ],
            ..PasswordContext::default()
        };
        let problems = check(Some(&policy), "correct-Horse-7-battery", &ctx);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].code, "reused");
        assert!(
            problems[0].message.contains("number 2"),
            "{}",
            problems[0].message
        );
        // Only the last N count: the third previous password may come back.
        assert_eq!(
            codes(Some(&policy), "x", &ctx),
            vec![
                "too_short",
                "missing_symbol",
                "missing_number",
                "missing_uppercase"
            ]
        );
        // An unset minimum is 6 under a custom policy.
        assert_eq!(
            codes(Some(&PasswordPolicy::default()), "abcdef", &none),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn out_of_range_policies_are_refused() {
        let err = PasswordPolicy::from_json(r#"{"MinimumPasswordLength": 4}"#).unwrap_err();
        assert_eq!(
            err,
            "MinimumPasswordLength must be between 6 and 128, not 4"
        );
        assert!(PasswordPolicy::from_json(r#"{"PasswordReusePrevention": 25}"#).is_err());
        assert!(PasswordPolicy::from_json("[]").is_err());
        let typo = PasswordPolicy::from_json(r#"{"RequireSymbol": true}"#).unwrap_err();
        assert!(typo.contains("unknown field `RequireSymbol`"), "{typo}");
    }
}
