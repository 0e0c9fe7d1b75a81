//! `AssumeRoleWithWebIdentity`, as STS does it: an unsigned call carrying an OpenID Connect ID
//! token. The token's issuer names the provider (`arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH`,
//! in the role's account); the token is verified against the provider's keys and client ids
//! ([`super::oidc`]); then the role's trust policy alone decides `sts:AssumeRoleWithWebIdentity`
//! for the provider as principal (and `sts:TagSession`, `sts:SetSourceIdentity` when the token
//! carries session tags or a source identity), with the provider's keys `HOST/PATH:sub`, `:aud`,
//! `:oaud`, `:amr`, `aws:FederatedProvider`, `sts:RoleSessionName`, `sts:SourceIdentity`,
//! `aws:RequestTag/*`, `aws:TagKeys`, `sts:TransitiveTagKeys`. The session is the role's, with the
//! token's tags and the provider, which its requests carry as `aws:FederatedProvider`.

use super::assume_role::NewSession;
use super::oidc::{invalid_token, unverified_issuer, Verified};
use super::request::{self, AssumeRoleWithWebIdentity};
use super::response::{element, StsError};
use super::trust::Federated;
use super::{store_error, Answer, Call, Sts};
use iamlet_decision_log::{DecisionRecord, Federation};
use iamlet_engine::{Arn, ContextValue};
use iamlet_store::StoreError;
use serde_json::{Map, Value};

/// The claim AWS reads session tags from.
const TAGS_CLAIM: &str = "https://aws.amazon.com/tags";
/// The claim AWS reads a source identity from.
const SOURCE_IDENTITY_CLAIM: &str = "https://aws.amazon.com/source_identity";

/// Session tags, in the order the token gives them.
type SessionTags = Vec<(String, String)>;

impl Sts {
    pub(super) async fn assume_role_with_web_identity(
        &self,
        call: &Call<'_>,
        p: AssumeRoleWithWebIdentity,
        rec: &mut DecisionRecord,
    ) -> Answer {
        let now = chrono::Utc::now();
        // The provider: the token's issuer in the role's account (AWS resolves it there).
        let iss = unverified_issuer(&p.token)?;
        let url = iss
            .strip_prefix("https://")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| invalid_token(format!("Issuer {iss} is not an https:// URL")))?;
        let role_arn = Arn::parse(&p.role_arn)
            .ok_or_else(|| StsError::validation(format!("{} is not an ARN", p.role_arn)))?;
        let provider_arn = format!(
            "arn:{}:iam::{}:oidc-provider/{url}",
            role_arn.partition, role_arn.account
        );
        let no_provider = || {
            invalid_token(format!(
                "No OpenIDConnect provider found in your account for {iss}"
            ))
        };
        let provider = match self.authz.store().oidc_provider(&provider_arn).await {
            Ok(Some(found)) => found,
            Ok(None) | Err(StoreError::UnknownPrincipal(_)) => return Err(no_provider()),
            Err(e) => return Err(store_error(e)),
        };
        rec.principal = Some(provider_arn.clone());
        let token = self
            .keys
            .verify(&p.token, &provider, now.timestamp())
            .await?;
        rec.federation = Some(Federation {
            provider: provider_arn.clone(),
            subject: token.subject.clone(),
        });

        // The role, by its exact ARN.
        let (role, found, duration) = self
            .federated_role(
                &p.role_arn,
                p.duration,
                "sts:AssumeRoleWithWebIdentity",
                rec,
            )
            .await?;
        let (tags, transitive) = session_tags(&token.claims)?;
        let source_identity = source_identity(&token.claims)?;

        // The decision: the trust policy alone, for the provider as principal.
        let keys = condition_keys(
            url,
            &provider_arn,
            &token,
            &p,
            &tags,
            &transitive,
            source_identity.as_deref(),
        );
        self.decide_trust(
            call,
            &role,
            &found,
            &Federated {
                provider_arn: &provider_arn,
                subject: &token.subject,
                action: "sts:AssumeRoleWithWebIdentity",
                tagged: !tags.is_empty(),
                source_identity: source_identity.is_some(),
                keys,
            },
            rec,
        )?;

        let new = found.session(NewSession {
            name: &p.session_name,
            issued_at: now.timestamp(),
            duration,
            mfa_authenticated_at: None,
            policy: p.policy.as_ref().map(|(text, _)| text.clone()),
            tags,
            transitive_tag_keys: transitive,
            source_identity: source_identity.clone(),
            federated_provider: Some(provider_arn),
        });
        let assumed_role_user = new.assumed_role_user();
        let session = new.session;
        let credentials = self.issue(session)?;
        let mut xml = String::new();
        xml.push_str(&credentials);
        xml.push_str(&element("SubjectFromWebIdentityToken", &token.subject));
        xml.push_str(&assumed_role_user);
        xml.push_str(&element("Provider", &iss));
        xml.push_str(&element(
            "Audience",
            token.audience.first().map_or("", String::as_str),
        ));
        if let Some(s) = &source_identity {
            xml.push_str(&element("SourceIdentity", s));
        }
        Ok(xml)
    }
}

/// The keys the trust policy sees.
fn condition_keys(
    url: &str,
    provider_arn: &str,
    token: &Verified,
    p: &AssumeRoleWithWebIdentity,
    tags: &[(String, String)],
    transitive: &[String],
    source_identity: Option<&str>,
) -> Vec<(String, ContextValue)> {
    let value = |list: &[String]| -> ContextValue {
        match list {
            [one] => one.as_str().into(),
            many => ContextValue::multi(many.to_vec()),
        }
    };
    let mut keys: Vec<(String, ContextValue)> = vec![
        (format!("{url}:sub"), token.subject.as_str().into()),
        (format!("{url}:aud"), value(&token.audience)),
        ("aws:FederatedProvider".to_owned(), provider_arn.into()),
        (
            "sts:RoleSessionName".to_owned(),
            p.session_name.as_str().into(),
        ),
    ];
    if let Some(oaud) = &token.original_audience {
        keys.push((format!("{url}:oaud"), value(oaud)));
    }
    if let Some(amr) = token.claims.get("amr").and_then(strings) {
        keys.push((format!("{url}:amr"), ContextValue::multi(amr)));
    }
    if let Some(s) = source_identity {
        keys.push(("sts:SourceIdentity".to_owned(), s.into()));
    }
    for (k, v) in tags {
        keys.push((format!("aws:RequestTag/{k}"), v.as_str().into()));
    }
    if !tags.is_empty() {
        keys.push((
            "aws:TagKeys".to_owned(),
            ContextValue::multi(tags.iter().map(|(k, _)| k.clone()).collect()),
        ));
    }
    if !transitive.is_empty() {
        keys.push((
            "sts:TransitiveTagKeys".to_owned(),
            ContextValue::multi(transitive.to_vec()),
        ));
    }
    keys
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// Session tags from the `https://aws.amazon.com/tags` claim: `principal_tags` (each value a
/// string or a list of one) and `transitive_tag_keys`, with STS's limits.
fn session_tags(claims: &Map<String, Value>) -> Result<(SessionTags, Vec<String>), StsError> {
    let Some(claim) = claims.get(TAGS_CLAIM) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let bad = |why: &str| invalid_token(format!("The {TAGS_CLAIM} claim is not valid: {why}"));
    let claim = claim
        .as_object()
        .ok_or_else(|| bad("it is not an object"))?;
    let mut tags: Vec<(String, String)> = Vec::new();
    if let Some(principal_tags) = claim.get("principal_tags") {
        let principal_tags = principal_tags
            .as_object()
            .ok_or_else(|| bad("principal_tags is not an object"))?;
        for (k, v) in principal_tags {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) => match items.as_slice() {
                    [Value::String(s)] => s.clone(),
                    _ => {
                        return Err(bad(&format!(
                            "the tag {k} must have exactly one string value"
                        )))
                    }
                },
                _ => return Err(bad(&format!("the tag {k} must have a string value"))),
            };
            if !(1..=128).contains(&k.chars().count()) || value.chars().count() > 256 {
                return Err(bad(&format!(
                    "the tag {k}: keys are 1 to 128 characters and values at most 256"
                )));
            }
            if tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(k)) {
                return Err(bad(&format!(
                    "the tag key {k} is repeated (tag keys are case-insensitive)"
                )));
            }
            tags.push((k.clone(), value));
        }
    }
    if tags.len() > request::MAX_TAGS {
        return Err(StsError::new(
            400,
            "PackedPolicyTooLarge",
            format!("{} session tags; at most {}", tags.len(), request::MAX_TAGS),
        ));
    }
    let mut transitive = Vec::new();
    if let Some(keys) = claim.get("transitive_tag_keys") {
        let keys =
            strings(keys).ok_or_else(|| bad("transitive_tag_keys is not a list of strings"))?;
        for k in keys {
            if !tags.iter().any(|(t, _)| t.eq_ignore_ascii_case(&k)) {
                return Err(bad(&format!(
                    "the transitive tag key {k} is not among principal_tags"
                )));
            }
            transitive.push(k);
        }
    }
    Ok((tags, transitive))
}

/// The source identity claim: `[\w+=,.@-]{2,64}`.
fn source_identity(claims: &Map<String, Value>) -> Result<Option<String>, StsError> {
    match claims.get(SOURCE_IDENTITY_CLAIM) {
        None => Ok(None),
        Some(Value::String(s))
            if (2..=64).contains(&s.chars().count())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) =>
        {
            Ok(Some(s.clone()))
        }
        Some(_) => Err(invalid_token(format!(
            "The {SOURCE_IDENTITY_CLAIM} claim must be 2 to 64 characters of [\\w+=,.@-]"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn tags_come_from_the_aws_claim() {
        let (tags, transitive) = session_tags(&claims(json!({TAGS_CLAIM: {
            "principal_tags": {"team": ["infra"], "env": "prod"},
            "transitive_tag_keys": ["team"]
        }})))
        .unwrap();
        assert_eq!(tags.len(), 2);
        assert!(tags.contains(&("team".to_owned(), "infra".to_owned())));
        assert_eq!(transitive, vec!["team"]);
        for bad in [
            json!("x"),
            json!({"principal_tags": {"a": ["1", "2"]}}),
            json!({"principal_tags": {"a": 1}}),
            json!({"principal_tags": {"a": "1", "A": "2"}}),
            json!({"principal_tags": {"a": "1"}, "transitive_tag_keys": ["b"]}),
            json!({"principal_tags": {"a": "x".repeat(257)}}),
        ] {
            let e = session_tags(&claims(json!({ TAGS_CLAIM: bad.clone() }))).unwrap_err();
            assert_eq!(e.code, "InvalidIdentityToken", "{bad}");
        }
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
        let e = session_tags(&claims(json!({ TAGS_CLAIM: {"principal_tags": many} }))).unwrap_err();
        assert_eq!(e.code, "PackedPolicyTooLarge");
        assert_eq!(session_tags(&Map::new()).unwrap(), (Vec::new(), Vec::new()));
    }

    #[test]
    fn source_identity_is_checked() {
        assert_eq!(
            source_identity(&claims(json!({SOURCE_IDENTITY_CLAIM: "alice@example.com"}))).unwrap(),
            Some("alice@example.com".to_owned())
        );
        assert!(source_identity(&claims(json!({SOURCE_IDENTITY_CLAIM: "a b"}))).is_err());
        assert!(source_identity(&claims(json!({SOURCE_IDENTITY_CLAIM: 3}))).is_err());
    }
}
