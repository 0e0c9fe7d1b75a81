//! OpenID Connect ID tokens checked as STS checks them for `AssumeRoleWithWebIdentity`: the
//! issuer's signing keys found by discovery (`ISSUER/.well-known/openid-configuration`, then its
//! `jwks_uri`) over HTTPS trusted as IAM trusts it ([`super::idp_tls`]), cached per provider and
//! fetched again when a token names a key id the cache lacks (at most once per
//! [`REFRESH_INTERVAL`]); the signature (RS256/384/512, ES256/384 only), then `exp`, `nbf`, `iat`
//! with [`SKEW_SECONDS`] of tolerance, and the audience (`azp` when present, else `aud`) against
//! the provider's client ids. Errors are STS's.

use super::idp_tls::IdpVerifier;
use super::response::StsError;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::body::Bytes;
use hyper::{StatusCode, Uri};
use iamlet_store::OidcProviderDetail;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long fetched keys are used before they are fetched again.
const KEYS_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches for one provider (an unknown `kid` cannot make Iamlet
/// hammer the issuer).
pub(crate) const REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub(crate) const SKEW_SECONDS: i64 = 60;
/// The largest discovery document or JWKS read.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;
/// Time allowed for each HTTPS request to the issuer.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// STS's error for a token that is not one it accepts.
pub(crate) fn invalid_token(message: impl Into<String>) -> StsError {
    StsError::new(400, "InvalidIdentityToken", message)
}

/// STS's error for an issuer that could not be reached.
fn idp_unreachable(message: impl Into<String>) -> StsError {
    StsError::new(400, "IDPCommunicationError", message)
}

const NO_KEY: &str = "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements";

/// A token's claims, before its signature is checked: only to find the provider.
pub(crate) fn unverified_issuer(token: &str) -> Result<String, StsError> {
    let not_jwt = || {
        invalid_token(
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
        )
    };
    let claims: Map<String, Value> =
        jsonwebtoken::dangerous::insecure_decode::<Map<String, Value>>(token)
            .map_err(|_| not_jwt())?
            .claims;
    match claims.get("iss") {
        Some(Value::String(iss)) => Ok(iss.clone()),
        _ => Err(invalid_token("Missing a required claim: iss")),
    }
}

/// A verified token: its claims.
#[derive(Debug)]
pub(crate) struct Verified {
    /// Every claim.
    pub claims: Map<String, Value>,
    /// The audience the provider matched: `azp` when present, else the `aud` values.
    pub audience: Vec<String>,
    /// `aud` when `azp` was present (`oaud`).
    pub original_audience: Option<Vec<String>>,
    /// `sub`.
    pub subject: String,
}

#[derive(Debug)]
struct CachedKeys {
    keys: JwkSet,
    fetched: Instant,
}

/// The signing keys of every provider asked about, by provider ARN and thumbprints.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    entries: Mutex<HashMap<String, CachedKeys>>,
    /// Held while fetching, so that concurrent calls naming a new `kid` fetch once, not each.
    fetching: tokio::sync::Mutex<()>,
}

fn cache_key(p: &OidcProviderDetail) -> String {
    format!("{} {}", p.arn, p.thumbprint_list.join(","))
}

impl KeyCache {
    fn cached(&self, key: &str) -> Option<(JwkSet, Instant)> {
        let entries = self.entries.lock().ok()?;
        entries.get(key).map(|c| (c.keys.clone(), c.fetched))
    }

    fn store(&self, key: String, keys: JwkSet) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(
                key,
                CachedKeys {
                    keys,
                    fetched: Instant::now(),
                },
            );
        }
    }

    /// The provider's keys: cached ones while fresh and holding `kid`; else fetched, unless the
    /// last fetch was under [`REFRESH_INTERVAL`] ago.
    async fn keys(&self, p: &OidcProviderDetail, kid: Option<&str>) -> Result<JwkSet, StsError> {
        let key = cache_key(p);
        let usable = |kid: Option<&str>| {
            self.cached(&key).filter(|(keys, fetched)| {
                let fresh = fetched.elapsed() < KEYS_TTL;
                let has = kid.is_none_or(|k| keys.find(k).is_some());
                (fresh && has) || fetched.elapsed() < REFRESH_INTERVAL
            })
        };
        if let Some((keys, _)) = usable(kid) {
            return Ok(keys);
        }
        let _fetching = self.fetching.lock().await;
        // Another call may have fetched while this one waited.
        if let Some((keys, _)) = usable(kid) {
            return Ok(keys);
        }
        let keys = fetch_keys(p).await?;
        self.store(key, keys.clone());
        Ok(keys)
    }

    /// Verifies a token of the provider's.
    pub(crate) async fn verify(
        &self,
        token: &str,
        p: &OidcProviderDetail,
        now: i64,
    ) -> Result<Verified, StsError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            invalid_token("The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
        })?;
        let alg = header.alg;
        if !matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::ES256
                | Algorithm::ES384
        ) {
            return Err(invalid_token(format!(
                "Unsupported token signature algorithm {alg:?}: STS accepts RS256, RS384, RS512, ES256 and ES384"
            )));
        }
        let keys = self.keys(p, header.kid.as_deref()).await?;
        let candidates: Vec<&Jwk> = match &header.kid {
            Some(kid) => keys
                .keys
                .iter()
                .filter(|k| k.common.key_id.as_deref() == Some(kid))
                .collect(),
            None => keys.keys.iter().collect(),
        };
        let mut validation = Validation::new(alg);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let mut claims = None;
        for jwk in candidates {
            if jwk
                .common
                .public_key_use
                .as_ref()
                .is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature)
            {
                continue;
            }
            if let Some(key_alg) = jwk.common.key_algorithm {
                if format!("{key_alg:?}") != format!("{alg:?}") {
                    continue;
                }
            }
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            if let Ok(data) = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation) {
                claims = Some(data.claims);
                break;
            }
        }
        let Some(claims) = claims else {
            return Err(invalid_token(NO_KEY));
        };
        check_claims(claims, p, now)
    }
}

fn number(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, StsError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or_else(|| invalid_token(format!("The claim {name} is not a time"))),
        Some(_) => Err(invalid_token(format!("The claim {name} is not a time"))),
    }
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

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The checks after the signature: times, issuer, audience, subject.
pub(crate) fn check_claims(
    claims: Map<String, Value>,
    p: &OidcProviderDetail,
    now: i64,
) -> Result<Verified, StsError> {
    if claims.get("iss").and_then(Value::as_str) != Some(p.issuer().as_str()) {
        return Err(invalid_token(
            "Issuer in the token does not match the provider",
        ));
    }
    let exp =
        number(&claims, "exp")?.ok_or_else(|| invalid_token("Missing a required claim: exp"))?;
    if now > exp.saturating_add(SKEW_SECONDS) {
        return Err(StsError::new(
            400,
            "ExpiredTokenException",
            format!(
                "Token expired: current date/time {} must be before the expiration date/time {}",
                rfc3339(now),
                rfc3339(exp)
            ),
        ));
    }
    if let Some(nbf) = number(&claims, "nbf")? {
        if nbf > now.saturating_add(SKEW_SECONDS) {
            return Err(invalid_token(format!(
                "Token is not valid yet: its nbf {} is after the current date/time {}",
                rfc3339(nbf),
                rfc3339(now)
            )));
        }
    }
    if let Some(iat) = number(&claims, "iat")? {
        if iat > now.saturating_add(SKEW_SECONDS) {
            return Err(invalid_token(format!(
                "Token is not valid yet: it was issued at {}, after the current date/time {}",
                rfc3339(iat),
                rfc3339(now)
            )));
        }
    }
    let aud =
        match claims.get("aud") {
            None => None,
            Some(v) => Some(strings(v).ok_or_else(|| {
                invalid_token("The claim aud is not a string or a list of strings")
            })?),
        };
    // AWS's rule: `azp`, when present, is the audience matched (and `aud` becomes `oaud`).
    let (audience, original_audience) = match claims.get("azp") {
        Some(Value::String(azp)) => (vec![azp.clone()], aud),
        Some(_) => return Err(invalid_token("The claim azp is not a string")),
        None => (
            aud.ok_or_else(|| invalid_token("Missing a required claim: aud"))?,
            None,
        ),
    };
    if !audience.iter().any(|a| p.client_id_list.contains(a)) {
        return Err(invalid_token("Incorrect token audience"));
    }
    let subject = match claims.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(invalid_token("Missing a required claim: sub")),
    };
    Ok(Verified {
        claims,
        audience,
        original_audience,
        subject,
    })
}

/// GETs an HTTPS URL with the provider's TLS trust: its JSON.
async fn get_json(url: &str, p: &OidcProviderDetail) -> Result<Value, StsError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| idp_unreachable(format!("{url} is not a URL")))?;
    if uri.scheme_str() != Some("https") {
        return Err(idp_unreachable(format!(
            "{url}: an identity provider is reached over https:// only"
        )));
    }
    let tls = IdpVerifier::new(&p.thumbprint_list)
        .client_config()
        .map_err(|e| idp_unreachable(format!("TLS configuration: {e}")))?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Empty<Bytes>>(connector);
    let req = hyper::Request::get(uri)
        .header("accept", "application/json")
        .body(Empty::new())
        .map_err(|e| idp_unreachable(e.to_string()))?;
    let unreachable = |what: String| {
        idp_unreachable(format!(
            "The identity provider could not be reached: {url}: {what}"
        ))
    };
    let resp = tokio::time::timeout(FETCH_TIMEOUT, client.request(req))
        .await
        .map_err(|_| unreachable("timed out".into()))?
        .map_err(|e| unreachable(error_chain(&e)))?;
    if resp.status() != StatusCode::OK {
        return Err(unreachable(format!("HTTP {}", resp.status())));
    }
    let body = tokio::time::timeout(
        FETCH_TIMEOUT,
        Limited::new(resp.into_body(), MAX_DOCUMENT_BYTES).collect(),
    )
    .await
    .map_err(|_| unreachable("timed out".into()))?
    .map_err(|e| unreachable(format!("reading the body: {e}")))?
    .to_bytes();
    serde_json::from_slice(&body).map_err(|e| unreachable(format!("not JSON: {e}")))
}

/// An error and its causes, for the log (TLS failures hide in the sources).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Discovery, then the JWKS.
async fn fetch_keys(p: &OidcProviderDetail) -> Result<JwkSet, StsError> {
    let issuer = p.issuer();
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let config = get_json(&discovery, p).await?;
    let jwks_uri = config
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid_token(format!("{NO_KEY} (the discovery document has no jwks_uri)")))?
        .to_owned();
    let jwks = get_json(&jwks_uri, p).await?;
    // Keys of kinds this crate cannot read are skipped, not fatal: an issuer may publish them.
    let keys: Vec<Jwk> = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid_token(format!("{NO_KEY} (the JWKS has no keys)")))?
        .iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .collect();
    Ok(JwkSet { keys })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn provider() -> OidcProviderDetail {
        OidcProviderDetail {
            arn: "arn:aws:iam::111122223333:oidc-provider/issuer.example.com/k8s".into(),
            url: "issuer.example.com/k8s".into(),
            client_id_list: vec!["sts.amazonaws.com".into()],
            thumbprint_list: Vec::new(),
        }
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn claims_are_checked_as_sts_does() {
        let p = provider();
        let ok = json!({"iss": "https://issuer.example.com/k8s", "aud": ["sts.amazonaws.com", "x"],
            "sub": "system:serviceaccount:ns:sa", "exp": NOW + 60, "iat": NOW - 10});
        let v = check_claims(claims(ok.clone()), &p, NOW).unwrap();
        assert_eq!(v.subject, "system:serviceaccount:ns:sa");
        assert_eq!(v.audience, vec!["sts.amazonaws.com", "x"]);

        let with = |k: &str, val: Value| {
            let mut c = claims(ok.clone());
            c.insert(k.into(), val);
            check_claims(c, &p, NOW).unwrap_err()
        };
        let without = |k: &str| {
            let mut c = claims(ok.clone());
            c.remove(k);
            check_claims(c, &p, NOW).unwrap_err()
        };
        assert_eq!(
            with("exp", json!(NOW - SKEW_SECONDS - 1)).code,
            "ExpiredTokenException"
        );
        assert!(check_claims(
            claims(
                json!({"iss": "https://issuer.example.com/k8s", "aud": "sts.amazonaws.com",
            "sub": "s", "exp": NOW - SKEW_SECONDS + 1})
            ),
            &p,
            NOW
        )
        .is_ok());
        assert_eq!(
            with("nbf", json!(NOW + SKEW_SECONDS + 1)).code,
            "InvalidIdentityToken"
        );
        assert_eq!(with("iat", json!(NOW + 3600)).code, "InvalidIdentityToken");
        assert_eq!(
            with("aud", json!("other")).message,
            "Incorrect token audience"
        );
        assert_eq!(with("aud", json!(42)).code, "InvalidIdentityToken");
        assert_eq!(
            with("iss", json!("https://issuer.example.com")).code,
            "InvalidIdentityToken"
        );
        assert_eq!(without("aud").message, "Missing a required claim: aud");
        assert_eq!(without("sub").message, "Missing a required claim: sub");
        assert_eq!(without("exp").message, "Missing a required claim: exp");
        // `azp` is the audience when present; `aud` is then `oaud`.
        let v = {
            let mut c = claims(ok.clone());
            c.insert("aud".into(), json!("https://api.example.com"));
            c.insert("azp".into(), json!("sts.amazonaws.com"));
            check_claims(c, &p, NOW).unwrap()
        };
        assert_eq!(v.audience, vec!["sts.amazonaws.com"]);
        assert_eq!(
            v.original_audience,
            Some(vec!["https://api.example.com".to_owned()])
        );
        assert_eq!(
            with("azp", json!("other")).message,
            "Incorrect token audience"
        );
    }

    #[test]
    fn garbage_is_no_jwt() {
        for t in ["abcd", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
            assert_eq!(
                unverified_issuer(t).unwrap_err().code,
                "InvalidIdentityToken",
                "{t}"
            );
        }
    }
}
