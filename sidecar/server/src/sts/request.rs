//! STS's Query-API parameters (`Action=AssumeRole&RoleArn=…&Tags.member.1.Key=…`, from the query
//! string or a form body), read into typed requests with AWS's constraints; every violation is a
//! `ValidationError` (or `InvalidParameterValue`, `MalformedPolicyDocument`) naming the parameter.

use super::response::StsError;
use iamlet_engine::{Arn, Policy, PolicyType};

/// The API version every STS request names.
pub const VERSION: &str = "2011-06-15";
/// AWS's limit on an inline session policy, in characters.
pub const MAX_POLICY_CHARS: usize = 2048;
/// AWS's limit on session tags.
pub const MAX_TAGS: usize = 50;

use iamlet_query::lower_first;
pub use iamlet_query::Params;

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, StsError> {
    params.get(name).ok_or_else(|| {
        StsError::validation(format!(
            "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(name)
        ))
    })
}

fn constraint(name: &str, value: &str, rule: &str) -> StsError {
    StsError::validation(format!(
        "1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: {rule}",
        lower_first(name)
    ))
}

/// `[\w+=,.@-]{min,max}`: role session names, source identities.
fn name_like(
    params: &Params,
    name: &str,
    min: usize,
    max: usize,
) -> Result<Option<String>, StsError> {
    let Some(v) = params.get(name) else {
        return Ok(None);
    };
    let ok = (min..=max).contains(&v.chars().count())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !ok {
        return Err(constraint(
            name,
            v,
            &format!("Member must have length between {min} and {max} and satisfy regular expression pattern: [\\w+=,.@-]*"),
        ));
    }
    Ok(Some(v.to_owned()))
}

fn duration(params: &Params, min: i64, max: i64) -> Result<Option<i64>, StsError> {
    let Some(v) = params.get("DurationSeconds") else {
        return Ok(None);
    };
    match v.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(constraint(
            "DurationSeconds",
            v,
            &format!("Member must have value between {min} and {max}"),
        )),
    }
}

/// An MFA code and the device it is from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MfaCode {
    /// The device's serial number (`arn:aws:iam::ACCOUNT:mfa/NAME`).
    pub serial_number: String,
    /// Six digits.
    pub token_code: String,
}

fn mfa(params: &Params) -> Result<Option<MfaCode>, StsError> {
    match (params.get("SerialNumber"), params.get("TokenCode")) {
        (None, None) => Ok(None),
        (Some(serial), Some(code)) => {
            if !(9..=256).contains(&serial.len()) {
                return Err(constraint(
                    "SerialNumber",
                    serial,
                    "Member must have length between 9 and 256",
                ));
            }
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                return Err(constraint(
                    "TokenCode",
                    code,
                    "Member must satisfy regular expression pattern: [\\d]{6}",
                ));
            }
            Ok(Some(MfaCode {
                serial_number: serial.to_owned(),
                token_code: code.to_owned(),
            }))
        }
        (Some(_), None) => Err(StsError::validation(
            "TokenCode is required when SerialNumber is given",
        )),
        (None, Some(_)) => Err(StsError::validation(
            "SerialNumber is required when TokenCode is given",
        )),
    }
}

/// `AssumeRole`'s parameters.
#[derive(Debug)]
pub struct AssumeRole {
    /// The role as the caller named it: an IAM role ARN in shape only. Which role it is (if any) is
    /// the store's answer, by exact ARN; nothing of the session is built from this text.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// `DurationSeconds`, if given.
    pub duration: Option<i64>,
    /// The inline session policy's text, and compiled.
    pub policy: Option<(String, Policy)>,
    /// Session tags.
    pub tags: Vec<(String, String)>,
    /// `TransitiveTagKeys`.
    pub transitive_tag_keys: Vec<String>,
    /// `ExternalId`.
    pub external_id: Option<String>,
    /// `SerialNumber` and `TokenCode`.
    pub mfa: Option<MfaCode>,
    /// `SourceIdentity`.
    pub source_identity: Option<String>,
}

impl AssumeRole {
    /// Reads and checks the parameters.
    pub fn parse(params: &Params) -> Result<AssumeRole, StsError> {
        let role_arn = role_arn(params)?;
        required(params, "RoleSessionName")?;
        let session_name = name_like(params, "RoleSessionName", 2, 64)?.unwrap_or_default();
        let policy = session_policy(params)?;
        let tags = session_tags(params)?;
        let transitive_tag_keys: Vec<String> = params
            .members("TransitiveTagKeys", "")
            .into_iter()
            .map(str::to_owned)
            .collect();
        if let Some(k) = transitive_tag_keys
            .iter()
            .find(|k| !tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)))
        {
            return Err(StsError::invalid_parameter(format!(
                "the transitive tag key `{k}` is not among the session's Tags"
            )));
        }
        let external_id = match params.get("ExternalId") {
            Some(e) if !(2..=1224).contains(&e.chars().count()) => {
                return Err(constraint(
                    "ExternalId",
                    e,
                    "Member must have length between 2 and 1224",
                ))
            }
            e => e.map(str::to_owned),
        };
        // The pattern admits no `:`, so AWS's reserved `aws:` prefix cannot occur.
        let source_identity = name_like(params, "SourceIdentity", 2, 64)?;
        Ok(AssumeRole {
            role_arn,
            session_name,
            duration: duration(params, 900, 43_200)?,
            policy,
            tags,
            transitive_tag_keys,
            external_id,
            mfa: mfa(params)?,
            source_identity,
        })
    }
}

/// `Tags.member.N.Key` / `.Value`: at most 50, keys 1 to 128 characters and values at most 256,
/// keys unique without regard to case.
fn session_tags(params: &Params) -> Result<Vec<(String, String)>, StsError> {
    let keys = params.members("Tags", ".Key");
    let values = params.members("Tags", ".Value");
    if keys.len() != values.len() {
        return Err(StsError::validation(
            "every Tags.member.N needs a Key and a Value",
        ));
    }
    if keys.len() > MAX_TAGS {
        return Err(StsError::validation(format!(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to {MAX_TAGS}"
        )));
    }
    let mut tags: Vec<(String, String)> = Vec::new();
    for (k, v) in keys.iter().zip(&values) {
        if !(1..=128).contains(&k.chars().count()) || v.chars().count() > 256 {
            return Err(StsError::validation(format!(
                "session tag `{k}`: keys are 1 to 128 characters and values at most 256"
            )));
        }
        if tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)) {
            return Err(StsError::invalid_parameter(format!(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive: `{k}`"
            )));
        }
        tags.push(((*k).to_owned(), (*v).to_owned()));
    }
    Ok(tags)
}

/// `GetFederationToken`'s parameters.
#[derive(Debug)]
pub struct GetFederationToken {
    /// `Name`: the federated user's name, `[\w+=,.@-]{2,32}`.
    pub name: String,
    /// The inline session policy's text, and compiled (none: the session has no permissions).
    pub policy: Option<(String, Policy)>,
    /// `DurationSeconds`, if given.
    pub duration: Option<i64>,
    /// Session tags.
    pub tags: Vec<(String, String)>,
}

impl GetFederationToken {
    /// Reads and checks the parameters.
    pub fn parse(params: &Params) -> Result<GetFederationToken, StsError> {
        required(params, "Name")?;
        let name = name_like(params, "Name", 2, 32)?.unwrap_or_default();
        Ok(GetFederationToken {
            name,
            policy: session_policy(params)?,
            duration: duration(params, 900, 129_600)?,
            tags: session_tags(params)?,
        })
    }
}

/// `Policy` (inline session policy) and `PolicyArns` (refused: managed session policies are not
/// served).
fn session_policy(params: &Params) -> Result<Option<(String, Policy)>, StsError> {
    if params.get("PolicyArns.member.1.arn").is_some() {
        return Err(StsError::invalid_parameter(
            "managed session policies (PolicyArns) are not supported: pass the policy inline as Policy",
        ));
    }
    match params.get("Policy") {
        None => Ok(None),
        Some(text) if text.chars().count() > MAX_POLICY_CHARS => Err(StsError::validation(format!(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to {MAX_POLICY_CHARS}"
        ))),
        Some(text) => {
            let compiled = Policy::parse(text, PolicyType::Session).map_err(|e| {
                StsError::new(400, "MalformedPolicyDocument", format!("the session policy: {e}"))
            })?;
            Ok(Some((text.to_owned(), compiled)))
        }
    }
}

/// `RoleArn`: required, an IAM role ARN in shape.
fn role_arn(params: &Params) -> Result<String, StsError> {
    let role_arn = required(params, "RoleArn")?.to_owned();
    if !is_role_arn(&role_arn) {
        return Err(constraint(
            "RoleArn",
            &role_arn,
            "Member must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
        ));
    }
    Ok(role_arn)
}

/// AWS's limit on `WebIdentityToken`, in characters.
pub const MAX_WEB_IDENTITY_TOKEN: usize = 20_000;

/// `AssumeRoleWithWebIdentity`'s parameters.
#[derive(Debug)]
pub struct AssumeRoleWithWebIdentity {
    /// The role as the caller named it (an IAM role ARN in shape only).
    pub role_arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// `WebIdentityToken`: the OpenID Connect ID token (a secret: never logged).
    pub token: String,
    /// `DurationSeconds`, if given.
    pub duration: Option<i64>,
    /// The inline session policy's text, and compiled.
    pub policy: Option<(String, Policy)>,
}

impl AssumeRoleWithWebIdentity {
    /// Reads and checks the parameters.
    pub fn parse(params: &Params) -> Result<AssumeRoleWithWebIdentity, StsError> {
        let role_arn = role_arn(params)?;
        required(params, "RoleSessionName")?;
        let session_name = name_like(params, "RoleSessionName", 2, 64)?.unwrap_or_default();
        let token = required(params, "WebIdentityToken")?;
        if !(4..=MAX_WEB_IDENTITY_TOKEN).contains(&token.chars().count()) {
            return Err(StsError::validation(format!(
                "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length between 4 and {MAX_WEB_IDENTITY_TOKEN}"
            )));
        }
        if params.get("ProviderId").is_some() {
            return Err(StsError::invalid_parameter(
                "ProviderId is for OAuth 2.0 access tokens of www.amazon.com and graph.facebook.com, which Iamlet does not verify: send an OpenID Connect ID token without it",
            ));
        }
        Ok(AssumeRoleWithWebIdentity {
            role_arn,
            session_name,
            token: token.to_owned(),
            duration: duration(params, 900, 43_200)?,
            policy: session_policy(params)?,
        })
    }
}

/// AWS's limit on `SAMLAssertion`, in characters.
pub const MAX_SAML_ASSERTION: usize = 100_000;

/// `AssumeRoleWithSAML`'s parameters.
#[derive(Debug)]
pub struct AssumeRoleWithSaml {
    /// The role as the caller named it (an IAM role ARN in shape only).
    pub role_arn: String,
    /// `PrincipalArn`: the SAML provider (`arn:aws:iam::ACCOUNT:saml-provider/NAME`).
    pub principal_arn: String,
    /// `SAMLAssertion`: base64 of the IdP's `samlp:Response` (a credential: never logged).
    pub assertion: String,
    /// `DurationSeconds`, if given.
    pub duration: Option<i64>,
    /// The inline session policy's text, and compiled.
    pub policy: Option<(String, Policy)>,
}

impl AssumeRoleWithSaml {
    /// Reads and checks the parameters.
    pub fn parse(params: &Params) -> Result<AssumeRoleWithSaml, StsError> {
        let role_arn = role_arn(params)?;
        let principal_arn = required(params, "PrincipalArn")?.to_owned();
        if !(20..=2048).contains(&principal_arn.chars().count())
            || iamlet_account::saml::parse_saml_arn(&principal_arn).is_none()
        {
            return Err(constraint(
                "PrincipalArn",
                &principal_arn,
                "Member must be a SAML provider ARN (arn:aws:iam::ACCOUNT:saml-provider/NAME)",
            ));
        }
        let assertion = required(params, "SAMLAssertion")?;
        if !(4..=MAX_SAML_ASSERTION).contains(&assertion.chars().count()) {
            return Err(StsError::validation(format!(
                "1 validation error detected: Value at 'sAMLAssertion' failed to satisfy constraint: Member must have length between 4 and {MAX_SAML_ASSERTION}"
            )));
        }
        Ok(AssumeRoleWithSaml {
            role_arn,
            principal_arn,
            assertion: assertion.to_owned(),
            duration: duration(params, 900, 43_200)?,
            policy: session_policy(params)?,
        })
    }
}

/// Whether `arn` has the shape of an IAM role ARN (`arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`).
fn is_role_arn(arn: &str) -> bool {
    Arn::parse(arn).is_some_and(|a| {
        a.service == "iam"
            && a.region.is_empty()
            && a.account.len() == 12
            && a.account.bytes().all(|b| b.is_ascii_digit())
            && a.resource
                .strip_prefix("role/")
                .and_then(|p| p.rsplit('/').next())
                .is_some_and(|name| !name.is_empty())
    })
}

/// `GetSessionToken`'s parameters.
#[derive(Debug)]
pub struct GetSessionToken {
    /// `DurationSeconds`, if given.
    pub duration: Option<i64>,
    /// `SerialNumber` and `TokenCode`.
    pub mfa: Option<MfaCode>,
}

impl GetSessionToken {
    /// Reads and checks the parameters.
    pub fn parse(params: &Params) -> Result<GetSessionToken, StsError> {
        Ok(GetSessionToken {
            duration: duration(params, 900, 129_600)?,
            mfa: mfa(params)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        Params::parse("", q.as_bytes())
    }

    const ROLE: &str = "RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fops%2Fbreak-glass";

    #[test]
    fn assume_role_reads_every_parameter() {
        let p = params(&format!(
            "Action=AssumeRole&Version=2011-06-15&{ROLE}&RoleSessionName=bob%40oncall&DurationSeconds=1800\
             &Policy=%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D\
             &Tags.member.1.Key=team&Tags.member.1.Value=platform&Tags.member.2.Key=ticket&Tags.member.2.Value=INC+42\
             &TransitiveTagKeys.member.1=team&ExternalId=xyz&SerialNumber=arn%3Aaws%3Aiam%3A%3A111122223333%3Amfa%2Fbob\
             &TokenCode=123456&SourceIdentity=bob"
        ));
        let a = AssumeRole::parse(&p).unwrap();
        assert_eq!(a.role_arn, "arn:aws:iam::111122223333:role/ops/break-glass");
        assert_eq!(a.session_name, "bob@oncall");
        assert_eq!(a.duration, Some(1800));
        assert!(a.policy.is_some());
        assert_eq!(
            a.tags,
            vec![
                ("team".to_owned(), "platform".to_owned()),
                ("ticket".to_owned(), "INC 42".to_owned())
            ]
        );
        assert_eq!(a.transitive_tag_keys, vec!["team".to_owned()]);
        assert_eq!(a.external_id.as_deref(), Some("xyz"));
        assert_eq!(a.mfa.unwrap().token_code, "123456");
        assert_eq!(a.source_identity.as_deref(), Some("bob"));
    }

    #[test]
    fn violations_name_the_parameter() {
        let cases = [
            ("RoleSessionName=s", "ValidationError", "'roleArn'"),
            ("RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Fbob&RoleSessionName=s1", "ValidationError", "'roleArn'"),
            (ROLE, "ValidationError", "'roleSessionName'"),
            (&format!("{ROLE}&RoleSessionName=has+space")[..], "ValidationError", "'roleSessionName'"),
            (&format!("{ROLE}&RoleSessionName=ok&DurationSeconds=60")[..], "ValidationError", "'durationSeconds'"),
            (&format!("{ROLE}&RoleSessionName=ok&Policy=%7Bnope")[..], "MalformedPolicyDocument", "session policy"),
            (&format!("{ROLE}&RoleSessionName=ok&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=A&Tags.member.2.Value=2")[..], "InvalidParameterValue", "Duplicate tag keys"),
            (&format!("{ROLE}&RoleSessionName=ok&TransitiveTagKeys.member.1=a")[..], "InvalidParameterValue", "transitive tag key `a`"),
            (&format!("{ROLE}&RoleSessionName=ok&TokenCode=123456")[..], "ValidationError", "SerialNumber"),
            (&format!("{ROLE}&RoleSessionName=ok&SerialNumber=arn%3Aaws%3Aiam%3A%3A1%3Amfa%2Fb&TokenCode=12a456")[..], "ValidationError", "'tokenCode'"),
            (&format!("{ROLE}&RoleSessionName=ok&SourceIdentity=aws%3Ax")[..], "ValidationError", "'sourceIdentity'"),
            (&format!("{ROLE}&RoleSessionName=ok&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FX")[..], "InvalidParameterValue", "PolicyArns"),
        ];
        for (q, code, needle) in cases {
            let e = AssumeRole::parse(&params(q)).unwrap_err();
            assert_eq!(e.code, code, "{q}: {e}");
            assert!(e.message.contains(needle), "{q}: {e}");
        }
        let long = "x".repeat(MAX_POLICY_CHARS + 1);
        let e = AssumeRole::parse(&params(&format!("{ROLE}&RoleSessionName=ok&Policy={long}")))
            .unwrap_err();
        assert!(e.message.contains("2048"), "{e}");
    }

    #[test]
    fn assume_role_with_saml_parameters() {
        let idp = "PrincipalArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Asaml-provider%2Fcorp";
        let p = AssumeRoleWithSaml::parse(&params(&format!(
            "{ROLE}&{idp}&SAMLAssertion=PHNhbWxwOlJlc3BvbnNlLz4%3D&DurationSeconds=900"
        )))
        .unwrap();
        assert_eq!(
            p.principal_arn,
            "arn:aws:iam::111122223333:saml-provider/corp"
        );
        assert_eq!(p.assertion, "PHNhbWxwOlJlc3BvbnNlLz4=");
        assert_eq!(p.duration, Some(900));
        let cases = [
            (format!("{ROLE}&SAMLAssertion=abcd"), "'principalArn'"),
            (
                format!("{ROLE}&PrincipalArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fx&SAMLAssertion=abcd"),
                "'principalArn'",
            ),
            (format!("{ROLE}&{idp}"), "'sAMLAssertion'"),
            (format!("{ROLE}&{idp}&SAMLAssertion=abc"), "'sAMLAssertion'"),
            (
                format!("{ROLE}&{idp}&SAMLAssertion={}", "A".repeat(MAX_SAML_ASSERTION + 1)),
                "'sAMLAssertion'",
            ),
        ];
        for (q, needle) in cases {
            let e = AssumeRoleWithSaml::parse(&params(&q)).unwrap_err();
            assert_eq!(e.code, "ValidationError", "{q}");
            assert!(e.message.contains(needle), "{q}: {e}");
        }
    }

    #[test]
    fn get_session_token_durations_and_mfa() {
        assert_eq!(GetSessionToken::parse(&params("")).unwrap().duration, None);
        assert_eq!(
            GetSessionToken::parse(&params("DurationSeconds=129600"))
                .unwrap()
                .duration,
            Some(129_600)
        );
        assert!(GetSessionToken::parse(&params("DurationSeconds=129601")).is_err());
        assert!(
            GetSessionToken::parse(&params("SerialNumber=arn%3Aaws%3Aiam%3A%3A1%3Amfa%2Fb"))
                .is_err()
        );
    }
}
