//! Stage 1, identify: who is asking. In this order: the owner of the access key of a SigV4
//! signature (header or presigned URL), verified with the credentials file; an mTLS SPIFFE ID mapped
//! by `[[principal.spiffe]]` rules; the claims of a JWT Envoy's `jwt_authn` verified; a header the
//! configuration names as trusted. The identity carries what the request's context learns from how
//! the caller authenticated (MFA, session tags, token times).

use crate::input::{CheckInput, Origin};
use crate::settings::{JwtSection, PrincipalSection, SpiffeRule};
use iamlet_auth::sigv4::{self, SigV4Error};
use iamlet_auth::{Authenticator, Caller, OpenedSession};
use iamlet_engine::ContextValue;
use std::collections::HashMap;
use std::sync::Arc;

/// Who is asking, and what the request's context learns from how they authenticated.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The principal's ARN.
    pub principal: String,
    /// For a federated user session: the IAM user that issued it.
    pub session_issuer: Option<String>,
    /// Condition keys the authentication sets (`aws:MultiFactorAuthPresent`, `aws:PrincipalTag/*`
    /// of a session, …).
    pub context: Vec<(String, ContextValue)>,
    /// Temporary credentials: their session policy limits every request.
    pub session: Option<Arc<OpenedSession>>,
    /// The region a SigV4 signature's credential scope names. It never becomes
    /// `aws:RequestedRegion` (the server's region is the request's): a scope naming another region
    /// than the server's is a signature for another endpoint, refused.
    pub signed_region: Option<String>,
}

impl Identity {
    /// A principal named by the configuration's means (SPIFFE rule, trusted header): nothing more
    /// is known of it.
    fn named(principal: String) -> Identity {
        Identity {
            principal,
            session_issuer: None,
            context: Vec::new(),
            session: None,
            signed_region: None,
        }
    }

    /// The identity of a verified signer: an IAM user, or a session with its MFA, tags and policy.
    pub fn of_caller(caller: &Caller, signed_region: String, now: i64) -> Identity {
        let Caller::Session(opened) = caller else {
            return Identity {
                signed_region: Some(signed_region),
                ..Identity::named(caller.principal().to_owned())
            };
        };
        let s = &opened.session;
        // Temporary credentials always say whether MFA was used (long-term keys never do).
        let mut context = vec![(
            "aws:MultiFactorAuthPresent".to_owned(),
            ContextValue::from(s.mfa_authenticated_at.is_some()),
        )];
        if let Some(at) = s.mfa_authenticated_at {
            context.push((
                "aws:MultiFactorAuthAge".to_owned(),
                now.saturating_sub(at).max(0).to_string().into(),
            ));
        }
        if let Some(t) = rfc3339(s.issued_at) {
            context.push(("aws:TokenIssueTime".to_owned(), t.into()));
        }
        for (k, v) in &s.tags {
            context.push((format!("aws:PrincipalTag/{k}"), v.as_str().into()));
        }
        if let Some(id) = &s.source_identity {
            context.push(("aws:SourceIdentity".to_owned(), id.as_str().into()));
        }
        if let Some(p) = &s.federated_provider {
            context.push(("aws:FederatedProvider".to_owned(), p.as_str().into()));
        }
        // A federated user session (`GetFederationToken`) is resolved through the IAM user who
        // created it; role sessions name their role in their ARN.
        let federated_user = iamlet_engine::Arn::parse(&s.arn)
            .is_some_and(|a| a.service == "sts" && a.resource.starts_with("federated-user/"));
        Identity {
            principal: s.arn.clone(),
            session_issuer: if federated_user {
                s.user_arn.clone()
            } else {
                None
            },
            context,
            session: Some(opened.clone()),
            signed_region: Some(signed_region),
        }
    }
}

fn rfc3339(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// The caller of a request, by the configured means; `Ok(None)` when none applies (401). A
/// signature that does not verify is an error (403 with AWS's code).
pub(crate) fn identify(
    principal: &PrincipalSection,
    authenticator: Option<&Authenticator>,
    input: &CheckInput,
) -> Result<Option<Identity>, SigV4Error> {
    if let Some(authenticator) = authenticator {
        let req = sigv4::HttpRequest {
            method: &input.method,
            host: &input.host,
            path: &input.path,
            headers: &input.headers,
            body: input.body.as_deref(),
        };
        let now = chrono::Utc::now();
        if let Some(v) = authenticator.verify(&req, now)? {
            return Ok(Some(Identity::of_caller(
                &v.holder,
                v.region,
                now.timestamp(),
            )));
        }
    }
    if let Some(id) = input.source_principal.as_deref().filter(|s| !s.is_empty()) {
        if let Some(principal) = spiffe_principal(&principal.spiffe, id) {
            return Ok(Some(Identity::named(principal)));
        }
    }
    if let Some(jwt) = &principal.jwt {
        if let Some(i) = jwt_identity(jwt, input) {
            return Ok(Some(i));
        }
    }
    // A forward-auth subrequest carries whatever headers the client sent.
    let Some(header) = principal
        .trusted_header
        .as_ref()
        .filter(|_| input.origin != Origin::ForwardAuth)
    else {
        return Ok(None);
    };
    Ok(input
        .headers
        .get(header.as_str())
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| Identity::named(p.to_owned())))
}

/// The access key id a SigV4 signature names (header or presigned), for the decision log.
pub(crate) fn signing_key_id(input: &CheckInput) -> Option<String> {
    let credential = match input.headers.get("authorization") {
        Some(a) if a.trim_start().starts_with(sigv4::ALGORITHM) => {
            a.split_once("Credential=").map(|(_, c)| c.to_owned())?
        }
        _ => {
            let query = input.path.split_once('?')?.1;
            query
                .split('&')
                .find_map(|p| p.strip_prefix("X-Amz-Credential="))
                .map(|c| {
                    percent_encoding::percent_decode_str(c)
                        .decode_utf8_lossy()
                        .into_owned()
                })?
        }
    };
    let id = credential.split('/').next()?.trim();
    (!id.is_empty() && id.len() <= 128).then(|| id.to_owned())
}

/// Fills `{name}` placeholders; `None` when a name has no value.
fn fill(template: &str, get: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let (before, after) = rest.split_at(start);
        out.push_str(before);
        let end = after.find('}')?;
        out.push_str(&get(after.get(1..end)?)?);
        rest = after.get(end + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

fn spiffe_principal(rules: &[SpiffeRule], id: &str) -> Option<String> {
    rules.iter().find_map(|r| {
        let pat: Vec<&str> = r.pattern.split('/').collect();
        let got: Vec<&str> = id.split('/').collect();
        if pat.len() != got.len() {
            return None;
        }
        let mut caps = HashMap::new();
        for (p, g) in pat.iter().zip(&got) {
            match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) if !g.is_empty() => {
                    caps.insert(name, (*g).to_owned());
                }
                Some(_) => return None,
                None if p == g => {}
                None => return None,
            }
        }
        fill(&r.principal, &|n| caps.get(n).cloned())
    })
}

fn claim_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn jwt_identity(jwt: &JwtSection, input: &CheckInput) -> Option<Identity> {
    let payload = input
        .filter_metadata
        .get(&jwt.filter)?
        .get(&jwt.payload_key)?;
    let claim = |n: &str| payload.get(n).and_then(claim_text);
    let principal = fill(&jwt.principal, &claim)?;
    let amr: Vec<String> = payload
        .get("amr")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(claim_text).collect())
        .unwrap_or_default();
    let mfa = amr.iter().any(|m| m == "mfa");
    let mut context = vec![(
        "aws:MultiFactorAuthPresent".to_owned(),
        ContextValue::from(mfa),
    )];
    if mfa {
        if let Some(auth) = payload.get("auth_time").and_then(|t| t.as_i64()) {
            let age = chrono::Utc::now().timestamp().saturating_sub(auth).max(0);
            context.push(("aws:MultiFactorAuthAge".to_owned(), age.to_string().into()));
        }
    }
    if let Some(t) = payload
        .get("iat")
        .and_then(|t| t.as_i64())
        .and_then(rfc3339)
    {
        context.push(("aws:TokenIssueTime".to_owned(), t.into()));
    }
    for c in &jwt.tag_claims {
        if let Some(v) = claim(c) {
            context.push((format!("aws:PrincipalTag/{c}"), v.into()));
        }
    }
    Some(Identity {
        session_issuer: jwt.session_issuer.as_deref().and_then(claim),
        context,
        ..Identity::named(principal)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_keys_are_read_from_header_and_query() {
        let path = "/o?X-Amz-Credential=AKIAEXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=aeee&x-amz-security-token=tok&a=b";
        let input = CheckInput {
            path: path.to_owned(),
            ..CheckInput::default()
        };
        assert_eq!(signing_key_id(&input).as_deref(), Some("AKIAEXAMPLE"));
        let mut input = CheckInput::default();
        input.headers.insert(
            "authorization".into(),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host, Signature=00".into(),
        );
        assert_eq!(signing_key_id(&input).as_deref(), Some("AKIDEXAMPLE"));
        input
            .headers
            .insert("authorization".into(), "Bearer x".into());
        assert_eq!(signing_key_id(&input), None);
    }

    #[test]
    fn forward_auth_subrequests_never_name_the_principal_in_a_header() {
        let principal = PrincipalSection {
            trusted_header: Some("x-iamlet-principal".into()),
            ..PrincipalSection::default()
        };
        let mut input = CheckInput::default();
        input.headers.insert(
            "x-iamlet-principal".into(),
            "arn:aws:iam::111122223333:user/alice".into(),
        );
        let id = identify(&principal, None, &input).unwrap().unwrap();
        assert_eq!(id.principal, "arn:aws:iam::111122223333:user/alice");
        input.origin = Origin::ForwardAuth;
        assert!(identify(&principal, None, &input).unwrap().is_none());
    }

    #[test]
    fn spiffe_rules_map_ids() {
        let rules = vec![SpiffeRule {
            pattern: "spiffe://cluster.local/ns/{ns}/sa/{sa}".into(),
            principal: "arn:aws:sts::111122223333:assumed-role/{sa}/{ns}".into(),
        }];
        assert_eq!(
            spiffe_principal(&rules, "spiffe://cluster.local/ns/prod/sa/billing").as_deref(),
            Some("arn:aws:sts::111122223333:assumed-role/billing/prod")
        );
        assert!(spiffe_principal(&rules, "spiffe://other/ns/prod/sa/billing").is_none());
        assert!(spiffe_principal(&rules, "spiffe://cluster.local/ns/prod/sa").is_none());
    }

    #[test]
    fn jwt_claims_make_principals_and_mfa_keys() {
        let jwt = JwtSection {
            filter: "envoy.filters.http.jwt_authn".into(),
            payload_key: "jwt_payload".into(),
            principal: "arn:aws:iam::111122223333:user/{sub}".into(),
            session_issuer: None,
            tag_claims: vec!["team".into()],
        };
        let mut input = CheckInput::default();
        input.filter_metadata.insert(
            "envoy.filters.http.jwt_authn".into(),
            serde_json::json!({"jwt_payload": {"sub": "alice", "amr": ["pwd", "mfa"], "auth_time": chrono::Utc::now().timestamp() - 30, "team": "red"}}),
        );
        let id = jwt_identity(&jwt, &input).unwrap();
        assert_eq!(id.principal, "arn:aws:iam::111122223333:user/alice");
        let get = |k: &str| {
            id.context
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.values()[0].clone())
        };
        assert_eq!(get("aws:MultiFactorAuthPresent").as_deref(), Some("true"));
        assert!(
            get("aws:MultiFactorAuthAge")
                .unwrap()
                .parse::<i64>()
                .unwrap()
                >= 30
        );
        assert_eq!(get("aws:PrincipalTag/team").as_deref(), Some("red"));
        input.filter_metadata.clear();
        assert!(jwt_identity(&jwt, &input).is_none());
    }
}
